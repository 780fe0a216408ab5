"""Lecture 5: sparse modeling and compressed sensing. ISTA, FISTA, AMP, state evolution, OMP, the phase transition.

y = A x + w with a Bernoulli-Gaussian x (nonzero with probability p). The lab recovers a test batch with

- ISTA and FISTA for the LASSO ½‖y − A x‖² + λ‖x‖₁ (step 1/L), over a grid of λ (the best λ per
  iteration count is reported: a large λ is best after few ISTA iterations, a small one after many);
- AMP with the soft threshold and with the Bayes (MMSE) denoiser, against its state evolution (SE);
- OMP with k = round(p n) atoms, and the genie that knows the support (a lower bound);

and draws the phase transition of noise-free ℓ1 recovery (basis pursuit, a linear program) over
δ = m/n and ρ = k/m with the theoretical curve ρ*(δ) of Donoho and Tanner.

Settings: S1 (n 500, m 250, p 0.1, A ~ N(0, 1/m), SNR 40 dB; the TISTA paper) and S2 (n 300, m 150,
p 0.1, A ~ N(0, 1), noise std 0.05; the course notebook): ``dlsm run sparse setting=S2``. n, m, p,
snr_db / noise_std override the setting's values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm.algorithms.basis_pursuit import basis_pursuit
from dlsm.algorithms.sparse import (
    amp,
    column_scale,
    fista,
    genie_estimate,
    ista,
    l1_phase_transition,
    lipschitz,
    omp,
    se_fixed_point_nmse_db,
    state_evolution,
    tuned_soft_alpha,
)
from dlsm.config import LabConfig, param
from dlsm.errors import ConfigError
from dlsm.labs import Lab
from dlsm.metrics import nmse_db
from dlsm.plotting.sparse import plot_lambda_sweep, plot_nmse_iterations, plot_phase_transition, plot_signal
from dlsm.problems.sparse import SETTINGS, MatrixKind, SparseProblem, SparseSetting
from dlsm.result import Curve, ProgressFn, Result, no_progress, table_from_columns
from dlsm.status import Status
from dlsm.training import want_figures


@dataclass(frozen=True)
class Config(LabConfig):
    """ISTA, FISTA, AMP, OMP and the genie on one compressed-sensing setting, plus the ℓ1 phase transition."""

    setting: Literal["S1", "S2"] = param("S1", "S1: TISTA paper (A ~ N(0,1/m), 40 dB); S2: course notebook "
                                               "(A ~ N(0,1), noise std 0.05)")
    n: int | None = param(None, "signal length (none: the setting's)", ge=1, le=20_000)
    m: int | None = param(None, "number of measurements (none: the setting's; m > n is allowed)", ge=1, le=20_000)
    p: float | None = param(None, "probability that an entry of x is nonzero (none: the setting's)", gt=0, le=1)
    snr_db: float | None = param(None, "SNR E‖Ax‖²/E‖w‖² in dB (none: the setting's)")
    noise_std: float | None = param(None, "noise standard deviation σw instead of an SNR (none: the setting's)",
                                    ge=0)
    matrix: MatrixKind | None = param(None, "entries of A: gauss_1/m, gauss_1, rademacher, cond (none: the "
                                            "setting's)")
    cond: float | None = param(None, "condition number of A when matrix=cond", ge=1)
    batch: int = param(40, "test signals (NMSE is over all of them)", ge=1, le=100_000)
    iters: int = param(1000, "ISTA / FISTA iterations", ge=1, le=1_000_000)
    amp_iters: int = param(20, "AMP iterations", ge=1, le=100_000)
    lam: float | None = param(None, "LASSO penalty λ; none: the best of the grid lam_fracs", ge=0)
    lam_fracs: tuple[float, ...] = param((0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.075, 0.1, 0.2, 0.4),
                                         "λ grid as fractions of λ_max = ‖Aᵀy‖∞ (x̂ = 0 above it)", gt=0)
    pt_n: int = param(40, "signal length n of the phase-transition trials", ge=4, le=2000)
    pt_grid: int = param(7, "δ and ρ values of the phase-transition grid each (0: skip it)", ge=0, le=50)
    pt_trials: int = param(5, "random problems per phase-transition cell", ge=1, le=1000)

    quick = {"batch": 10, "iters": 200, "lam_fracs": (0.005, 0.02, 0.1, 0.3), "pt_n": 30, "pt_grid": 5,
             "pt_trials": 3}
    full = {"batch": 200, "pt_n": 100, "pt_grid": 12, "pt_trials": 16,
            "lam_fracs": (3e-4, 5e-4, 7.5e-4, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.035, 0.05,
                          0.065, 0.08, 0.1, 0.15, 0.2, 0.4)}

    def check(self) -> None:
        if self.snr_db is not None and self.noise_std is not None:
            raise ConfigError(f"give snr_db or noise_std, not both (got snr_db={self.snr_db}, "
                              f"noise_std={self.noise_std})", key="snr_db")
        self.sparse_setting()  # validates the combination (e.g. matrix=cond needs cond)

    def sparse_setting(self) -> SparseSetting:
        """The setting with this config's overrides."""
        base = SETTINGS[self.setting]
        noise = {"snr_db": base.snr_db, "noise_std": base.noise_std}
        if self.snr_db is not None:
            noise = {"snr_db": self.snr_db, "noise_std": None}
        elif self.noise_std is not None:
            noise = {"snr_db": None, "noise_std": self.noise_std}
        return SparseSetting(n=self.n or base.n, m=self.m or base.m, p=self.p or base.p, sigma_x=base.sigma_x,
                             matrix=self.matrix or base.matrix, cond=self.cond, **noise)


def group_nmse_db(x_hat: torch.Tensor, x: torch.Tensor, groups: int) -> np.ndarray:
    """NMSE [dB] of each of ``groups`` consecutive blocks of rows of x_hat (groups·batch, n) against x (batch, n)."""
    err = ((x_hat.reshape(groups, *x.shape) - x) ** 2).double().sum((1, 2))  # (groups,)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(err.cpu().numpy() / float((x.double() ** 2).sum()))


def lasso_sweep(solver, A: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lams: list[float], iters: int,
                tick) -> np.ndarray:
    """NMSE [dB] (iters, len(lams)) of ISTA or FISTA for every λ at once (λ stacked along the batch)."""
    k = len(lams)
    lam_rows = torch.tensor(lams, dtype=y.dtype).repeat_interleave(x.shape[0]).unsqueeze(1)  # (k·batch, 1)
    curve = np.empty((iters, k))

    def track(t: int, xt: torch.Tensor) -> None:
        curve[t - 1] = group_nmse_db(xt, x, k)
        tick({"nmse_db": float(curve[t - 1].min())})

    solver(A, y.repeat(k, 1), lam_rows, iters, step=1.0 / lipschitz(A), track=track)
    return curve


def phase_transition(n: int, grid: int, trials: int, generator: torch.Generator, tick) -> dict[str, np.ndarray]:
    """Success rate of basis pursuit (‖x̂ − x‖ / ‖x‖ < 1e-4, no noise, exactly k nonzeros, A ~ N(0, 1/m))."""
    deltas = np.linspace(0.2, 0.9, grid) if grid > 1 else np.array([0.5])
    rhos = np.linspace(0.05, 0.95, grid) if grid > 1 else np.array([0.3])
    success = np.zeros((len(rhos), len(deltas)))
    for j, delta in enumerate(deltas):
        m = max(1, round(delta * n))
        for i, rho in enumerate(rhos):
            k = max(1, round(rho * m))
            ok = 0
            for _ in range(trials):
                A = (torch.randn(m, n, generator=generator, dtype=torch.float64) / math.sqrt(m)).numpy()
                x = np.zeros(n)
                idx = torch.randperm(n, generator=generator)[:k].numpy()
                x[idx] = torch.randn(k, generator=generator, dtype=torch.float64).numpy()
                x_hat = basis_pursuit(A, A @ x)
                ok += bool(np.linalg.norm(x_hat - x) < 1e-4 * np.linalg.norm(x))
                tick({})
            success[i, j] = ok / trials
    return {"deltas": deltas, "rhos": rhos, "success": success}


def empirical_boundary(deltas: np.ndarray, rhos: np.ndarray, success: np.ndarray) -> np.ndarray:
    """ρ where the success rate crosses 1/2 in each δ column (linear interpolation; NaN if it never does)."""
    out = np.full(len(deltas), np.nan)
    for j in range(len(deltas)):
        s = success[:, j]
        for i in range(len(rhos) - 1):
            if s[i] >= 0.5 > s[i + 1]:
                out[j] = rhos[i] + (s[i] - 0.5) / (s[i] - s[i + 1]) * (rhos[i + 1] - rhos[i])
                break
    return out


HEADLINE = ("nmse_db", "se_fixed_point_db", "genie_nmse_db", "amp_bg_nmse_db", "amp_soft_nmse_db", "fista_nmse_db",
            "ista_nmse_db", "omp_nmse_db")


def run(config: Config, progress: ProgressFn | None = None) -> Result:
    progress = progress or no_progress
    setting = config.sparse_setting()
    g = torch.Generator().manual_seed(config.seed)
    prob = SparseProblem.create(setting, g)
    x, y = prob.draw(config.batch, g)  # (batch, n), (batch, m)
    A, n, m, p, sx2 = prob.A, prob.n, prob.m, prob.p, prob.sigma_x**2
    pt_cells = config.pt_grid**2 * config.pt_trials if config.pt_grid else 0
    total = 2 * config.iters + 2 * config.amp_iters + pt_cells
    done = [0]

    def tick(info) -> None:
        done[0] += 1
        progress(done[0], total, info)

    result = Result()
    metrics: dict = dict.fromkeys(HEADLINE)
    metrics.update(n=n, m=m, p=p, noise_std=prob.noise_std, snr_db=prob.snr_db, delta=m / n, rho=p * n / m,
                   diverged=False)
    result.metrics = metrics
    # ---- theory: state evolution (in units of A with unit-norm columns) and the ℓ1 transition
    s2 = column_scale(A) ** 2
    delta, nv = m / n, prob.noise_var / s2
    se = 10 * np.log10(np.asarray(state_evolution(delta, p, sx2, nv, config.amp_iters)) / (p * sx2))
    metrics["se_fixed_point_db"] = se_fixed_point_nmse_db(delta, p, sx2, nv)
    metrics["se_nmse_db"] = float(se[-1])
    metrics["l1_transition_rho"] = float(l1_phase_transition(delta))
    try:
        # ---- genie, OMP
        x_genie = genie_estimate(A, y, x != 0, prob.noise_var, sx2)
        metrics["genie_nmse_db"] = nmse_db(x_genie, x)
        x_omp = omp(A, y, max(1, round(p * n)))
        metrics["omp_nmse_db"] = nmse_db(x_omp, x)
        # ---- LASSO: ISTA and FISTA over the λ grid
        lam_max = float((y @ A).abs().amax(1).median())
        lams = [config.lam] if config.lam is not None else [f * lam_max for f in config.lam_fracs]
        ista_c = lasso_sweep(ista, A, x, y, lams, config.iters, tick)  # (iters, len(lams))
        fista_c = lasso_sweep(fista, A, x, y, lams, config.iters, tick)
        best_i, best_f = int(np.argmin(ista_c[-1])), int(np.argmin(fista_c[-1]))
        metrics.update(ista_nmse_db=float(ista_c[-1, best_i]), fista_nmse_db=float(fista_c[-1, best_f]),
                       ista_best_lam=lams[best_i], fista_best_lam=lams[best_f], lam_max=lam_max)
        for t in (20, 100):
            if t <= config.iters:
                metrics[f"ista_nmse_db_t{t}"] = float(ista_c[t - 1].min())
                metrics[f"ista_best_lam_t{t}"] = lams[int(np.argmin(ista_c[t - 1]))]
        # ---- AMP
        amp_c: dict[str, list[float]] = {"soft": [], "bg": []}
        alpha = tuned_soft_alpha(delta, p, sx2, nv)
        x_amp = {}
        for den in ("soft", "bg"):
            def track(t, xt, c=amp_c[den]):
                c.append(nmse_db(xt, x))
                tick({"nmse_db": c[-1]})
            x_amp[den] = amp(A, y, config.amp_iters, denoiser=den, p=p, sigma_x2=sx2, noise_var=prob.noise_var,
                             alpha=alpha, track=track)
        metrics.update(amp_soft_nmse_db=amp_c["soft"][-1], amp_bg_nmse_db=amp_c["bg"][-1], amp_soft_alpha=alpha)
        metrics["nmse_db"] = metrics["amp_bg_nmse_db"]
        metrics["diverged"] = not all(math.isfinite(v) for v in (*ista_c[-1], *fista_c[-1], *amp_c["bg"]))
        # ---- phase transition
        pt = None
        if config.pt_grid:
            pt = phase_transition(config.pt_n, config.pt_grid, config.pt_trials,
                                  torch.Generator().manual_seed(config.seed + 1), tick)
            boundary = empirical_boundary(pt["deltas"], pt["rhos"], pt["success"])
            theory = l1_phase_transition(pt["deltas"])
            ok = np.isfinite(boundary)
            metrics["pt_boundary_mae"] = float(np.mean(np.abs(boundary[ok] - theory[ok]))) if ok.any() else None
            result.tables["phase_transition"] = table_from_columns({
                "delta": np.repeat(pt["deltas"], len(pt["rhos"])), "rho": np.tile(pt["rhos"], len(pt["deltas"])),
                "success": pt["success"].T.ravel()})
            result.tables["phase_boundary"] = table_from_columns({
                "delta": pt["deltas"], "rho_empirical": boundary, "rho_theory": theory})
        else:
            metrics["pt_boundary_mae"] = None
            result.notes.append("Phase transition skipped (pt_grid=0).")
    except KeyboardInterrupt:
        result.status = Status.INTERRUPTED
        result.notes.append("Interrupted by the user; metrics not reached are None.")
        return result

    its = np.arange(1, config.iters + 1)
    result.curves["ista_nmse"] = Curve(its, ista_c[:, best_i], "iteration", "NMSE [dB] (ISTA, best final λ)")
    result.curves["fista_nmse"] = Curve(its, fista_c[:, best_f], "iteration", "NMSE [dB] (FISTA, best final λ)")
    ai = np.arange(1, config.amp_iters + 1)
    result.curves["amp_bg_nmse"] = Curve(ai, np.asarray(amp_c["bg"]), "iteration", "NMSE [dB] (Bayes AMP)")
    result.curves["amp_soft_nmse"] = Curve(ai, np.asarray(amp_c["soft"]), "iteration", "NMSE [dB] (soft AMP)")
    result.curves["se_nmse"] = Curve(ai, se, "iteration", "NMSE [dB] (state evolution)")
    sweep_cols = {"lam": lams, "lam_frac": [v / lam_max for v in lams]}
    for t in sorted({20, 100, config.iters}):
        if t <= config.iters:
            sweep_cols[f"ista_t{t}"] = ista_c[t - 1]
    sweep_cols[f"fista_t{config.iters}"] = fista_c[-1]
    result.tables["lambda_sweep"] = table_from_columns(sweep_cols)
    result.tables["methods"] = table_from_columns({
        "method": ["genie (support known)", "SE fixed point (Bayes AMP)", f"Bayes AMP t={config.amp_iters}",
                   f"soft AMP t={config.amp_iters}", f"FISTA t={config.iters}", f"ISTA t={config.iters}",
                   "OMP"],
        "nmse_db": [metrics[k] for k in ("genie_nmse_db", "se_fixed_point_db", "amp_bg_nmse_db", "amp_soft_nmse_db",
                                         "fista_nmse_db", "ista_nmse_db", "omp_nmse_db")]})
    if want_figures():
        name = f"{config.setting}: n={n}, m={m}, p={p:g}, SNR={prob.snr_db:.1f} dB"
        result.figures["nmse"] = plot_nmse_iterations(
            {"ISTA": ista_c[:, best_i], "FISTA": fista_c[:, best_f], "AMP (soft)": amp_c["soft"],
             "AMP (Bayes)": amp_c["bg"]}, se, metrics["se_fixed_point_db"], metrics["genie_nmse_db"], name)
        result.figures["lambda_sweep"] = plot_lambda_sweep(
            np.asarray(lams), {k: v for k, v in sweep_cols.items() if k.startswith(("ista", "fista"))})
        result.figures["signal"] = plot_signal(
            x[0].numpy(), {"AMP (Bayes)": x_amp["bg"][0].numpy(), "FISTA": _fista_best(A, y[:1], lams[best_f],
                                                                                        config.iters)})
        if pt is not None:
            cd = np.linspace(0.02, 0.98, 60)
            result.figures["phase_transition"] = plot_phase_transition(
                pt["deltas"], pt["rhos"], pt["success"], cd, l1_phase_transition(cd),
                point=(m / n, p * n / m) if m <= n and p * n / m <= 1 else None)
    result.notes += reading_notes(metrics, config)
    return result


def _fista_best(A: torch.Tensor, y: torch.Tensor, lam: float, iters: int) -> np.ndarray:
    return fista(A, y, lam, iters)[0].numpy()


def reading_notes(mt: dict, config: Config) -> list[str]:
    notes = [f"Bayes AMP reaches {mt['amp_bg_nmse_db']:.2f} dB after {config.amp_iters} iterations; state evolution "
             f"predicts {mt['se_nmse_db']:.2f} dB there and {mt['se_fixed_point_db']:.2f} dB at its fixed point; the "
             f"genie that knows the support reaches {mt['genie_nmse_db']:.2f} dB.",
             f"FISTA with its best λ reaches {mt['fista_nmse_db']:.2f} dB after {config.iters} iterations, ISTA "
             f"{mt['ista_nmse_db']:.2f} dB: the LASSO solution itself is limited by the shrinkage bias of the ℓ1 "
             "penalty, which the Bayes denoiser does not have."]
    if mt["rho"] > mt["l1_transition_rho"] and mt["m"] < mt["n"]:
        notes.append(f"ρ = pn/m = {mt['rho']:.3g} is above the ℓ1 phase transition ρ*(δ) = "
                     f"{mt['l1_transition_rho']:.3g}: ℓ1 recovery fails even without noise.")
    return notes


LAB = Lab(
    name="sparse",
    lecture=5,
    description="compressed sensing: ISTA, FISTA, AMP with state evolution, OMP, genie bound, ℓ1 phase transition",
    config=Config,
    run=run,
    headline=HEADLINE,
)
