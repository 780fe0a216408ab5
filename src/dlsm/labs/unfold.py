"""Lecture 6: deep-unfolded sparse recovery (DU-ISTA, LISTA, TISTA, learned AMP) against ISTA, FISTA, AMP, limits.

Forward model (:mod:`dlsm.problems.sparse`): y = A x + w, x Bernoulli-Gaussian (p = 0.1, N(0, 1) values).
Setting S2 (the course, the default): n = 300, m = 150, A with N(0, 1) entries, noise std 0.05. Setting S1
(the TISTA paper): n = 500, m = 250, A with N(0, 1/m) entries, SNR 40 dB.

Each unfolded network (:mod:`dlsm.models.unfolded`) has T layers and is trained incrementally through the
engine: generation g trains layers 1..g on the error of layer g's output (the new layer starts from the last
one's parameters), on fresh batches drawn from the forward model, NaN-safe (a step with a non-finite gradient
is skipped and counted). The networks are trained for a fixed A, so the lab draws ``n_matrices`` matrices,
trains every method on each and reports the mean and spread of the test NMSE over the draws.

References lines: ISTA / FISTA with the best λ (chosen on a grid), AMP with the Bayes (MMSE) denoiser and its
state evolution (SE), the SE fixed point (the Bayes-optimal MSE predicted for this size ratio, when AMP
reaches it) and the genie (LMMSE on the true support: a lower bound no method without the support reaches).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm.algorithms.sparse import amp, fista, genie_estimate, ista, se_fixed_point_nmse_db, state_evolution
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.errors import ConfigError, DataError
from dlsm.labs import Lab
from dlsm.metrics import nmse_db
from dlsm.models.unfolded import DUISTA, LAMP, LISTA, TISTA, Unfolded
from dlsm.problems.sparse import SETTINGS, SparseProblem, SparseSetting
from dlsm.result import Curve, ProgressFn, Result, table_from_columns
from dlsm.training import Generation, IncrementalLog, carry_status, offset_progress, train_incremental, want_figures
from dlsm.training.loop import FitLog
from dlsm.training.optim import OptimizerName

#: Learned methods in the order they are trained and shown; label of each.
METHODS = {"du_ista": "DU-ISTA", "lista": "LISTA", "lista_tied": "LISTA (tied)", "tista": "TISTA",
           "lamp": "LAMP (learned AMP, MMSE)"}
ISTA_LAMBDAS = (0.3, 0.1, 0.03, 0.01, 0.003, 0.001)  # λ grid of plain ISTA, × λmax = median_i ‖Aᵀy_i‖∞


@dataclass(frozen=True)
class Config(LabConfig):
    """Unfolded ISTA/AMP networks trained incrementally on y = Ax + w; NMSE per layer against the classics."""

    setting: str = param("S2", "S2: the course (n=300, m=150, A~N(0,1), σ=0.05); S1: the TISTA paper "
                               "(n=500, m=250, A~N(0,1/m), SNR 40 dB)")
    m: int | None = param(None, "measurements m (none: the setting's)", ge=1, le=100_000)
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
            raise ConfigError(f"setting: got {self.setting!r}; allowed: one of: {', '.join(SETTINGS)}",
                              key="setting")
        s = self.sparse_setting()
        if self.tista and s.m > s.n:
            raise ConfigError(f"m: got m = {s.m} > n = {s.n}; TISTA's W = Aᵀ(AAᵀ)⁻¹ needs AAᵀ invertible "
                              "(m <= n); allowed: m <= n, or tista=false", key="m")

    def sparse_setting(self) -> SparseSetting:
        base = SETTINGS[self.setting]
        return SparseSetting(n=self.n or base.n, m=self.m or base.m, p=base.p, sigma_x=base.sigma_x,
                             matrix=base.matrix, cond=base.cond, snr_db=base.snr_db, noise_std=base.noise_std)


def build(method: str, A: torch.Tensor, T: int, problem: SparseProblem,
          du_beta_max: float | None = None) -> Unfolded:
    """The untrained network of ``method`` for matrix A (its ISTA / AMP starting point)."""
    if method == "du_ista":
        return DUISTA(A, T, beta_max=du_beta_max)
    if method == "lista":
        return LISTA(A, T)
    if method == "lista_tied":
        return LISTA(A, T, tied=True)
    if method == "tista":
        return TISTA(A, T, problem.noise_var, problem.p, problem.sigma_x**2)
    return LAMP(A, T, problem.p, problem.sigma_x**2)


def train(model: Unfolded, problem: SparseProblem, config: Config, generator: torch.Generator, name: str,
          progress: ProgressFn | None, lr: float, evaluate_on: tuple[torch.Tensor, torch.Tensor] | None = None,
          loss_kind: Literal["mse", "db"] = "mse") -> IncrementalLog:
    """Incremental training of ``model``: generation g trains layers 1..g on the loss of x̂_g, fresh batches.

    ``loss_kind``: ``"mse"``, the mean ‖x̂_g - x‖² over the batch, or ``"db"``, the batch NMSE in dB,
    10 log10(Σ‖x̂_g - x‖² / Σ‖x‖²). The two have the same minimiser batch by batch, but not the same
    gradient noise: the squared error of a batch is heavy-tailed (a few signals whose support is missed
    carry most of it), and in dB every batch weighs the same. On S2 this decides what DU-ISTA learns.
    With ``evaluate_on = (x, y)`` each generation ends with the test NMSE of its g-layer network
    (``test_nmse_db`` in the generation's log).
    """
    depth = [1]

    def loss_for(g: int):
        depth[0] = g
        if 1 < g and config.incremental:
            model.init_layer_from(g - 1)  # the new layer starts from the last one

        def loss(net: Unfolded, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
            x, y = batch
            err = ((net(y, g) - x) ** 2).sum(-1)  # (batch,) ‖x̂_g - x‖²
            if loss_kind == "db":
                return 10 * torch.log10(err.sum() / (x**2).sum())
            return err.mean()
        return loss

    def evaluate(net: Unfolded) -> dict[str, float]:
        x, y = evaluate_on
        return {"test_nmse_db": nmse_db(net(y, depth[0]), x)}

    options = {"evaluate": evaluate} if evaluate_on is not None else {}
    gens = [Generation(model.layer_params(t), config.steps_per_generation, lr) for t in range(model.T)]
    losses, run_name = loss_for, name
    if not config.incremental:  # one generation: every layer (all starting at the ISTA / AMP values) at once
        params = [p for t in range(model.T) for p in model.layer_params(t)]
        gens = [Generation(params, config.steps_per_generation * model.T, lr)]
        loss_all = loss_for(model.T)
        depth[0] = model.T
        losses, run_name = (lambda _g: loss_all), f"{name}-all"
    return train_incremental(model, losses, lambda _k: problem.draw(config.batch_size, generator), gens,
                             optimizer=config.optimizer, schedule=config.lr_schedule, name=run_name,
                             progress=progress, generators={"data": generator}, skip_nonfinite=True, **options)


def _per_layer(xs: list[torch.Tensor], x: torch.Tensor) -> np.ndarray:
    return np.array([nmse_db(xt, x) for xt in xs])


def _classic(problem: SparseProblem, x: torch.Tensor, y: torch.Tensor, T: int) -> dict[str, np.ndarray]:
    """Per-iteration NMSE of ISTA and FISTA (best λ of a grid at iteration T) and AMP with the MMSE denoiser."""
    A = problem.A
    lam_max = float((y @ A).abs().max(dim=1).values.median())  # above it, x̂ = 0
    best = None
    for c in ISTA_LAMBDAS:
        lam = c * lam_max
        traj: list[torch.Tensor] = []
        ista(A, y, lam, T, track=lambda _t, xt, traj=traj: traj.append(xt))
        curve = _per_layer(traj, x)
        if best is None or curve[-1] < best[1][-1]:
            best = (lam, curve)
    lam, out_ista = best
    traj = []
    fista(A, y, lam, T, track=lambda _t, xt: traj.append(xt))
    out = {"ista": out_ista, "fista": _per_layer(traj, x)}
    traj = []
    amp(A, y, T, denoiser="bg", p=problem.p, sigma_x2=problem.sigma_x**2, noise_var=problem.noise_var,
        track=lambda _t, xt: traj.append(xt))
    out["amp"] = _per_layer(traj, x)
    out["ista_lambda"] = np.array([lam])
    return out


def _load(path: str) -> dict:
    from pathlib import Path

    file = Path(path)
    if file.is_dir():
        file = file / "artifacts.pt"
    if not file.is_file():
        raise ConfigError(f"load: got {path!r}; no such run folder or artifacts.pt of the unfold lab", key="load")
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # damaged file or foreign objects
        raise DataError(f"cannot read trained models from {file}: {exc}") from None


def run(config: Config, progress: ProgressFn | None = None) -> Result:
    device = resolve_device(config.device)
    setting = config.sparse_setting()
    g_problem = torch.Generator().manual_seed(config.seed)  # A draws and test sets
    g_train = torch.Generator().manual_seed(config.seed + 1_000_003)  # training batches only
    T = config.T
    methods = [k for k in METHODS if getattr(config, k)]
    saved = _load(config.load) if config.load else None
    steps_each = T * config.steps_per_generation
    total = max(1, len(methods) * config.n_matrices * steps_each) if saved is None else 1
    delta = setting.m / setting.n

    curves: dict[str, list[np.ndarray]] = {}
    after_gen: dict[str, list[np.ndarray]] = {}
    genie, lambdas, logs = [], [], []
    artifacts: dict = {"config": {"setting": config.setting, "T": T, "m": setting.m, "n": setting.n}}
    learned_params: dict[str, dict[str, np.ndarray]] = {}
    example = {}
    done = 0
    problem = None
    for a in range(config.n_matrices):
        problem = SparseProblem.create(setting, g_problem, device=device, dtype=torch.float32)
        x, y = problem.draw(config.n_test, g_problem)  # (n_test, n), (n_test, m)
        for key, v in _classic(problem, x, y, T).items():
            if key == "ista_lambda":
                lambdas.append(float(v[0]))
            else:
                curves.setdefault(key, []).append(v)
        gen_est = genie_estimate(problem.A, y, x != 0, problem.noise_var, problem.sigma_x**2)
        genie.append(nmse_db(gen_est, x))
        for method in methods:
            model = build(method, problem.A, T, problem, config.du_beta_max).to(device)
            key = f"{method}/{a}"
            if saved is not None:
                if key not in saved:
                    raise ConfigError(f"load: {config.load} has no trained {METHODS[method]} for draw {a}; it was "
                                      f"run with {saved.get('config')}", key="load")
                try:
                    model.load_state_dict(saved[key])
                except RuntimeError as exc:
                    raise ConfigError(f"load: the saved {METHODS[method]} does not fit this config "
                                      f"({saved.get('config')}): {str(exc).splitlines()[0]}", key="load") from None
            else:
                lr = config.lista_lr if method.startswith("lista") else config.lr
                log = train(model, problem, config, g_train, f"{method}{a}-generation",
                            offset_progress(progress, done, total), lr, evaluate_on=(x, y),
                            loss_kind=config.du_loss if method == "du_ista" else "mse")
                done += steps_each
                logs.append(log)
                if config.incremental:
                    after_gen.setdefault(method, []).append(
                        np.array([glog.history.get("test_nmse_db", [math.nan])[-1] for glog in log.logs]
                                 + [math.nan] * (T - len(log.logs))))
            model.eval()
            with torch.no_grad():
                traj = model.trajectory(y)
            curves.setdefault(method, []).append(_per_layer(traj, x))
            artifacts[key] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            if a == 0:
                learned_params[method] = {k: v.cpu().numpy() for k, v in model.learned().items()}
                example[method] = traj[-1][0].cpu().numpy()
        if a == 0:
            example["x"] = x[0].cpu().numpy()

    se = 10 * np.log10(np.array(state_evolution(delta, setting.p, setting.sigma_x**2,
                                                problem.noise_var / (float((problem.A**2).sum()) / setting.n),
                                                T)) / (setting.p * setting.sigma_x**2))
    se_fp = se_fixed_point_nmse_db(delta, setting.p, setting.sigma_x**2,
                                   problem.noise_var / (float((problem.A**2).sum()) / setting.n))
    return _result(config, curves, after_gen, se, se_fp, genie, lambdas, logs, artifacts, learned_params,
                   example, methods)


def _result(config: Config, curves: dict, after_gen: dict, se: np.ndarray, se_fp: float, genie: list,
            lambdas: list, logs: list, artifacts: dict, learned_params: dict, example: dict,
            methods: list[str]) -> Result:
    T = config.T
    labels = {"ista": "ISTA (best λ)", "fista": "FISTA (best λ)", "amp": "AMP (MMSE)", **METHODS}
    mean = {k: np.mean(np.stack(v), 0) for k, v in curves.items()}  # (T,) mean dB over draws
    lo = {k: np.min(np.stack(v), 0) for k, v in curves.items()}
    hi = {k: np.max(np.stack(v), 0) for k, v in curves.items()}
    result = Result()
    m: dict = {}
    for k in mean:
        m[f"{k}_nmse_db"] = float(mean[k][-1])
        m[f"{k}_nmse_db_std"] = float(np.std(np.stack(curves[k])[:, -1])) if config.n_matrices > 1 else None
    m["se_nmse_db"] = float(se[-1])
    m["se_fixed_point_nmse_db"] = float(se_fp)
    m["genie_nmse_db"] = float(np.mean(genie))
    trained = [k for k in methods if k in mean]
    best = min(trained, key=lambda k: mean[k][-1]) if trained else None
    m["nmse_db"] = float(mean[best][-1]) if best else None
    m["best_method"] = METHODS[best] if best else None
    if "du_ista" in mean:
        m["du_ista_monotone"] = bool(np.all(np.diff(mean["du_ista"]) <= 0.05))
    for k, v in after_gen.items():
        av = np.nanmean(np.stack(v), 0)
        for t in (8, 12):
            if t <= T:
                m[f"{k}_nmse_db_T{t}"] = float(av[t - 1])
    m["ista_lambda"] = float(np.mean(lambdas))
    m["n_matrices"] = config.n_matrices
    log = FitLog()
    for lg in logs:
        fl = lg.as_fit_log()
        log.steps_done += fl.steps_done
        log.skipped += fl.skipped
        if fl.status != log.status and log.status.value == "completed":
            log.status, log.message = fl.status, fl.message
    m["steps"] = log.steps_done
    result.metrics = m
    carry_status(log, result)
    result.metrics.setdefault("skipped_steps", log.skipped)

    t = np.arange(1, T + 1)
    result.tables["nmse_per_layer"] = table_from_columns({"t": t, **{labels[k]: mean[k] for k in mean},
                                                          "state evolution": se})
    if after_gen:
        result.tables["nmse_after_generation"] = table_from_columns(
            {"T": t, **{labels[k]: np.nanmean(np.stack(v), 0) for k, v in after_gen.items()}})
    for k in mean:
        result.curves[f"nmse_{k}"] = Curve(t, mean[k], "layer t", f"{labels[k]} NMSE [dB]")
    for k, params in learned_params.items():  # the per-layer scalars learned on the first A
        per_layer = {name: v for name, v in params.items() if np.shape(v) == (T,)}
        if per_layer:
            result.tables[f"params_{k}"] = table_from_columns({"t": t, **per_layer})
    result.artifacts = artifacts
    spread = "" if config.n_matrices == 1 else f" (mean over {config.n_matrices} draws of A; ± std)"
    lines = [f"{labels[k]} {m[f'{k}_nmse_db']:.2f} dB" + (f" ± {m[f'{k}_nmse_db_std']:.2f}"
                                                         if m[f"{k}_nmse_db_std"] is not None else "")
             for k in mean]
    result.notes.append(f"NMSE at T = {T}{spread}: " + ", ".join(lines) + f"; state evolution {se[-1]:.2f} dB, "
                        f"its fixed point {se_fp:.2f} dB, genie {m['genie_nmse_db']:.2f} dB.")
    if "du_ista" in mean:
        result.notes.append("DU-ISTA's layers are " + ("each no worse than the one before."
                                                       if m["du_ista_monotone"] else
                                                       "not monotone: some layer is worse than the one before."))
        if config.incremental or config.lr_schedule == "constant":
            result.notes.append("DU-ISTA learns most when all layers are trained at once, long, with a decaying "
                                "learning rate: incremental=false lr_schedule=cosine steps_per_generation=1000 "
                                "batch_size=256 (T = 20: 20,000 steps; BENCHMARKS.md, 'DU-ISTA trained long').")
    if config.load:
        result.notes.append(f"Trained models loaded from {config.load} (no training in this run).")
    if want_figures():
        from dlsm.plotting.unfold import plot_nmse_per_layer, plot_parameters, plot_signal

        result.figures["nmse_per_layer"] = plot_nmse_per_layer(
            {labels[k]: (t, mean[k]) for k in mean} | {"AMP state evolution": (t, se)},
            {"SE fixed point (Bayes-optimal)": se_fp, "genie (support known)": m["genie_nmse_db"]},
            f"{config.setting}: NMSE per layer" + spread,
            spread={labels[k]: (lo[k], hi[k]) for k in mean} if config.n_matrices > 1 else None)
        for k, params in learned_params.items():
            result.figures[f"params_{k}"] = plot_parameters(params, f"{labels[k]}: learned parameters per layer")
        if "x" in example:
            result.figures["signal"] = plot_signal(
                example["x"], {labels[k]: v for k, v in example.items() if k != "x"}, "a test signal and estimates")
    return result


LAB = Lab(
    name="unfold",
    lecture=6,
    description="deep unfolding for sparse recovery: DU-ISTA, LISTA, TISTA vs ISTA, FISTA, AMP and the limits",
    config=Config,
    run=run,
    headline=("du_ista_nmse_db", "lista_nmse_db", "tista_nmse_db", "amp_nmse_db", "se_fixed_point_nmse_db"),
)
