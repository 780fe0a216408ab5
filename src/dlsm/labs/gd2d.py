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

from dlsm import outcome
from dlsm.algorithms.descent import Adam, GradientDescent, Momentum, Nesterov, Trajectory, UpdateRule, descend
from dlsm.algorithms.quadratic_theory import GDTheory, gd_theory
from dlsm.config import LabConfig, param
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.labs._gd2d_verdict import (
    DIVERGES,
    OPTIMIZERS,
    Optimizer,
    behaviour,
    optimizer_label,
    theory_rate,
    verdict,
    verdict_text,
)
from dlsm.outcome import Notes, metric
from dlsm.plotting.curves import plot_curves
from dlsm.plotting.descent import box_around, plot_contour_trajectory, plot_surface, quadratic_grid
from dlsm.problems.functions import quadratic
from dlsm.result import Curve, ProgressFn, Table, table_from_columns

__all__ = ["LAB", "OPTIMIZERS", "Config", "Optimizer", "Outcome", "behaviour", "compute", "figures", "make_rule",
           "notes", "run", "theory_rate", "verdict"]


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
            raise ConfigError(t("gd2d.err.symmetric", q=q), key="Q")


def make_rule(name: Optimizer, config: Config) -> UpdateRule:
    """The update rule ``name`` with the config's α (and μ); ConfigError for an unknown name."""
    if name == "gd":
        return GradientDescent(config.lr)
    if name == "momentum":
        return Momentum(config.lr, config.momentum)
    if name == "nesterov":
        return Nesterov(config.lr, config.momentum)
    if name == "adam":
        return Adam(config.lr)
    raise ConfigError.not_one_of("optimizer", name, OPTIMIZERS)


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """Where the main run ended, its one verdict, and what theory says about the step α on this Q."""

    x1_final: float = metric()
    x2_final: float = metric()
    f_final: float = metric()
    error_final: float = metric(headline=True)
    steps_run: int = metric("steps")
    diverged: bool = metric(headline=True)
    behaviour: str = metric(headline=True)
    rate_measured: float = metric(headline=True)
    rate_theory: float = metric(headline=True)
    theory_regime_gd: str = metric()
    lr_max: float = metric(headline=True)
    lr_opt: float = metric()
    rate_theory_gd: float = metric()
    rate_opt: float = metric()
    lambda_min: float = metric()
    lambda_max: float = metric()
    condition_number: float = metric()


def _errors(traj: Trajectory, x_star: torch.Tensor) -> np.ndarray:
    return ((traj.x - x_star) ** 2).sum(dim=1).numpy()  # (T+1,) squared distance to the minimiser


def _error_curve(e: np.ndarray) -> Curve:
    return Curve(np.arange(len(e)), e, t("gd2d.label.iteration_t"), "‖x_t - x*‖²", log_y=True)


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
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
    _, U = torch.linalg.eigh(problem.Q)
    errors = {n: _errors(tr, x_star) for n, tr in trajectories.items()}
    measured = {n: behaviour(((tr.x - x_star) @ U).numpy(), tr.diverged, n == "gd")
                for n, tr in trajectories.items()}   # name -> (trend, rate)
    main = trajectories[config.optimizer]
    sq_err = errors[config.optimizer]
    trend, ratio = measured[config.optimizer]
    what = verdict(trend, float(sq_err[-1]), config.tol)
    x_final = main.x[-1].numpy()
    xs = main.x.numpy()
    steps = np.arange(main.steps_run + 1)

    def rate_of(name: Optimizer) -> float:
        return theory_rate(name, theory.eigenvalues, config.lr, config.momentum, theory.rate)

    tables = {"trajectory": table_from_columns(
        {"t": steps, "x1": xs[:, 0], "x2": xs[:, 1], "f": problem.f(main.x).numpy(), "error": sq_err})}
    if config.compare:
        rows = []
        for name, e in errors.items():
            outside = np.nonzero(e > config.tol)[0]  # the error stays within tol after the last of these
            settled = int(outside[-1]) + 1 if outside.size else 0
            trend_i, rate = measured[name]
            rows.append([name, float(e[-1]), settled if settled < len(e) else None,
                         verdict(trend_i, float(e[-1]), config.tol), rate, rate_of(name)])
        tables["optimizers"] = Table(
            ["optimizer", "error_final", "t_stays_within_tol", "behaviour", "rate_measured", "rate_theory"], rows)
    return Outcome(
        x1_final=float(x_final[0]),
        x2_final=float(x_final[1]),
        f_final=float(problem.f(main.x[-1])),
        error_final=float(sq_err[-1]),
        steps_run=main.steps_run,
        diverged=main.diverged or what == DIVERGES,
        behaviour=what,
        rate_measured=ratio,
        rate_theory=rate_of(config.optimizer),
        theory_regime_gd=theory.regime,
        lr_max=theory.lr_max,
        lr_opt=theory.lr_opt,
        rate_theory_gd=theory.rate,
        rate_opt=theory.rate_opt,
        lambda_min=min(theory.eigenvalues),
        lambda_max=max(theory.eigenvalues),
        condition_number=theory.condition_number,
        tables=tables,
        # x2 against x1: a sweep overlays the runs' trajectories (plot_trajectories_on_contour draws them on f)
        curves={"error": _error_curve(sq_err), "trajectory": Curve(xs[:, 0], xs[:, 1], "x1", "x2")},
        artifacts={"Q": problem.Q.clone(), "trajectory": main.x.clone()},
        data={"theory": theory, "formula": problem.formula, "blown_up": main.diverged,
              "paths": {n: tr.x.numpy() for n, tr in trajectories.items()}, "errors": errors,
              "trends": {n: m[0] for n, m in measured.items()}},
    )


def theory_notes(theory: GDTheory, optimizer: str) -> list[str]:
    """What theory says about fixed-step gradient descent with this α on this Q (the explanations)."""
    out = [t("gd2d.note.theory_for_gd", optimizer=optimizer)] if optimizer != "gd" else []
    if min(theory.eigenvalues) < 0:
        return [*out, t("gd2d.note.theory_saddle", lambda_min=min(theory.eigenvalues))]
    out.append(t("gd2d.note.theory_bounds", eigenvalues=", ".join(f"{v:g}" for v in theory.eigenvalues),
                 lr_max=theory.lr_max, lr_opt=theory.lr_opt, rate_opt=theory.rate_opt))
    if theory.regime == "converges":
        out.append(t("gd2d.note.theory_converges", lr=theory.lr, rate=theory.rate))
    elif theory.regime == "stalls":
        out.append(t("gd2d.note.theory_stalls", lr=theory.lr, rate=theory.rate))
    elif theory.regime == "oscillates":
        out.append(t("gd2d.note.theory_oscillates", lr=theory.lr))
    elif theory.regime == "diverges":
        out.append(t("gd2d.note.theory_diverges", lr=theory.lr, rate=theory.rate))
    else:
        raise ValueError(f"unknown regime {theory.regime!r} of gradient descent")
    return out


def notes(config: Config, out: Outcome) -> Notes:
    """The main run's verdict as measured (and the optimizers table read out); apart, the theory of α."""
    found = Notes()
    said = {"optimizer": optimizer_label(config.optimizer), "lr": config.lr, "verdict": verdict_text(out.behaviour),
            "steps": out.steps_run, "error": out.error_final}
    if np.isfinite(out.rate_measured):
        found.measured.append(t("gd2d.note.verdict", **said, rate=out.rate_measured))
    else:  # blown up: no rate to give
        found.measured.append(t("gd2d.note.verdict_no_rate", **said))
    if out.data["blown_up"]:
        found.measured.append(t("gd2d.note.diverged", steps=out.steps_run))
    if config.compare:
        found.measured.append(t("gd2d.note.optimizers_table", steps=config.steps, tol=config.tol))
    found.explanations += theory_notes(out.data["theory"], config.optimizer)
    if config.optimizer in ("momentum", "nesterov") and np.isfinite(out.rate_theory):
        found.explanations.append(t("gd2d.note.theory_momentum", optimizer=config.optimizer, mu=config.momentum,
                                    lr=config.lr, rate=out.rate_theory))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """f as a surface, the path(s) on its contours, and the squared error per iteration."""
    theory: GDTheory = out.data["theory"]
    paths, trends = out.data["paths"], out.data["trends"]
    f_grid, grad_grid = quadratic_grid(out.artifacts["Q"].numpy())
    box = box_around(list(paths.values()), cap=2.0 * float(np.abs(config.x0).max()) + 1.0,
                     diverged=[trends[n] == DIVERGES for n in paths])
    title = f"{out.data['formula']}, α = {theory.lr:g}"
    main = optimizer_label(config.optimizer)
    drawn = {
        "surface": plot_surface(f_grid, box, out.data["formula"]),
        "contour": plot_contour_trajectory(f_grid, grad_grid, box, {main: paths[config.optimizer]}, title),
        "error": plot_curves({main: out.curves["error"]}, title=t("gd2d.title.error", lr=config.lr)),
    }
    if config.compare:
        curves = {optimizer_label(n): _error_curve(e) for n, e in out.data["errors"].items()}
        drawn["optimizers_error"] = plot_curves(curves, title=t("gd2d.title.optimizers", lr=config.lr))
        drawn["optimizers_contour"] = plot_contour_trajectory(
            f_grid, grad_grid, box, {optimizer_label(n): p for n, p in paths.items()}, title)
    return drawn


LAB = Lab(
    name="gd2d",
    lecture=1,
    description="gradient descent on 2-D quadratics: trajectories, convergence theory, momentum/Nesterov/Adam",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
    headline=("error_final", "behaviour", "diverged", "rate_measured", "rate_theory", "lr_max"),
)
run = LAB.run
