"""Lecture 6: deep-unfolded sparse recovery (DU-ISTA, LISTA, TISTA, learned AMP and VAMP) against ISTA, FISTA, AMP,
VAMP and the limits.

Forward model (:mod:`dlsm.problems.sparse`): y = A x + w, x Bernoulli-Gaussian (p = 0.1, N(0, 1) values).
Setting S2 (the course, the default): n = 300, m = 150, A with N(0, 1) entries, noise std 0.05. Setting S1
(the TISTA paper): n = 500, m = 250, A with N(0, 1/m) entries, SNR 40 dB. ``matrix=cond cond=15`` replaces A by
the LAMP paper's ill-conditioned matrix (Haar singular vectors, condition number 15, ‖A‖_F² = n).

Each unfolded network (:mod:`dlsm.models.unfolded`) has T layers and is trained incrementally through the
engine: generation g trains layers 1..g on the error of layer g's output (the new layer starts from the last
one's parameters), on fresh batches drawn from the forward model, NaN-safe (a step with a non-finite gradient
is skipped and counted). The networks are trained for a fixed A, so the lab draws ``n_matrices`` matrices,
trains every method on each and reports the mean and spread of the test NMSE over the draws.

References lines: ISTA / FISTA with the best λ (chosen on a grid), AMP with the Bayes (MMSE) denoiser and its
state evolution (SE), VAMP with the same denoiser and its SE over the drawn A's singular values (Rangan, Schniter,
Fletcher 2019: the limit learned VAMP is measured against, also for ill-conditioned A), the AMP SE fixed point
(the Bayes-optimal MSE predicted for this size ratio, when AMP reaches it) and the genie (LMMSE on the true
support: a lower bound no method without the support reaches).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm import outcome
from dlsm.algorithms.sparse import genie_estimate, se_fixed_point_nmse_db, state_evolution
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.labs._unfold_train import ISTA_LAMBDAS, Ending, TrainPlan, classic, load_saved, per_layer, train, vamp_limit
from dlsm.memory import guard
from dlsm.metrics import nmse_db
from dlsm.models.unfolded import DUISTA, LAMP, LISTA, LVAMP, TISTA, Unfolded
from dlsm.outcome import Notes, metric
from dlsm.problems.sparse import SETTINGS, MatrixKind, SparseProblem, SparseSetting
from dlsm.result import Curve, ProgressFn, table_from_columns
from dlsm.seeds import generator
from dlsm.status import Status
from dlsm.training import offset_progress
from dlsm.training.optim import OptimizerName

__all__ = ["ISTA_LAMBDAS", "LAB", "METHODS", "Config", "Outcome", "TrainPlan", "build", "compute", "figures",
           "notes", "run", "train"]

#: Learned methods in the order they are trained and shown; label of each (the tables' column names).
METHODS = {"du_ista": "DU-ISTA", "lista": "LISTA", "lista_tied": "LISTA (tied)", "tista": "TISTA",
           "lamp": "LAMP (learned AMP, MMSE)", "lvamp": "LVAMP (learned VAMP)"}
#: Every method's label in the tables (the classical references, then the learned methods).
LABELS = {"ista": "ISTA (best λ)", "fista": "FISTA (best λ)", "amp": "AMP (MMSE)", "vamp": "VAMP (MMSE)", **METHODS}


@dataclass(frozen=True)
class Config(LabConfig):
    """Unfolded ISTA/AMP networks trained incrementally on y = Ax + w; NMSE per layer against the classics."""

    setting: str = param("S2", "S2: the course (n=300, m=150, A~N(0,1), σ=0.05); S1: the TISTA paper "
                               "(n=500, m=250, A~N(0,1/m), SNR 40 dB)")
    m: int | None = param(None, "measurements m (none: the setting's)", ge=1, le=100_000)
    matrix: MatrixKind | None = param(None, "entries of A: gauss_1/m, gauss_1, rademacher, cond (none: the "
                                            "setting's)")
    cond: float | None = param(None, "condition number of A when matrix=cond (the LAMP paper: 15)", ge=1)
    n: int | None = param(None, "signal length n (none: the setting's)", ge=1, le=100_000)
    T: int = param(20, "layers = iterations of every method (course: 20)", ge=1, le=500)
    steps_per_generation: int = param(100, "optimizer steps per generation (course: 50)", ge=1, le=1_000_000)
    batch_size: int = param(64, "signals per training step (course: 20)", ge=1, le=100_000)
    optimizer: OptimizerName = param("adam", "optimizer of every generation (course: adam)")
    lr: float = param(0.01, "learning rate (学習係数) of the per-layer scalars (log-steps, thresholds, γ_t)", gt=0)
    lr_schedule: Literal["constant", "cosine"] = param(
        "constant", "learning rate within each generation: constant (course), or cosine decay to 0 over its steps")
    incremental: bool = param(True, "train generation by generation (course); false: all T layers at once for "
                                    "T × steps_per_generation steps")
    du_beta_max: float | None = param(None, "cap on DU-ISTA's steps β_t·L (none: no cap, β_t·L = exp(b_t)); 2 keeps "
                                            "every layer non-expansive", gt=1)
    du_loss: Literal["db", "mse"] = param("db", "DU-ISTA's training loss: the batch NMSE in dB, 10 log10(Σ‖x̂-x‖² / "
                                                "Σ‖x‖²), or the mean ‖x̂-x‖² (the course)")
    lista_lr: float = param(1e-4, "learning rate of LISTA's matrices and thresholds", gt=0)
    du_ista: bool = param(True, "train DU-ISTA (learned β_t, λ_t)")
    lista: bool = param(True, "train LISTA (learned matrices per layer)")
    lista_tied: bool = param(True, "train weight-tied LISTA (one pair of matrices for every layer)")
    tista: bool = param(True, "train TISTA (learned γ_t; needs m <= n)")
    lamp: bool = param(False, "train learned AMP with the MMSE denoiser (stretch goal)")
    lvamp: bool = param(False, "train learned VAMP (learned damping, noise and denoiser scales per layer)")
    n_matrices: int = param(1, "draws of A; every method is trained and tested on each, mean and spread "
                               "reported", ge=1, le=100)
    n_test: int = param(1000, "test signals per draw of A", ge=1, le=1_000_000)
    load: str | None = param(None, "a run folder (or its artifacts.pt) of this lab: load its trained models "
                                   "instead of training (same setting, T, seed)")
    device: DeviceName = device_param()

    quick = {"T": 4, "steps_per_generation": 15, "n_test": 200, "batch_size": 32}
    full = {"n_matrices": 3, "steps_per_generation": 200, "n_test": 2000}

    def check(self) -> None:
        if self.setting not in SETTINGS:
            raise ConfigError.not_one_of("setting", self.setting, SETTINGS)
        s = self.sparse_setting()
        if self.tista and s.m > s.n:
            raise ConfigError(t("unfold.err.tista_m", m=s.m, n=s.n), key="m")
        guard("unfold", memory_bytes(self), key="n")  # a size this machine cannot hold: refused before any run


    def sparse_setting(self) -> SparseSetting:
        base = SETTINGS[self.setting]
        return SparseSetting(n=self.n or base.n, m=self.m or base.m, p=base.p, sigma_x=base.sigma_x,
                             matrix=self.matrix or base.matrix, cond=base.cond if self.cond is None else self.cond,
                             snr_db=base.snr_db, noise_std=base.noise_std)


def memory_bytes(config: Config) -> float:
    """The largest memory a run holds at once (bytes, an order of magnitude): A (m, n) in float32 with its Gram
    matrix and pseudo-inverse (TISTA), LISTA's matrices B (n, m) and S (n, n) per layer (T pairs, one when tied)
    with their gradients and Adam's two moments (×4), and the T layers' activations of a training batch and of the
    test signals (×3 for backpropagation)."""
    s = config.sparse_setting()
    n, m, T = s.n, s.m, config.T
    pairs = T * config.lista + config.lista_tied
    matrices = 4 * pairs * (n * m + n * n)
    activations = 3 * T * (config.batch_size + config.n_test) * (n + m)
    return 4.0 * (3 * m * n + n * n + matrices + activations)


def build(method: str, A: torch.Tensor, T: int, problem: SparseProblem,
          du_beta_max: float | None = None) -> Unfolded:
    """The untrained network of ``method`` (a key of :data:`METHODS`) for matrix A (its ISTA / AMP starting
    point); ValueError for any other name."""
    if method == "du_ista":
        return DUISTA(A, T, beta_max=du_beta_max)
    if method == "lista":
        return LISTA(A, T)
    if method == "lista_tied":
        return LISTA(A, T, tied=True)
    if method == "tista":
        return TISTA(A, T, problem.noise_var, problem.p, problem.sigma_x**2)
    if method == "lamp":
        return LAMP(A, T, problem.p, problem.sigma_x**2)
    if method == "lvamp":
        return LVAMP(A, T, problem.noise_var, problem.p, problem.sigma_x**2)
    raise ValueError(f"unknown unfolded method {method!r}; known: {', '.join(METHODS)}")


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """Test NMSE after T layers / iterations of every method (mean over the draws of A), the limits, training.

    A learned method that was not trained has no metrics at all; its ``_std`` is None (present) when it was
    trained on one draw of A only.
    """

    ista_nmse_db: float = metric("dB")
    ista_nmse_db_std: float | None = metric("dB")
    fista_nmse_db: float = metric("dB")
    fista_nmse_db_std: float | None = metric("dB")
    amp_nmse_db: float = metric("dB", headline=True)
    amp_nmse_db_std: float | None = metric("dB")
    vamp_nmse_db: float = metric("dB")
    vamp_nmse_db_std: float | None = metric("dB")
    du_ista_nmse_db: float | None = metric("dB", headline=True, default=None, skip_none=True)
    du_ista_nmse_db_std: float | None = metric("dB", default=None)
    lista_nmse_db: float | None = metric("dB", headline=True, default=None, skip_none=True)
    lista_nmse_db_std: float | None = metric("dB", default=None)
    lista_tied_nmse_db: float | None = metric("dB", default=None, skip_none=True)
    lista_tied_nmse_db_std: float | None = metric("dB", default=None)
    tista_nmse_db: float | None = metric("dB", headline=True, default=None, skip_none=True)
    tista_nmse_db_std: float | None = metric("dB", default=None)
    lamp_nmse_db: float | None = metric("dB", default=None, skip_none=True)
    lamp_nmse_db_std: float | None = metric("dB", default=None)
    lvamp_nmse_db: float | None = metric("dB", default=None, skip_none=True)
    lvamp_nmse_db_std: float | None = metric("dB", default=None)
    se_nmse_db: float = metric("dB")
    vamp_se_nmse_db: float = metric("dB")
    se_fixed_point_nmse_db: float = metric("dB", headline=True)
    genie_nmse_db: float = metric("dB")
    nmse_db: float | None = metric("dB")
    best_method: str | None = metric()
    du_ista_monotone: bool | None = metric(default=None, skip_none=True)
    # test NMSE of the first 8 (12) layers right after generation 8 (12) of incremental training
    du_ista_nmse_db_T8: float | None = metric("dB", default=None, skip_none=True)
    du_ista_nmse_db_T12: float | None = metric("dB", default=None, skip_none=True)
    lista_nmse_db_T8: float | None = metric("dB", default=None, skip_none=True)
    lista_nmse_db_T12: float | None = metric("dB", default=None, skip_none=True)
    lista_tied_nmse_db_T8: float | None = metric("dB", default=None, skip_none=True)
    lista_tied_nmse_db_T12: float | None = metric("dB", default=None, skip_none=True)
    tista_nmse_db_T8: float | None = metric("dB", default=None, skip_none=True)
    tista_nmse_db_T12: float | None = metric("dB", default=None, skip_none=True)
    lamp_nmse_db_T8: float | None = metric("dB", default=None, skip_none=True)
    lamp_nmse_db_T12: float | None = metric("dB", default=None, skip_none=True)
    lvamp_nmse_db_T8: float | None = metric("dB", default=None, skip_none=True)
    lvamp_nmse_db_T12: float | None = metric("dB", default=None, skip_none=True)
    ista_lambda: float = metric()
    n_matrices: int = metric()
    steps: int = metric("steps")
    diverged: bool = metric()
    skipped_steps: int = metric("steps")
    methods: tuple[str, ...] = ()  # the learned methods of this run (not a metric)

    @property
    def metrics(self) -> dict:
        """As :attr:`dlsm.outcome.Outcome.metrics`, without the spread of a learned method that did not run
        (None there means one draw of A, so it cannot stand for 'not run')."""
        out = super().metrics
        for method in METHODS:
            if method not in self.methods:
                out.pop(f"{method}_nmse_db_std", None)
        return out


@dataclass
class _Draws:
    """What the draws of A gave: per-layer NMSE per method and draw, the limits, the trained models."""

    curves: dict[str, list[np.ndarray]]
    after_gen: dict[str, list[np.ndarray]]
    genie: list[float]
    vamp_se: list[np.ndarray]
    lambdas: list[float]
    logs: list
    artifacts: dict
    learned_params: dict[str, dict[str, np.ndarray]]
    example: dict[str, np.ndarray]


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    device = resolve_device(config.device)
    setting = config.sparse_setting()
    g_problem = generator(config.seed, "main")  # A draws and test sets
    g_train = generator(config.seed, "init")  # training batches only
    T = config.T
    methods = [k for k in METHODS if getattr(config, k)]
    saved = load_saved(config.load) if config.load else None
    steps_each = T * config.steps_per_generation
    total = max(1, len(methods) * config.n_matrices * steps_each) if saved is None else 1
    delta = setting.m / setting.n
    plan = TrainPlan.of(config)

    d = _Draws({}, {}, [], [], [], [], {"config": {"setting": config.setting, "T": T, "m": setting.m, "n": setting.n}},
               {}, {})
    done = 0
    problem = None
    for a in range(config.n_matrices):
        problem = SparseProblem.create(setting, g_problem, device=device, dtype=torch.float32)
        x, y = problem.draw(config.n_test, g_problem)  # (n_test, n), (n_test, m)
        classic_curves, lam = classic(problem, x, y, T)
        for key, v in classic_curves.items():
            d.curves.setdefault(key, []).append(v)
        d.lambdas.append(float(lam))
        gen_est = genie_estimate(problem.A, y, x != 0, problem.noise_var, problem.sigma_x**2)
        d.genie.append(nmse_db(gen_est, x))
        d.vamp_se.append(vamp_limit(problem, T))
        for method in methods:
            model = build(method, problem.A, T, problem, config.du_beta_max).to(device)
            key = f"{method}/{a}"
            if saved is not None:
                if key not in saved:
                    held = sorted({k.split("/")[0] for k in saved if "/" in k}) or [t("unfold.err.nothing_held")]
                    raise ConfigError(t("unfold.err.load_missing", load=config.load, method=METHODS[method], draw=a,
                                        held=", ".join(held), name=method), key="load")
                try:
                    model.load_state_dict(saved[key])
                except RuntimeError as exc:
                    raise ConfigError(t("unfold.err.load_mismatch", method=METHODS[method], saved=saved.get("config"),
                                        reason=str(exc).splitlines()[0]), key="load") from None
            else:
                lr = config.lista_lr if method.startswith("lista") else config.lr
                log = train(model, problem, plan, g_train, f"{method}{a}-generation",
                            offset_progress(progress, done, total), lr, evaluate_on=(x, y),
                            loss_kind=config.du_loss if method == "du_ista" else "mse")
                done += steps_each
                d.logs.append(log)
                if config.incremental:
                    d.after_gen.setdefault(method, []).append(
                        np.array([glog.history.get("test_nmse_db", [math.nan])[-1] for glog in log.logs]
                                 + [math.nan] * (T - len(log.logs))))
            model.eval()
            with torch.no_grad():
                traj = model.trajectory(y)
            d.curves.setdefault(method, []).append(per_layer(traj, x))
            d.artifacts[key] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            if a == 0:
                d.learned_params[method] = {k: v.cpu().numpy() for k, v in model.learned().items()}
                d.example[method] = traj[-1][0].cpu().numpy()
        if a == 0:
            d.example["x"] = x[0].cpu().numpy()

    noise = problem.noise_var / (float((problem.A**2).sum()) / setting.n)
    se = 10 * np.log10(np.array(state_evolution(delta, setting.p, setting.sigma_x**2, noise, T))
                       / (setting.p * setting.sigma_x**2))
    se_fp = se_fixed_point_nmse_db(delta, setting.p, setting.sigma_x**2, noise)
    return _outcome(config, d, se, se_fp, methods)


def _outcome(config: Config, d: _Draws, se: np.ndarray, se_fp: float, methods: list[str]) -> Outcome:
    T = config.T
    stacked = {k: np.stack(v) for k, v in d.curves.items()}  # (draws, T) dB per method
    mean = {k: np.mean(v, 0) for k, v in stacked.items()}  # (T,) mean dB over draws
    m: dict = {}
    for k in mean:
        m[f"{k}_nmse_db"] = float(mean[k][-1])
        m[f"{k}_nmse_db_std"] = float(np.std(stacked[k][:, -1])) if config.n_matrices > 1 else None
    trained = [k for k in methods if k in mean]
    best = min(trained, key=lambda k: mean[k][-1]) if trained else None
    with warnings.catch_warnings():  # a generation that diverged everywhere is NaN: its mean stays NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        after = {k: np.nanmean(np.stack(v), 0) for k, v in d.after_gen.items()}  # (T,) test NMSE after generation g
    for k, av in after.items():
        for depth in (8, 12):
            if depth <= T:
                m[f"{k}_nmse_db_T{depth}"] = float(av[depth - 1])
    ending = Ending.of(d.logs)
    layers = np.arange(1, T + 1)
    vamp_se = np.mean(np.stack(d.vamp_se), 0)  # (T,) VAMP's SE, mean dB over the draws of A
    tables = {"nmse_per_layer": table_from_columns({"t": layers, **{LABELS[k]: mean[k] for k in mean},
                                                    "state evolution": se, "VAMP state evolution": vamp_se})}
    if after:
        tables["nmse_after_generation"] = table_from_columns({"T": layers, **{LABELS[k]: v for k, v in after.items()}})
    for k, params in d.learned_params.items():  # the per-layer scalars learned on the first A
        per_layer_params = {name: v for name, v in params.items() if np.shape(v) == (T,)}
        if per_layer_params:
            tables[f"params_{k}"] = table_from_columns({"t": layers, **per_layer_params})
    names = _legends()
    curves = {f"nmse_{k}": Curve(layers, mean[k], t("unfold.label.layer_t"), f"{names[k]} NMSE [dB]") for k in mean}
    return Outcome(
        **m,
        se_nmse_db=float(se[-1]),
        vamp_se_nmse_db=float(vamp_se[-1]),
        se_fixed_point_nmse_db=float(se_fp),
        genie_nmse_db=float(np.mean(d.genie)),
        nmse_db=float(mean[best][-1]) if best else None,
        best_method=METHODS[best] if best else None,
        du_ista_monotone=bool(np.all(np.diff(mean["du_ista"]) <= 0.05)) if "du_ista" in mean else None,
        ista_lambda=float(np.mean(d.lambdas)),
        n_matrices=config.n_matrices,
        steps=ending.steps,
        diverged=ending.diverged,
        skipped_steps=ending.skipped,
        methods=tuple(methods),
        status=ending.status,
        tables=tables,
        curves=curves,
        artifacts=d.artifacts,
        data={"mean": mean, "lo": {k: np.min(v, 0) for k, v in stacked.items()},
              "hi": {k: np.max(v, 0) for k, v in stacked.items()}, "se": se, "vamp_se": vamp_se, "ending": ending,
              "learned_params": d.learned_params, "example": d.example},
    )


def _legends() -> dict[str, str]:
    """Every method's name in the figures and notes, in the current language."""
    return {"ista": t("unfold.legend.ista"), "fista": t("unfold.legend.fista"), "amp": t("unfold.legend.amp"),
            "vamp": t("unfold.legend.vamp"), "du_ista": t("unfold.legend.du_ista"), "lista": t("unfold.legend.lista"),
            "lista_tied": t("unfold.legend.lista_tied"), "tista": t("unfold.legend.tista"),
            "lamp": t("unfold.legend.lamp"), "lvamp": t("unfold.legend.lvamp")}


def notes(config: Config, out: Outcome) -> Notes:
    """The NMSE of every method at T against the limits, DU-ISTA's monotonicity, how training ended; apart,
    what the limits are and how DU-ISTA learns most."""
    names = _legends()
    m = out.metrics
    found = Notes()
    lines = [t("unfold.note.method_nmse", method=names[k], nmse=m[f"{k}_nmse_db"]) if m[f"{k}_nmse_db_std"] is None
             else t("unfold.note.method_nmse_std", method=names[k], nmse=m[f"{k}_nmse_db"], std=m[f"{k}_nmse_db_std"])
             for k in out.data["mean"]]
    spread = "" if config.n_matrices == 1 else t("unfold.note.spread", n=config.n_matrices)
    found.measured.append(t("unfold.note.nmse_at_T", T=config.T, spread=spread,
                            methods=t("unfold.word.separator").join(lines), se=out.se_nmse_db,
                            se_fp=out.se_fixed_point_nmse_db, lmmse=out.genie_nmse_db))
    found.measured.append(t("unfold.note.vamp_se", T=config.T, vamp=out.vamp_nmse_db, se=out.vamp_se_nmse_db))
    if out.du_ista_monotone is not None:
        found.measured.append(t("unfold.note.du_ista_monotone") if out.du_ista_monotone
                              else t("unfold.note.du_ista_not_monotone"))
    if config.load:
        found.measured.append(t("unfold.note.loaded", path=config.load))
    ending: Ending = out.data["ending"]
    if ending.status == Status.INTERRUPTED:
        found.measured.append(t("unfold.note.interrupted", steps=ending.steps))
    elif ending.diverged:
        found.measured.append(t("unfold.note.diverged", steps=ending.steps, loss=ending.loss, first=ending.first_loss))
        found.measured.append(t("training.diverged_setting", setting="lr", value=config.lr))
        found.explanations.append(t("unfold.note.diverged_why"))
    found.explanations.append(t("unfold.note.limits"))
    found.explanations.append(t("unfold.note.vamp_limit"))
    if "du_ista" in out.methods and (config.incremental or config.lr_schedule == "constant"):
        found.explanations.append(t("unfold.note.du_ista_long"))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """NMSE per layer of every method against the limits, the learned parameters per layer, a test signal."""
    from dlsm.plotting.unfold import plot_nmse_per_layer, plot_parameters, plot_signal

    names = _legends()
    mean, lo, hi = out.data["mean"], out.data["lo"], out.data["hi"]
    layers = np.arange(1, config.T + 1)
    spread = "" if config.n_matrices == 1 else t("unfold.title.spread", n=config.n_matrices)
    drawn = {"nmse_per_layer": plot_nmse_per_layer(
        {names[k]: (layers, mean[k]) for k in mean} | {t("unfold.legend.se"): (layers, out.data["se"]),
                                                       t("unfold.legend.vamp_se"): (layers, out.data["vamp_se"])},
        {t("unfold.legend.se_fixed_point"): out.se_fixed_point_nmse_db, t("unfold.legend.genie"): out.genie_nmse_db},
        t("unfold.title.nmse_per_layer", setting=config.setting) + spread,
        spread={names[k]: (lo[k], hi[k]) for k in mean} if config.n_matrices > 1 else None)}
    for k, params in out.data["learned_params"].items():
        drawn[f"params_{k}"] = plot_parameters(params, t("unfold.title.params", method=names[k]))
    example = out.data["example"]
    if "x" in example:
        drawn["signal"] = plot_signal(example["x"], {names[k]: v for k, v in example.items() if k != "x"},
                                      t("unfold.title.signal"))
    return drawn


LAB = Lab(
    name="unfold",
    lecture=6,
    description="deep unfolding for sparse recovery: DU-ISTA, LISTA, TISTA vs ISTA, FISTA, AMP and the limits",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
    headline=("du_ista_nmse_db", "lista_nmse_db", "tista_nmse_db", "amp_nmse_db", "se_fixed_point_nmse_db"),
)
run = LAB.run
