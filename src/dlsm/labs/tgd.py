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

from dlsm import outcome
from dlsm.algorithms.chebyshev import best_constant_step, chebyshev_steps, error_ratio, optimal_steps
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.labs._unfold_train import Ending
from dlsm.models.tgd import TrainableGD, fixed_steps_trajectory
from dlsm.outcome import Notes, metric
from dlsm.result import Curve, ProgressFn, table_from_columns
from dlsm.seeds import generator as stream
from dlsm.status import Status
from dlsm.training import Generation, IncrementalLog, offset_progress, train_incremental
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
            raise ConfigError(t("tgd.err.rq_m", rq_m=self.rq_m, rq_n=self.rq_n), key="rq_m")


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


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """The learned steps on x1² + 8 x2² against fixed ones, and (``random_quadratic``) on Q = AᵀA."""

    sq_error: float = metric(headline=True)
    log10_sq_error: float = metric()
    best_fixed_sq_error: float = metric()
    beta_sorted: str = metric(headline=True)
    found_half_sixteenth: bool = metric()
    steps: int = metric("steps")
    n_params: int = metric("parameters")
    rq_learned_db: float | None = metric("dB", headline=True, default=None, skip_none=True)
    rq_constant_db: float | None = metric("dB", default=None, skip_none=True)
    rq_chebyshev_db: float | None = metric("dB", default=None, skip_none=True)
    rq_optimal_db: float | None = metric("dB", headline=True, default=None, skip_none=True)
    rq_gap_db: float | None = metric("dB", headline=True, default=None, skip_none=True)
    rq_condition_number: float | None = metric(default=None, skip_none=True)
    diverged: bool = metric()
    skipped_steps: int | None = metric("steps", default=None, skip_none=True)


def _column(kind: str, value: float = 0.0) -> str:
    """A schedule's column in the tables (the run folder keeps these names; the figures translate them)."""
    return {"learned": "learned (TGD)", "fixed": f"fixed {value:g}",
            "best_fixed": f"best fixed 2/(λmin+λmax) = {value:.4g}", "chebyshev": "Chebyshev steps",
            "theory": "theory (1/2, 1/16, ...)", "constant": "best constant step",
            "optimal": f"optimal {value:g}-step schedule"}[kind]


def _legend(kind: str, value: float = 0.0) -> str:
    """A schedule's name in the figures, in the current language."""
    return {"learned": t("tgd.legend.learned"), "fixed": t("tgd.legend.fixed", beta=value),
            "best_fixed": t("tgd.legend.best_fixed", beta=value), "chebyshev": t("tgd.legend.chebyshev"),
            "theory": t("tgd.legend.theory"), "constant": t("tgd.legend.best_constant"),
            "optimal": t("tgd.legend.optimal", T=value)}[kind]


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    device = resolve_device(config.device)
    dtype = torch.float64
    generator = stream(config.seed, "main")
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
    best_step = best_constant_step(lam_min, lam_max)
    kinds = {_column("fixed", b): ("fixed", b) for b in config.fixed_steps}
    schedules = {col: torch.full((T,), b, dtype=dtype) for col, (_, b) in kinds.items()}
    kinds[_column("best_fixed", best_step)] = ("best_fixed", best_step)
    schedules[_column("best_fixed", best_step)] = torch.full((T,), best_step, dtype=dtype)
    chebyshev = torch.as_tensor(chebyshev_steps(lam_min, lam_max, T), dtype=dtype)
    theory = torch.as_tensor(optimal_steps(np.array(EIGENVALUES), T), dtype=dtype)
    kinds |= {_column("chebyshev"): ("chebyshev", 0.0), _column("theory"): ("theory", 0.0)}
    schedules |= {_column("chebyshev"): chebyshev, _column("theory"): theory}
    with torch.no_grad():
        beta = model.beta.detach().cpu()  # (T,)
        errors = {_column("learned"): _sq_errors(model.trajectory(x_test))}
        for label, steps in schedules.items():
            errors[label] = _sq_errors(fixed_steps_trajectory(Q, x_test, steps.to(device)))
    kinds = {_column("learned"): ("learned", 0.0), **kinds}

    final = errors[_column("learned")][-1]
    tables = {"steps": table_from_columns({"t": np.arange(1, T + 1), "learned beta_t": beta.numpy(),
                                           "Chebyshev": chebyshev.numpy()}),
              "error_per_iteration": table_from_columns(
                  {"t": np.arange(T + 1), **{k: np.asarray(v) for k, v in errors.items()}})}
    curves = {f"loss_generation{g}": Curve(np.asarray(glog.steps) + 1, np.asarray(glog.losses), t("common.label.step"),
                                           t("tgd.label.training_loss", generation=g), log_y=True)
              for g, glog in enumerate(log.logs, start=1) if glog.losses}
    curves["error_per_iteration"] = Curve(np.arange(T + 1), np.asarray(errors[_column("learned")]),
                                          t("tgd.label.iteration_t"), t("tgd.label.mean_sq_error"), log_y=True)
    artifacts = {"model": model.state_dict()}
    data = {"errors": errors, "kinds": kinds, "beta": beta.numpy(), "chebyshev": chebyshev.numpy(),
            "theory": theory.numpy(), "best_step": best_step}

    # ----- the harder case: Q = AᵀA ------------------------------------------------------------------------
    logs, rq = [log], {}
    if config.random_quadratic:
        rq_log, rq, rq_data = _random_quadratic(config, generator, device,
                                                offset_progress(progress, T * config.steps_per_generation, total))
        logs.append(rq_log)
        tables["random_quadratic"] = rq_data.pop("table")
        artifacts["model_random_quadratic"] = rq_data.pop("state")
        data["rq"] = rq_data
    ending = Ending.of(logs)
    return Outcome(
        sq_error=final,
        log10_sq_error=math.log10(final) if final > 0 else -math.inf,
        best_fixed_sq_error=errors[_column("best_fixed", best_step)][-1],
        beta_sorted=", ".join(f"{b:.6g}" for b in sorted(beta.tolist(), reverse=True)),
        found_half_sixteenth=bool(T >= 2 and _has_steps(beta.numpy(), (0.5, 1 / 16))),
        steps=ending.steps,
        n_params=T + (config.rq_T if config.random_quadratic else 0),
        **rq,
        diverged=ending.diverged,
        skipped_steps=ending.skipped or None,
        status=ending.status,
        tables=tables, curves=curves, artifacts=artifacts, data={**data, "ending": ending},
    )


def _random_quadratic(config: Config, generator: torch.Generator, device: torch.device,
                      progress: ProgressFn | None) -> tuple[IncrementalLog, dict, dict]:
    """Train T = rq_T steps on Q = AᵀA; (its log, its metrics, what the table, artifact, notes, figures need)."""
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
    kinds = {_column("learned"): ("learned", 0.0), _column("constant"): ("constant", 0.0),
             _column("chebyshev"): ("chebyshev", 0.0), _column("optimal", T): ("optimal", T)}
    schedules = dict(zip(kinds, (learned, np.full(T, best_constant_step(float(lam.min()), L)),
                                 chebyshev_steps(float(lam.min()), L, T), optimal_steps(lam, T)), strict=True))
    ratios = {k: error_ratio(lam, s) for k, s in schedules.items()}  # exact E‖x_t‖²/E‖x_0‖²
    db = {k: 10 * math.log10(v[-1]) for k, v in ratios.items()}
    learned_db, optimal_db = db[_column("learned")], db[_column("optimal", T)]
    metrics = {"rq_learned_db": learned_db, "rq_constant_db": db[_column("constant")],
               "rq_chebyshev_db": db[_column("chebyshev")], "rq_optimal_db": optimal_db,
               "rq_gap_db": learned_db - optimal_db, "rq_condition_number": L / float(lam.min())}
    sorted_steps = {k: np.sort(v)[::-1] for k, v in schedules.items()}
    table = table_from_columns({"t": np.arange(1, T + 1), **sorted_steps})
    return log, metrics, {"table": table, "state": model.state_dict(), "ratios": ratios, "steps": sorted_steps,
                          "kinds": kinds}


def notes(config: Config, out: Outcome) -> Notes:
    """The error after T learned steps against the best fixed step, whether the steps 1/2 and 1/16 were found,
    the harder case; apart, why 1/2 and 1/16 make the error vanish."""
    found = Notes()
    T = config.T
    found.measured.append(t("tgd.note.result", T=T, n_test=config.n_test, error=out.sq_error,
                            best=out.best_fixed_sq_error, beta=out.beta_sorted))
    if T >= 2:
        found.measured.append(t("tgd.note.found") if out.found_half_sixteenth else t("tgd.note.not_found"))
        found.explanations.append(t("tgd.note.theory"))
        if not out.found_half_sixteenth:
            found.explanations.append(t("tgd.note.not_found_why"))
    else:
        found.explanations.append(t("tgd.note.theory_T1"))
    if not config.incremental:
        found.measured.append(t("tgd.note.not_incremental", T=T, steps=T * config.steps_per_generation))
    if out.rq_learned_db is not None:
        found.measured.append(t("tgd.note.random_quadratic", m=config.rq_m, n=config.rq_n,
                                kappa=out.rq_condition_number, T=config.rq_T, learned=out.rq_learned_db,
                                constant=out.rq_constant_db, chebyshev=out.rq_chebyshev_db,
                                optimal=out.rq_optimal_db, gap=out.rq_gap_db))
    ending: Ending = out.data["ending"]
    if ending.status == Status.INTERRUPTED:
        found.measured.append(t("tgd.note.interrupted", steps=ending.steps))
    elif ending.diverged:
        found.measured.append(t("tgd.note.diverged", steps=ending.steps, loss=ending.loss, first=ending.first_loss))
        found.measured.append(t("training.diverged_setting", setting="lr", value=config.lr))
        if config.beta_init * max(EIGENVALUES) > 2:  # every initial step already overshoots: |1 - β λ| > 1
            found.measured.append(t("training.diverged_setting", setting="beta_init", value=config.beta_init))
        found.explanations.append(t("tgd.note.diverged_why"))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """Squared error per iteration of every schedule, the steps; the same for the harder case."""
    from dlsm.plotting.unfold import plot_error_per_iteration, plot_steps

    d = out.data
    drawn = {
        "error_per_iteration": plot_error_per_iteration(
            {_legend(*d["kinds"][k]): v for k, v in d["errors"].items()},
            t("tgd.title.error_per_iteration", T=config.T)),
        "steps": plot_steps({t("tgd.legend.learned_beta"): d["beta"], _legend("chebyshev"): d["chebyshev"],
                             _legend("theory"): d["theory"], t("tgd.legend.best_fixed_short"): np.full(config.T,
                                                                                                      d["best_step"])},
                            t("tgd.title.steps")),
    }
    if "rq" in d:
        rq = d["rq"]
        drawn["random_quadratic_error"] = plot_error_per_iteration(
            {_legend(*rq["kinds"][k]): v for k, v in rq["ratios"].items()},
            t("tgd.title.random_quadratic_error", m=config.rq_m, n=config.rq_n), ylabel="log10 E‖x_t‖² / E‖x_0‖²")
        drawn["random_quadratic_steps"] = plot_steps({_legend(*rq["kinds"][k]): v for k, v in rq["steps"].items()},
                                                     t("tgd.title.random_quadratic_steps"), log_y=True)
    return drawn


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
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
