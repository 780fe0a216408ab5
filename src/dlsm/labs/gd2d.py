"""Lecture 1: gradient descent on 2-D quadratics, with the theory of when and how fast it converges.

Course setting: f(x) = 1/2 x1² + 5 x2², ∇f = (x1, 10 x2), x_t = x_{t-1} - α ∇f(x_{t-1}) from (4, 1) with
α = 0.18 for 20 iterations: (3.28, -0.8), (2.6896, 0.64), (2.205472, -0.512), ...
Theory (see :mod:`dlsm.algorithms.quadratic_theory`): it converges iff 0 < α < 2/λmax = 0.2 here; α = 0.2
oscillates in x2 for ever, α > 0.2 diverges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm.algorithms.descent import Adam, GradientDescent, Momentum, Nesterov, Trajectory, UpdateRule, descend
from dlsm.algorithms.quadratic_theory import gd_theory, momentum_rate
from dlsm.config import LabConfig, param
from dlsm.errors import ConfigError
from dlsm.labs import Lab
from dlsm.plotting.curves import plot_curves
from dlsm.plotting.descent import box_around, plot_contour_trajectory, plot_surface, quadratic_grid
from dlsm.problems.functions import quadratic
from dlsm.result import Curve, ProgressFn, Result, Table, table_from_columns
from dlsm.training import want_figures

Optimizer = Literal["gd", "momentum", "nesterov", "adam"]
OPTIMIZERS: tuple[Optimizer, ...] = ("gd", "momentum", "nesterov", "adam")


@dataclass(frozen=True)
class Config(LabConfig):
    """Descent on f(x) = 1/2 xᵀQx from x0; the course's notebook settings are the defaults."""

    function: Literal["course", "sphere", "custom"] = param(
        "course", "course: 1/2 x1² + 5 x2²; sphere: x1² + x2²; custom: 1/2 xᵀQx with Q below")
    Q: tuple[float, ...] = param((1.0, 0.0, 0.0, 10.0), "symmetric Q, row-major q11,q12,q21,q22 (custom only)",
                                 length=4)
    x0: tuple[float, ...] = param((4.0, 1.0), "starting point (x1, x2) (course: 4, 1)", length=2)
    lr: float = param(0.18, "learning rate α (course: 0.18; 0.2 oscillates, larger diverges)", gt=0)
    steps: int = param(20, "iterations (course: 20)", ge=1, le=100_000)
    optimizer: Optimizer = param("gd", "update rule of the main run: gd, momentum, nesterov or adam")
    momentum: float = param(0.9, "μ of momentum and Nesterov", ge=0, lt=1)
    compare: bool = param(True, "also run all four optimizers with the same α and compare them")
    tol: float = param(1e-2, "converged when ‖x_T - x*‖² is at most this", gt=0)

    def check(self) -> None:
        q = self.Q
        if abs(q[1] - q[2]) > 1e-12 * max(1.0, *map(abs, q)):
            raise ConfigError(f"Q: got {q}; Q must be symmetric (q12 = q21)", key="Q")


def make_rule(name: Optimizer, config: Config) -> UpdateRule:
    if name == "gd":
        return GradientDescent(config.lr)
    if name == "momentum":
        return Momentum(config.lr, config.momentum)
    if name == "nesterov":
        return Nesterov(config.lr, config.momentum)
    return Adam(config.lr)


def behaviour(z: np.ndarray, diverged: bool, coordinatewise: bool) -> tuple[str, float]:
    """Measured behaviour of the iterates, given in Q's eigenbasis z_t = Uᵀ(x_t - x*), shape (T+1, d).

    For plain gradient descent the coordinates evolve independently, so per coordinate the rate over the
    last m ≤ 10 steps r_i = (|z_{T,i}| / |z_{T-m,i}|)^(1/m) tells it all: every r_i < 1 converges, some
    r_i = 1 with alternating sign oscillates for ever, r_i > 1 diverges. Momentum methods and Adam couple
    steps, so for them the average rate over the whole run (‖z_T‖ / ‖z_0‖)^(1/T) is reported instead.
    Returns the trend ("converges", "oscillates (never converges)", "stalls (never converges)", "diverges")
    and the measured rate; :func:`verdict` turns a converging trend into "converged" or "converging" by the
    tolerance, so that a run has one verdict.
    """
    if diverged:
        return "diverges", float("inf")
    if not coordinatewise:
        e = np.linalg.norm(z, axis=1)
        rate = float((e[-1] / e[0]) ** (1.0 / (len(e) - 1))) if e[0] > 0 else 0.0
        return ("diverges" if rate > 1 else "converges"), rate
    m = min(10, len(z) - 1)
    start, end = np.abs(z[-1 - m]), np.abs(z[-1])
    alive = start > 1e-200
    if not alive.any():
        return "converges", 0.0
    rates = (end[alive] / start[alive]) ** (1.0 / m)
    rate = float(rates.max())
    if rate > 1 + 1e-9:
        return "diverges", rate
    if rate >= 1 - 1e-9:
        j = np.flatnonzero(alive)[int(rates.argmax())]
        flips = np.sign(z[-1, j]) != np.sign(z[-2, j])
        return ("oscillates (never converges)" if flips else "stalls (never converges)"), rate
    return "converges", rate


def verdict(trend: str, error_final: float, tol: float) -> str:
    """The one verdict of a run: a converging trend is "converged" when ‖x_T - x*‖² ≤ tol, else
    "converging (not within tol yet)"; the other trends are kept as they are."""
    if trend != "converges":
        return trend
    return "converged" if error_final <= tol else "converging (not within tol yet)"


def theory_rate(name: Optimizer, eigenvalues: tuple[float, ...], config: Config, gd_rate: float) -> float:
    """Predicted asymptotic rate of the linear methods on the quadratic (NaN for Adam, which is not linear)."""
    if name == "gd":
        return gd_rate
    if name == "adam" or min(eigenvalues) < 0:
        return float("nan") if name == "adam" else float("inf")
    return momentum_rate(eigenvalues, config.lr, config.momentum, nesterov=name == "nesterov")


def _errors(traj: Trajectory, x_star: torch.Tensor) -> np.ndarray:
    return ((traj.x - x_star) ** 2).sum(dim=1).numpy()  # (T+1,) squared distance to the minimiser


def run(config: Config, progress: ProgressFn | None = None) -> Result:
    problem = quadratic(config.function, config.Q)
    x0 = torch.tensor(config.x0, dtype=torch.float64)
    x_star = problem.minimiser_from(x0)
    theory = gd_theory(problem.Q.numpy(), config.lr)
    names = OPTIMIZERS if config.compare else (config.optimizer,)
    trajectories: dict[str, Trajectory] = {}
    for i, name in enumerate(names):
        trajectories[name] = descend(problem.grad, x0, make_rule(name, config), config.steps)
        if progress:
            progress(i + 1, len(names), {})
    main = trajectories[config.optimizer]
    sq_err = _errors(main, x_star)
    _, U = torch.linalg.eigh(problem.Q)
    trend, ratio = behaviour(((main.x - x_star) @ U).numpy(), main.diverged, config.optimizer == "gd")
    what = verdict(trend, float(sq_err[-1]), config.tol)
    x_final = main.x[-1].numpy()

    result = Result()
    result.metrics = {
        "x1_final": float(x_final[0]),
        "x2_final": float(x_final[1]),
        "f_final": float(problem.f(main.x[-1])),
        "error_final": float(sq_err[-1]),
        "steps_run": main.steps_run,
        "diverged": main.diverged or what == "diverges",
        "behaviour": what,
        "rate_measured": ratio,
        "rate_theory": theory_rate(config.optimizer, theory.eigenvalues, config, theory.rate),
        "theory_regime_gd": theory.regime,
        "lr_max": theory.lr_max,
        "lr_opt": theory.lr_opt,
        "rate_theory_gd": theory.rate,
        "rate_opt": theory.rate_opt,
        "lambda_min": min(theory.eigenvalues),
        "lambda_max": max(theory.eigenvalues),
        "condition_number": theory.condition_number,
    }
    t = np.arange(main.steps_run + 1)
    xs = main.x.numpy()
    result.tables["trajectory"] = table_from_columns(
        {"t": t, "x1": xs[:, 0], "x2": xs[:, 1], "f": problem.f(main.x).numpy(), "error": sq_err})
    result.curves["error"] = Curve(t, sq_err, "iteration t", "‖x_t - x*‖²", log_y=True)
    # x2 against x1: a sweep overlays the runs' trajectories (plot_trajectories_on_contour draws them on f)
    result.curves["trajectory"] = Curve(xs[:, 0], xs[:, 1], "x1", "x2")
    result.artifacts["Q"] = problem.Q.clone()
    result.artifacts["trajectory"] = main.x.clone()

    Q = problem.Q.numpy()
    f_grid, grad_grid = quadratic_grid(Q)
    paths = {n: tr.x.numpy() for n, tr in trajectories.items()}
    trends = {n: behaviour(((tr.x - x_star) @ U).numpy(), tr.diverged, n == "gd")[0]
              for n, tr in trajectories.items()}
    box = box_around(list(paths.values()), cap=2.0 * float(x0.abs().max()) + 1.0,
                     diverged=[trends[n] == "diverges" for n in trajectories])
    title = f"{problem.formula}, α = {config.lr:g}"
    figures = want_figures()
    if figures:
        result.figures["surface"] = plot_surface(f_grid, box, problem.formula)
        result.figures["contour"] = plot_contour_trajectory(f_grid, grad_grid, box, {config.optimizer: xs}, title)
        result.figures["error"] = plot_curves({config.optimizer: result.curves["error"]},
                                              title=f"squared distance to the minimiser, α = {config.lr:g}")

    if config.compare:
        rows, curves = [], {}
        for name, traj in trajectories.items():
            e = _errors(traj, x_star)
            outside = np.nonzero(e > config.tol)[0]  # the error stays within tol after the last of these
            settled = int(outside[-1]) + 1 if outside.size else 0
            trend_i, rate = behaviour(((traj.x - x_star) @ U).numpy(), traj.diverged, name == "gd")
            rows.append([name, float(e[-1]), settled if settled < len(e) else None,
                         verdict(trend_i, float(e[-1]), config.tol), rate,
                         theory_rate(name, theory.eigenvalues, config, theory.rate)])
            curves[name] = Curve(np.arange(len(e)), e, "iteration t", "‖x_t - x*‖²", log_y=True)
        result.tables["optimizers"] = Table(
            ["optimizer", "error_final", "t_stays_within_tol", "behaviour", "rate_measured", "rate_theory"], rows)
        if figures:
            result.figures["optimizers_error"] = plot_curves(curves, title=f"optimizers at α = {config.lr:g}")
            result.figures["optimizers_contour"] = plot_contour_trajectory(f_grid, grad_grid, box, paths, title)

    if main.diverged:
        result.notes.append(f"Diverged: the iterates left every bounded region after {main.steps_run} steps, "
                            "so the run stopped there.")
    if config.compare:
        result.notes.append(f"Table optimizers: error_final = ‖x_T - x*‖² after {config.steps} steps; "
                            f"t_stays_within_tol = the first iteration after which ‖x_t - x*‖² stays ≤ tol = "
                            f"{config.tol:g} (none: it never does); rate = the factor by which the error shrinks "
                            "per step (below 1 converges).")
    note = theory.explanation
    if config.optimizer != "gd":
        note = f"(Theory for plain gradient descent; the main run used {config.optimizer}.) " + note
    result.notes.append(note)
    return result


LAB = Lab(
    name="gd2d",
    lecture=1,
    description="gradient descent on 2-D quadratics: trajectories, convergence theory, momentum/Nesterov/Adam",
    config=Config,
    run=run,
    headline=("error_final", "behaviour", "diverged", "rate_measured", "rate_theory", "lr_max"),
)
