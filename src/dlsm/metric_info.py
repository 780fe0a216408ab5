"""What every metric means: one line and a unit, for ``dlsm show``, the run summary and the report.

    from dlsm.metric_info import describe
    describe("linreg", "excess")   # ("loss above the least-squares loss, relative: L/L* - 1", "ratio")

A name means the same in every lab unless the lab lists it in :data:`LAB_METRICS` (for example
``max_abs_error``, which is a gradient error in ``autograd`` and an output error in ``gates``). Families of
names (``ser_<detector>``, ``<method>_nmse_db``) are described by :data:`PATTERNS`. The unit is ``""`` for a
plain number (a count without a natural unit, a ratio, a flag) and otherwise says what the number counts.

Adding a lab: add its metrics that are not in :data:`METRICS` (or that mean something else in it) to
:data:`LAB_METRICS` under the lab's name; ``tests/test_metric_info.py`` runs every registered lab at quick
size and lists the metrics that have no meaning yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Meaning = tuple[str, str]  # (one-line meaning, unit)

#: Metrics shared by several labs, with one meaning everywhere.
METRICS: dict[str, Meaning] = {
    "diverged": ("True when the iteration or training blew up (a non-finite or exploding value)", ""),
    "converged": ("True when the run met its convergence test", ""),
    "steps": ("optimizer updates done", "steps"),
    "steps_run": ("iterations (updates) actually done; fewer than asked when the run stopped early", "steps"),
    "epochs": ("passes over the training set done", "epochs"),
    "n_params": ("trainable parameters of the model", "parameters"),
    "test_accuracy": ("share of test examples classified correctly", "fraction"),
    "train_accuracy": ("share of training examples classified correctly", "fraction"),
    "test_loss": ("loss on the test set at the end of training", "loss"),
    "train_loss": ("loss on the training set at the end of training", "loss"),
    "nmse_db": ("normalised MSE of the estimate, 10 log10(Σ‖x̂ - x‖² / Σ‖x‖²)", "dB"),
    "ser": ("symbol error rate: share of wrongly detected symbols", "fraction"),
    "device": ("device the model ran on (cpu or cuda)", ""),
    "train_seconds": ("wall-clock time spent training (differs between runs and machines)", "s"),
    "skipped_steps": ("optimizer steps skipped because the gradient was not finite", "steps"),
    "lr": ("learning rate (step size) used", ""),
    "lr_max": ("largest stable learning rate of gradient descent, 2/λmax of the loss Hessian", ""),
    "lambda_min": ("smallest eigenvalue of the loss Hessian", ""),
    "lambda_max": ("largest eigenvalue of the loss Hessian", ""),
    "condition_number": ("condition number κ = λmax/λmin of the loss Hessian (large: slow gradient descent)", ""),
    "rate_theory": ("per-step contraction factor of the error that theory predicts", ""),
    "f_final": ("value of the objective f at the last iterate", ""),
    "learned": ("True when the network's output is on the right side of 0.5 for all four inputs", ""),
    "table_loss": ("loss on the four inputs of the truth table at the end", "loss"),
    "n_classes": ("number of classes", "classes"),
    "n_train": ("training examples used", "examples"),
    "n_val": ("validation examples held out of the training set (0: no validation split)", "examples"),
    "n_test": ("test examples used", "examples"),
}

#: Metrics of one lab (a lab's entry wins over :data:`METRICS`).
LAB_METRICS: dict[str, dict[str, Meaning]] = {
    "activations": {
        "sigmoid_max_slope": ("largest derivative σ'(u) on the plotted range (theory: 1/4 at u = 0)", ""),
        "tanh_max_slope": ("largest derivative tanh'(u) on the plotted range (theory: 1 at u = 0)", ""),
        "diverged": ("always False: nothing iterates in this lab", ""),
    },
    "gd1d": {
        "s_final": ("last iterate s", ""),
        "grad_final": ("derivative f'(s) at the last iterate", ""),
        "converged": ("True when |f'(s)| fell below grad_tol without diverging", ""),
        "minimiser": ("the local minimiser x* nearest to the last iterate", ""),
        "lr_max_local": ("largest step a that converges near x*, 2/f''(x*)", ""),
        "local_rate": ("per-step contraction |1 - a f''(x*)| of the distance to x* near x*", ""),
    },
    "gd2d": {
        "x1_final": ("first coordinate x1 of the last iterate", ""),
        "x2_final": ("second coordinate x2 of the last iterate", ""),
        "error_final": ("squared distance ‖x - x*‖² of the last iterate to the minimiser", ""),
        "converged": ("True when the final squared error is below tol without diverging", ""),
        "behaviour": ("one verdict from the iterates: converged, converging, oscillates or diverges", ""),
        "rate_measured": ("measured per-step contraction of the error along the slowest direction", ""),
        "rate_theory": ("per-step contraction that theory predicts for the chosen optimizer", ""),
        "theory_regime_gd": ("what theory predicts for plain gradient descent at this learning rate", ""),
        "lr_max": ("largest stable learning rate of gradient descent, 2/λmax", ""),
        "lr_opt": ("learning rate with the fastest gradient descent, 2/(λmin + λmax)", ""),
        "rate_theory_gd": ("per-step contraction of plain gradient descent at this learning rate, max|1 - αλ|", ""),
        "rate_opt": ("per-step contraction of gradient descent at lr_opt, (κ - 1)/(κ + 1)", ""),
        "lambda_min": ("smallest eigenvalue of the Hessian of f", ""),
        "lambda_max": ("largest eigenvalue of the Hessian of f", ""),
        "condition_number": ("condition number κ = λmax/λmin of the Hessian of f", ""),
    },
    "quadfit": {
        "a": ("fitted a of f(x) = a x² + b x + c (gradient descent)", ""),
        "b": ("fitted b (gradient descent)", ""),
        "c": ("fitted c (gradient descent)", ""),
        "a_ls": ("least-squares a (numpy lstsq, the oracle)", ""),
        "b_ls": ("least-squares b", ""),
        "c_ls": ("least-squares c", ""),
        "distance_to_ls": ("distance ‖Θ - Θ*‖ of the gradient-descent parameters to the least-squares ones", ""),
        "loss_final": ("loss 1/(2n) Σ (y - f(x))² at the last step", ""),
        "loss_ls": ("loss at the least-squares parameters (the lowest possible)", ""),
        "rate_theory": ("per-step contraction of the error that theory predicts, max|1 - αλ|", ""),
    },
    "backprop": {
        "max_rel_err_fd": ("largest relative error of a backprop gradient against central finite differences", ""),
        "max_rel_err_autograd": ("largest relative error of a backprop gradient against PyTorch autograd", ""),
        "grad_check_passed": ("True when every gradient check is below the tolerance 1e-6", ""),
        "max_abs_error": ("largest |output - target| over the four inputs", ""),
    },
    "gates": {
        "success_rate": ("share of seeds whose network learned the gate", "fraction"),
        "n_success": ("seeds whose network learned the gate", "seeds"),
        "n_seeds": ("seeds trained", "seeds"),
        "max_abs_error": ("largest |output - target| over the four inputs (first seed)", ""),
        "final_batch_loss": ("loss on the last mini-batch (first seed)", "loss"),
        "table_loss": ("loss on the four inputs of the truth table at the end (first seed)", "loss"),
    },
    "classify": {
        "test_errors": ("test images classified wrongly", "images"),
        "model": ("network used (mlp, cnn, ...)", ""),
        "activation": ("hidden activation actually used", ""),
        "augmentation": ("data augmentation used during training", ""),
        "best_step": ("update at which the kept model was best on the validation (or test) set", "steps"),
        "stopped_early": ("True when early stopping ended training before the budget", ""),
        "epochs": ("passes over the training set done (fractional when the budget ends mid-epoch)", "epochs"),
    },
    "autograd": {
        "y": ("y = w x + b at the course's point (x, w, b)", ""),
        "dy_dw": ("∂y/∂w by autograd (by hand: x)", ""),
        "dy_db": ("∂y/∂b by autograd (by hand: 1)", ""),
        "dy_dx": ("∂y/∂x by autograd (by hand: w)", ""),
        "max_abs_error": ("largest |autograd - hand-derived| derivative over all checks", ""),
        "n_checks": ("derivatives compared with a hand-derived formula", "checks"),
        "diverged": ("always False: nothing iterates in this lab", ""),
    },
    "linreg": {
        "loss": ("mean squared error of gradient descent's fit after the last step", "yield²"),
        "lstsq_loss": ("mean squared error of the least-squares fit (the lowest possible)", "yield²"),
        "excess": ("loss above the least-squares loss, relative: L/L* - 1", "ratio"),
        "prediction": ("yield predicted at predict_at by gradient descent's fit", "yield"),
        "lstsq_prediction": ("yield predicted at predict_at by the least-squares fit", "yield"),
        "lr": ("learning rate α used (the default depends on standardize)", ""),
        "lr_max": ("largest stable α, 2/λmax of the MSE's Hessian H = (2/n)AᵀA", ""),
        "stable_by_theory": ("True when α < 2/λmax, so theory says gradient descent converges", ""),
        "loss_initial": ("loss at the random initial w, b", "yield²"),
        "steps_to_tol": ("first step whose loss is within tol of the least-squares loss (None: never)", "steps"),
    },
    "regression": {
        "best_test_loss": ("lowest test MSE over the epochs", "loss"),
        "best_epoch": ("epoch with the lowest test MSE", "epochs"),
        "noise_var": ("variance σ² of the noise added to the targets", ""),
        "test_floor": ("test MSE of the true function f itself: the noise that no model can predict", "loss"),
        "fit_error": ("mean squared distance of the fitted curve from f on [-1, 1]", ""),
    },
    "mimo": {
        "ser": ("symbol error rate of the learned detector (ser_detector) at the operating SNR", "fraction"),
        "ser_detector": ("detector whose SER is the headline ser", ""),
        "snr_db": ("operating SNR per receive antenna, n/σ²", "dB"),
        "noise_std": ("noise standard deviation σ at the operating SNR", ""),
        "ser_zf_theory": ("SER of zero forcing predicted in closed form for the fixed channel", "fraction"),
        "nn_over_ml": ("SER of the neural detector divided by the SER of ML (1: optimal)", "ratio"),
        "tpg_over_ml": ("SER of TPG divided by the SER of ML (1: optimal)", "ratio"),
        "tpgsearch_over_ml": ("SER of TPG + local search divided by the SER of ML", "ratio"),
        "lmmse_over_tpg": ("SER of LMMSE divided by the SER of TPG (> 1: TPG is better)", "ratio"),
        "train_loss": ("training loss (MSE) of the neural detector at the end", "loss"),
        "tpg_train_loss": ("training loss (MSE) of the TPG detector at the end", "loss"),
        "symbols_counted": ("symbols simulated at the operating SNR, over all detectors", "symbols"),
        "tpg_alpha": ("learned α of TPG's W = Hᵀ(HHᵀ + α σ² I)⁻¹, in units of the noise variance σ²", ""),
        "tpg_validation_ser": ("SER of the kept TPG on the validation vectors (drawn apart from the test vectors)",
                               "fraction"),
        "tpg_restart_kept": ("which TPG training run (restart 0, 1, ...) had the lowest validation SER and is kept",
                             ""),
    },
    "tgd": {
        "sq_error": ("mean squared error ‖x_T‖² after the T learned steps, on test starts", ""),
        "log10_sq_error": ("log10 of sq_error", "log10"),
        "best_fixed_sq_error": ("mean squared error after T steps of the best fixed step size", ""),
        "beta_sorted": ("learned step sizes β_t, largest first", ""),
        "found_half_sixteenth": ("True when the learned steps include 1/2 and 1/16 (1/λ of both eigenvalues)", ""),
        "rq_learned_db": ("random quadratic: error ratio E‖x_T‖²/E‖x_0‖² of the learned schedule", "dB"),
        "rq_constant_db": ("random quadratic: error ratio of the best constant step", "dB"),
        "rq_chebyshev_db": ("random quadratic: error ratio of Chebyshev steps on [λmin, λmax]", "dB"),
        "rq_optimal_db": ("random quadratic: error ratio of the optimal schedule for this spectrum", "dB"),
        "rq_gap_db": ("random quadratic: learned minus optimal error ratio (0: training found the optimum)", "dB"),
        "rq_condition_number": ("random quadratic: condition number of Q = AᵀA", ""),
    },
    "sparse": {
        "nmse_db": ("NMSE of the best practical method (AMP with the Bayes denoiser)", "dB"),
        "se_fixed_point_db": ("NMSE at AMP's state-evolution fixed point (Bayes-optimal when AMP reaches it)", "dB"),
        "se_nmse_db": ("NMSE that state evolution predicts for AMP after the last iteration", "dB"),
        "l1_transition_rho": ("Donoho-Tanner ℓ1 phase transition ρ*(δ) at this δ (ρ below it: recovery)", ""),
        "n": ("signal length n", ""),
        "m": ("number of measurements m", ""),
        "p": ("probability that an entry of x is nonzero", ""),
        "noise_std": ("standard deviation of the measurement noise", ""),
        "snr_db": ("signal-to-noise ratio E‖Ax‖²/E‖w‖²", "dB"),
        "delta": ("undersampling ratio δ = m/n", ""),
        "rho": ("sparsity ratio ρ = k/m with k = p n nonzeros", ""),
        "lam_max": ("λ above which the LASSO solution is 0, max|Aᵀy| (median over the batch)", ""),
        "ista_best_lam": ("λ of the grid with the lowest ISTA NMSE after all iterations", ""),
        "fista_best_lam": ("λ of the grid with the lowest FISTA NMSE after all iterations", ""),
        "amp_soft_alpha": ("threshold factor α of AMP's soft threshold (tuned by state evolution)", ""),
        "pt_boundary_mae": ("mean |empirical - theoretical| ρ of the ℓ1 phase-transition boundary", ""),
    },
    "unfold": {
        "se_nmse_db": ("NMSE that AMP's state evolution predicts after T iterations", "dB"),
        "se_fixed_point_nmse_db": ("NMSE at the state-evolution fixed point (Bayes-optimal when AMP reaches it)",
                                   "dB"),
        "genie_nmse_db": ("NMSE of the genie (LMMSE on the true support): a lower bound", "dB"),
        "nmse_db": ("NMSE of the best learned method", "dB"),
        "best_method": ("learned method with the lowest NMSE", ""),
        "du_ista_monotone": ("True when DU-ISTA's NMSE decreases layer by layer (within 0.05 dB)", ""),
        "ista_lambda": ("threshold λ of ISTA chosen on a grid (mean over the matrices)", ""),
        "n_matrices": ("sensing matrices A drawn; every method is trained and tested on each", "matrices"),
    },
    "diffusion": {
        "alpha_bar_T": ("ᾱ_T: signal power left after the whole forward process (0: pure noise)", ""),
        "terminal_signal": ("√ᾱ_T: share of x_0's amplitude left in x_T", ""),
        "train_loss": ("noise-prediction MSE at the end of training", "loss"),
        "first_loss": ("noise-prediction MSE at the first step", "loss"),
        "ema_differs": ("True when the EMA weights (the ones sampled) differ from the raw weights", ""),
        "energy_distance": ("energy distance of the samples to held-out data (0: same distribution)", ""),
        "energy_floor": ("energy distance of a second held-out set (what a perfect model gets)", ""),
        "energy_noise": ("energy distance of N(0, I) noise (what no model gets)", ""),
        "energy_error": ("standard deviation of the energy distance between two held-out sets", ""),
        "precision": ("share of samples within the k-NN radius of the data (Kynkäänniemi et al.)", "fraction"),
        "recall": ("share of data within the k-NN radius of the samples", "fraction"),
        "precision_floor": ("precision of a second held-out set", "fraction"),
        "recall_floor": ("recall of a second held-out set", "fraction"),
        "precision_noise": ("precision of N(0, I) noise", "fraction"),
        "recall_noise": ("recall of N(0, I) noise", "fraction"),
        "off_share": ("share of samples farther than off_radius from the clean curve", "fraction"),
        "off_floor": ("off_share of a second held-out set", "fraction"),
        "off_noise": ("off_share of N(0, I) noise", "fraction"),
        "off_radius": ("distance from the clean curve beyond which a sample counts as off", ""),
        "nonfinite_samples": ("samples with a NaN or infinite coordinate", "samples"),
    },
    "vae": {
        "test_elbo": ("ELBO on the test digits (higher is better)", "nats/image"),
        "test_kl": ("KL(q(z|x) ‖ p(z)) on the test digits", "nats/image"),
        "train_elbo": ("ELBO on the training digits at the end", "nats/image"),
        "first_test_elbo": ("test ELBO after the first epoch", "nats/image"),
        "latent_dim": ("dimension of the latent z", ""),
    },
}

#: Metrics of the generated-digit judge, shared by the VAE and the digit DDPM.
_DIGIT_QUALITY: dict[str, Meaning] = {
    "confident_share": ("share of samples the lecture-3 CNN classifies with confidence > 0.9", "fraction"),
    "class_entropy": ("entropy of the CNN's predicted-class histogram of the samples (log 10 ≈ 2.30: all digits "
                      "equally often)", "nats"),
    "frechet": ("Fréchet distance of CNN features between samples and held-out digits (0: same)", ""),
    "confident_floor": ("confident_share of held-out digits", "fraction"),
    "frechet_floor": ("Fréchet distance of a second set of held-out digits", ""),
    "frechet_noise": ("Fréchet distance of noise images", ""),
    "judge_accuracy": ("test accuracy of the CNN that judges the samples", "fraction"),
}
LAB_METRICS["vae"].update(_DIGIT_QUALITY)
LAB_METRICS["diffusion"].update(_DIGIT_QUALITY)

_DETECTORS = {"zf": "zero forcing", "lmmse": "LMMSE", "kbest": "K-best", "ep": "expectation propagation (EP)",
              "ml": "maximum likelihood (ML)", "map": "symbol-wise MAP", "nn": "neural (the course's)",
              "tpg": "trainable projected gradient (TPG)", "tpgsearch": "TPG + local search"}
_METHODS = {"ista": "ISTA", "fista": "FISTA", "amp": "AMP", "du_ista": "DU-ISTA", "lista": "LISTA",
            "lista_tied": "LISTA (tied)", "tista": "TISTA", "lamp": "learned AMP", "omp": "OMP",
            "genie": "the genie (LMMSE on the true support)", "amp_bg": "AMP with the Bayes denoiser",
            "amp_soft": "AMP with the soft threshold"}
_ACTIVATIONS = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU", "softplus": "softplus"}

#: Families of names: (lab or None for every lab, regular expression, meaning of a match).
PATTERNS: list[tuple[str | None, re.Pattern[str], Callable[[re.Match[str]], Meaning]]] = [
    ("mimo", re.compile(r"ser_(\w+)"),
     lambda m: (f"symbol error rate of the {_DETECTORS.get(m[1], m[1])} detector at the operating SNR (None: "
                "not run)", "fraction")),
    ("sparse", re.compile(r"ista_nmse_db_t(\d+)"),
     lambda m: (f"lowest ISTA NMSE over the λ grid after {m[1]} iterations", "dB")),
    ("sparse", re.compile(r"ista_best_lam_t(\d+)"),
     lambda m: (f"λ of the grid with the lowest ISTA NMSE after {m[1]} iterations", "")),
    ("sparse", re.compile(r"(\w+)_nmse_db"),
     lambda m: (f"test NMSE of {_METHODS.get(m[1], m[1])} (for ISTA/FISTA: at the best λ)", "dB")),
    ("unfold", re.compile(r"(\w+)_nmse_db_std"),
     lambda m: (f"standard deviation of {_METHODS.get(m[1], m[1])}'s NMSE over the sensing matrices (None: one "
                "matrix)", "dB")),
    ("unfold", re.compile(r"(\w+)_nmse_db"),
     lambda m: (f"test NMSE of {_METHODS.get(m[1], m[1])} after T iterations (mean over the matrices)", "dB")),
    ("activations", re.compile(r"(\w+)_max_abs_diff_vs_autograd"),
     lambda m: (f"largest |closed-form - autograd| derivative of {_ACTIVATIONS.get(m[1], m[1])} on the grid", "")),
]


def lookup(lab: str, name: str) -> Meaning | None:
    """The (meaning, unit) of metric ``name`` of ``lab``, or None when nobody described it yet."""
    own = LAB_METRICS.get(lab, {})
    if name in own:
        return own[name]
    for scope, pattern, meaning in PATTERNS:
        if scope in (None, lab):
            match = pattern.fullmatch(name)
            if match:
                return meaning(match)
    return METRICS.get(name)


def describe(lab: str, name: str) -> Meaning:
    """The (meaning, unit) of metric ``name`` of ``lab``; KeyError naming the file to edit when unknown."""
    found = lookup(lab, name)
    if found is None:
        raise KeyError(f"metric {name!r} of lab {lab!r} has no meaning yet: add it to LAB_METRICS[{lab!r}] "
                       "(or METRICS) in src/dlsm/metric_info.py")
    return found


def missing(lab: str, names: list[str] | tuple[str, ...]) -> list[str]:
    """The names among ``names`` that have no meaning for ``lab``."""
    return [n for n in names if lookup(lab, n) is None]
