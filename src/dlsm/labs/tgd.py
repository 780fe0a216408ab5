"""Lecture 6: trainable gradient descent (TGD), the simplest deep unfolding.

Course setting: f(x) = x1² + 8 x2² = ½ xᵀQx with Q = diag(2, 16); T = 5 steps x_{t+1} = x_t - β_t ∇f(x_t);
β_t trainable, initialised at 0.01; starts uniform in [-10, 10]²; batch 50; loss = mean squared distance
to the minimiser 0 after the last step; incremental training (generation g trains β_1..β_g on the error
after g steps), 1000 Adam steps per generation at learning rate 0.001. The gradient ∇f = Qx is exact (the
course used float32 finite differences), and the computation is float64.

Theory: after T steps x_T = Π_t (I - β_t Q) x_0, so the error vanishes for every start as soon as the
steps include 1/2 and 1/16 (1 - β λ = 0 for both eigenvalues λ = 2, 16): with T ≥ 2 training can reach
exactly zero, and it finds those steps. Fixed steps 0.08, 0.10, 0.12 and the best fixed step 2/(λmin+λmax)
only contract the error by a constant factor per step.

A harder case (``random_quadratic``): Q = AᵀA with A a 60×40 Gaussian matrix, T = 10; the learned
schedule is compared on the average error ratio E‖x_T‖²/E‖x_0‖² with the best constant step, Chebyshev
steps on [λmin, λmax] and the optimal 10-step schedule for this spectrum (:mod:`dlsm.algorithms.chebyshev`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm.algorithms.chebyshev import best_constant_step, chebyshev_steps, error_ratio, optimal_steps
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.labs import Lab
from dlsm.models.tgd import TrainableGD, fixed_steps_trajectory
from dlsm.result import Curve, ProgressFn, Result, table_from_columns
from dlsm.training import Generation, IncrementalLog, carry_status, offset_progress, train_incremental, want_figures
from dlsm.training.optim import OptimizerName

EIGENVALUES = (2.0, 16.0)  # Q = diag(2, 16): f = x1² + 8 x2²


@dataclass(frozen=True)
class Config(LabConfig):
    """TGD on x1² + 8 x2² (course), and optionally on a random 40-dimensional quadratic."""

    T: int = param(5, "number of unrolled gradient steps (course: 5)", ge=1, le=100)
    beta_init: float = param(0.01, "initial step β_t of every layer (course: 0.01)", gt=0)
    box: float = param(10.0, "starts uniform in [-box, box]² (course: 10)", gt=0)
    batch_size: int = param(50, "starts per training step (course: 50)", ge=1, le=100_000)
    steps_per_generation: int = param(1000, "optimizer steps per generation (course: 1000)", ge=1, le=1_000_000)
    optimizer: OptimizerName = param("adam", "optimizer of every generation (course: adam)")
    lr: float = param(0.001, "learning rate (学習係数) of every generation (course: 0.001)", gt=0)
    incremental: bool = param(True, "train generation by generation (course); false: all T steps at once, "
                                    "for T × steps_per_generation steps")
    fixed_steps: tuple[float, ...] = param((0.08, 0.10, 0.12), "fixed steps to compare with (course)", gt=0)
    n_test: int = param(10_000, "test starts for the squared error per iteration", ge=1, le=10_000_000)
    random_quadratic: bool = param(True, "also the harder case: Q = AᵀA, A Gaussian rq_m × rq_n, T = rq_T")
    rq_m: int = param(60, "rows of A in the harder case", ge=1, le=2000)
    rq_n: int = param(40, "dimension of x in the harder case (A is rq_m × rq_n; needs rq_m >= rq_n)", ge=1, le=1000)
    rq_T: int = param(10, "steps in the harder case", ge=1, le=100)
    rq_steps_per_generation: int = param(400, "Adam steps per generation in the harder case", ge=1, le=1_000_000)
    rq_lr: float = param(0.01, "Adam learning rate of log(β_t L) in the harder case", gt=0)
    rq_starts: Literal["frame", "gaussian"] = param(
        "frame", "starts per step in the harder case: frame = a fresh random orthonormal basis × √n (its mean "
                 "error is exactly the average over isotropic starts); gaussian = rq_batch_size N(0, I) starts")
    rq_batch_size: int = param(200, "Gaussian starts per step (rq_starts=gaussian)", ge=1, le=100_000)
    device: DeviceName = device_param()

    quick = {"T": 3, "steps_per_generation": 150, "lr": 0.01, "n_test": 2000, "rq_T": 4,
             "rq_steps_per_generation": 40, "rq_lr": 0.05}
    full = {"n_test": 100_000}

    def check(self) -> None:
        from dlsm.errors import ConfigError

        if self.random_quadratic and self.rq_m < self.rq_n:
            raise ConfigError(f"rq_m: got {self.rq_m} < rq_n = {self.rq_n}; Q = AᵀA is singular then (a zero "
                              "eigenvalue that no step can reduce); allowed: rq_m >= rq_n", key="rq_m")


def _train(model: TrainableGD, draw, config_steps: int, lr: float, optimizer: str, incremental: bool,
           generator: torch.Generator, name: str, progress: ProgressFn | None, loss_kind: str) -> IncrementalLog:
    """Incremental (or all-at-once) training of the steps; loss = mean ‖x_g‖² (or its log)."""
    T = model.T

    def loss_for(g: int):
        def loss(net: TrainableGD, x0: torch.Tensor) -> torch.Tensor:
            err = (net(x0, g) ** 2).sum(1).mean()  # mean ‖x_g - 0‖²
            return torch.log(err) if loss_kind == "log" else err
        return loss

    if incremental:
        gens = [Generation([model.theta], config_steps, lr) for _ in range(T)]
        return train_incremental(model, loss_for, draw, gens, optimizer=optimizer, name=name, progress=progress,
                                 generators={"data": generator}, skip_nonfinite=True)
    gens = [Generation([model.theta], config_steps * T, lr)]
    return train_incremental(model, lambda _g: loss_for(T), draw, gens, optimizer=optimizer, name=f"{name}-all",
                             progress=progress, generators={"data": generator}, skip_nonfinite=True)


def run(config: Config, progress: ProgressFn | None = None) -> Result:
    device = resolve_device(config.device)
    dtype = torch.float64
    generator = torch.Generator().manual_seed(config.seed)
    T = config.T
    total = T * config.steps_per_generation + (config.rq_T * config.rq_steps_per_generation
                                                if config.random_quadratic else 0)

    # ----- the course case: f = x1² + 8 x2² ---------------------------------------------------------------
    Q = torch.diag(torch.tensor(EIGENVALUES, dtype=dtype)).to(device)  # (2, 2)
    model = TrainableGD(Q, T, config.beta_init, "raw").to(device)

    def draw(_k: int) -> torch.Tensor:
        x0 = (2 * torch.rand(config.batch_size, 2, generator=generator, dtype=dtype) - 1) * config.box
        return x0.to(device)  # (batch, 2)

    log = _train(model, draw, config.steps_per_generation, config.lr, config.optimizer, config.incremental,
                 generator, "tgd", offset_progress(progress, 0, total), "mse")
    x_test = ((2 * torch.rand(config.n_test, 2, generator=generator, dtype=dtype) - 1) * config.box).to(device)
    lam_min, lam_max = EIGENVALUES
    schedules = {f"fixed {b:g}": torch.full((T,), b, dtype=dtype) for b in config.fixed_steps}
    schedules[f"best fixed 2/(λmin+λmax) = {best_constant_step(lam_min, lam_max):.4g}"] = torch.full(
        (T,), best_constant_step(lam_min, lam_max), dtype=dtype)
    schedules["Chebyshev steps"] = torch.as_tensor(chebyshev_steps(lam_min, lam_max, T), dtype=dtype)
    schedules["theory (1/2, 1/16, ...)"] = torch.as_tensor(optimal_steps(np.array(EIGENVALUES), T), dtype=dtype)
    with torch.no_grad():
        beta = model.beta.detach().cpu()  # (T,)
        errors = {"learned (TGD)": _sq_errors(model.trajectory(x_test))}
        for label, steps in schedules.items():
            errors[label] = _sq_errors(fixed_steps_trajectory(Q, x_test, steps.to(device)))

    result = Result()
    final = errors["learned (TGD)"][-1]
    result.metrics = {
        "sq_error": final,
        "log10_sq_error": math.log10(final) if final > 0 else -math.inf,
        "best_fixed_sq_error": errors[next(k for k in errors if k.startswith("best fixed"))][-1],
        "beta_sorted": ", ".join(f"{b:.6g}" for b in sorted(beta.tolist(), reverse=True)),
        "found_half_sixteenth": bool(T >= 2 and _has_steps(beta.numpy(), (0.5, 1 / 16))),
        "steps": log.steps_done,
        "n_params": T,
    }
    result.tables["steps"] = table_from_columns({"t": np.arange(1, T + 1), "learned beta_t": beta.numpy(),
                                                 "Chebyshev": schedules["Chebyshev steps"].numpy()})
    result.tables["error_per_iteration"] = table_from_columns(
        {"t": np.arange(T + 1), **{k: np.asarray(v) for k, v in errors.items()}})
    for g, glog in enumerate(log.logs, start=1):
        if glog.losses:
            result.curves[f"loss_generation{g}"] = Curve(np.asarray(glog.steps) + 1, np.asarray(glog.losses),
                                                         "step", f"training loss, generation {g}", log_y=True)
    result.curves["error_per_iteration"] = Curve(np.arange(T + 1), np.asarray(errors["learned (TGD)"]),
                                                 "iteration t", "mean squared error", log_y=True)
    result.notes.append(
        f"After T = {T} learned steps the mean squared error over {config.n_test} starts is {final:.3g} "
        f"(best fixed step: {result.metrics['best_fixed_sq_error']:.3g}). Learned steps, largest first: "
        f"{result.metrics['beta_sorted']}.")
    if T >= 2:
        result.notes.append(
            "Theory: x_T = Π_t (I - β_t Q) x_0 with Q = diag(2, 16), so the error is zero for every start once "
            "the steps include 1/2 and 1/16 (1 - β λ = 0 for λ = 2 and 16); "
            + ("training found them." if result.metrics["found_half_sixteenth"]
               else "training has not (yet) found them: more steps per generation or a larger learning rate."))
    else:
        result.notes.append("With T = 1 no single step zeroes both eigen-directions; the best single step for "
                            "these starts is 18/260 ≈ 0.0692 (it minimises (1-2β)² + (1-16β)²).")
    if not config.incremental:
        result.notes.append(f"Trained without incremental training: all {T} steps at once for "
                            f"{T * config.steps_per_generation} steps.")

    figures = {}
    if want_figures():
        from dlsm.plotting.unfold import plot_error_per_iteration, plot_steps

        figures["error_per_iteration"] = plot_error_per_iteration(
            errors, f"f = x1² + 8 x2²: squared error per iteration (T = {T})")
        figures["steps"] = plot_steps({"learned β_t": beta.numpy(),
                                       "Chebyshev steps": schedules["Chebyshev steps"].numpy(),
                                       "theory (1/2, 1/16, ...)": schedules["theory (1/2, 1/16, ...)"].numpy(),
                                       "best fixed": np.full(T, best_constant_step(lam_min, lam_max))},
                                      "learned steps β_t")
    result.artifacts["model"] = model.state_dict()

    # ----- the harder case: Q = AᵀA ------------------------------------------------------------------------
    rq_log = None
    if config.random_quadratic:
        rq_log = _random_quadratic(config, generator, device, result, figures,
                                   offset_progress(progress, T * config.steps_per_generation, total))
    result.figures.update(figures)
    full_log = log.as_fit_log()
    if rq_log is not None:
        full_log.steps_done += rq_log.steps_done
        full_log.skipped += rq_log.skipped
        if rq_log.status != full_log.status and full_log.status.value == "completed":
            full_log.status, full_log.message = rq_log.status, rq_log.as_fit_log().message
        result.metrics["steps"] = full_log.steps_done
    carry_status(full_log, result)
    return result


def _random_quadratic(config: Config, generator: torch.Generator, device: torch.device, result: Result,
                      figures: dict, progress: ProgressFn | None) -> IncrementalLog:
    dtype = torch.float64
    n, T = config.rq_n, config.rq_T
    A = torch.randn(config.rq_m, n, generator=generator, dtype=dtype)  # (m, n)
    Q = A.T @ A  # (n, n)
    lam = np.linalg.eigvalsh(Q.numpy())  # (n,)
    L = float(lam.max())
    model = TrainableGD(Q.to(device), T, 1.0 / L, "log").to(device)

    def draw(_k: int) -> torch.Tensor:
        if config.rq_starts == "gaussian":
            return torch.randn(config.rq_batch_size, n, generator=generator, dtype=dtype).to(device)  # (batch, n)
        U, _ = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=dtype))  # (n, n) orthogonal
        return (math.sqrt(n) * U).to(device)  # (n, n): rows are the starts

    log = _train(model, draw, config.rq_steps_per_generation, config.rq_lr, "adam", config.incremental,
                 generator, "tgd-random", progress, "log")
    learned = model.beta.detach().cpu().numpy()  # (T,)
    schedules = {"learned (TGD)": learned,
                 "best constant step": np.full(T, best_constant_step(float(lam.min()), L)),
                 "Chebyshev steps": chebyshev_steps(float(lam.min()), L, T),
                 f"optimal {T}-step schedule": optimal_steps(lam, T)}
    ratios = {k: error_ratio(lam, s) for k, s in schedules.items()}  # exact E‖x_t‖²/E‖x_0‖²
    db = {k: 10 * math.log10(v[-1]) for k, v in ratios.items()}
    opt_key = f"optimal {T}-step schedule"
    result.metrics.update({
        "rq_learned_db": db["learned (TGD)"], "rq_constant_db": db["best constant step"],
        "rq_chebyshev_db": db["Chebyshev steps"], "rq_optimal_db": db[opt_key],
        "rq_gap_db": db["learned (TGD)"] - db[opt_key], "rq_condition_number": L / float(lam.min()),
    })
    result.metrics["n_params"] = int(result.metrics["n_params"]) + T
    result.tables["random_quadratic"] = table_from_columns(
        {"t": np.arange(1, T + 1), **{k: np.sort(v)[::-1] for k, v in schedules.items()}})
    result.notes.append(
        f"Harder case Q = AᵀA (A {config.rq_m}×{n} Gaussian, κ = {L / lam.min():.3g}), T = {T}: average error ratio "
        f"E‖x_T‖²/E‖x_0‖² (exact, from the eigenvalues) learned {db['learned (TGD)']:.2f} dB, best constant step "
        f"{db['best constant step']:.2f} dB, Chebyshev steps {db['Chebyshev steps']:.2f} dB, optimal {T}-step "
        f"schedule {db[opt_key]:.2f} dB (gap {result.metrics['rq_gap_db']:.2f} dB).")
    result.artifacts["model_random_quadratic"] = model.state_dict()
    if want_figures():
        from dlsm.plotting.unfold import plot_error_per_iteration, plot_steps

        figures["random_quadratic_error"] = plot_error_per_iteration(
            ratios, f"Q = AᵀA ({config.rq_m}×{n}): average error ratio per iteration",
            ylabel="log10 E‖x_t‖² / E‖x_0‖²")
        figures["random_quadratic_steps"] = plot_steps({k: np.sort(v)[::-1] for k, v in schedules.items()},
                                                       "steps, largest first", log_y=True)
    return log


def _sq_errors(xs: list[torch.Tensor]) -> list[float]:
    """Mean ‖x_t‖² over the starts, per iteration (the minimiser is 0)."""
    return [float((x**2).sum(1).mean()) for x in xs]


def _has_steps(beta: np.ndarray, targets: tuple[float, ...], rtol: float = 1e-3) -> bool:
    return all(np.any(np.abs(beta - b) <= rtol * b) for b in targets)


LAB = Lab(
    name="tgd",
    lecture=6,
    description="trainable gradient descent: learned steps vs fixed, best constant and Chebyshev steps",
    config=Config,
    run=run,
    headline=("sq_error", "beta_sorted", "rq_learned_db", "rq_optimal_db", "rq_gap_db"),
)
