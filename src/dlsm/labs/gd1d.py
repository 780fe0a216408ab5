"""Lecture 1: gradient descent on a 1-D function, step by step.

The lecture's algorithm: s := s0; repeat g := f'(s), s := s - a g. On f(x) = x² this is
s_k = s0 (1 - 2a)^k, so with the course's s0 = 2, a = 0.2: 2, 1.2, 0.72, 0.432, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm import outcome
from dlsm.algorithms.descent import GradientDescent, descend
from dlsm.config import LabConfig, param
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.outcome import Notes, metric
from dlsm.plotting.curves import plot_curves
from dlsm.plotting.descent import plot_function_with_iterates
from dlsm.problems.functions import FUNCTIONS_1D, Function1D
from dlsm.result import Curve, ProgressFn, table_from_columns


@dataclass(frozen=True)
class Config(LabConfig):
    """Gradient descent s_{k+1} = s_k - a f'(s_k) on a built-in 1-D function."""

    function: Literal["x2", "x4", "double_well", "wavy"] = param(
        "x2", "f to minimise: x², x⁴, x⁴-3x²+x (two minima) or x²/8+sin(2x) (several minima)")
    s0: float = param(2.0, "initial value s of step 1 (course: 2)")
    lr: float = param(0.2, "learning rate a (course: 0.2)", gt=0)
    steps: int = param(25, "iterations; 25 take x² from 2 to 6e-6 at a = 0.2", ge=1, le=100_000)
    grad_tol: float = param(1e-4, "converged when |f'(s)| falls below this", gt=0)


def theory_note(fn: Function1D, lr: float, s0: float, x_star: float) -> str:
    """What theory says about step ``lr`` on ``fn`` (the reason behind converged / diverged)."""
    if fn.name == "x2":
        return t("gd1d.note.theory_x2", s0=s0, factor=1 - 2 * lr)
    if fn.name == "x4":
        bound = (1 / (2 * lr)) ** 0.5
        if abs(s0) < bound:
            return t("gd1d.note.theory_x4_converges", bound=bound, s0=abs(s0))
        return t("gd1d.note.theory_x4_diverges", bound=bound, s0=abs(s0))
    curvature = float(fn.d2f(torch.tensor(x_star, dtype=torch.float64)))
    return t("gd1d.note.theory_local", x_star=x_star, curvature=curvature, lr_max=2 / curvature,
             rate=abs(1 - lr * curvature))


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """What gradient descent on f reached."""

    s_final: float = metric(headline=True)
    f_final: float = metric(headline=True)
    grad_final: float = metric()
    steps_run: int = metric("steps", headline=True)
    converged: bool = metric(headline=True)
    diverged: bool = metric(headline=True)
    minimiser: float = metric()
    lr_max_local: float = metric()
    local_rate: float = metric()


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    fn = FUNCTIONS_1D[config.function]
    s0 = torch.tensor([config.s0], dtype=torch.float64)
    traj = descend(fn.df, s0, GradientDescent(config.lr), config.steps, blowup=1e6)
    s = traj.x[:, 0].numpy()                      # (T+1,)
    g = traj.g[:, 0].numpy()                      # (T,)
    fs = fn.f(traj.x[:, 0]).numpy()
    if progress:
        progress(traj.steps_run, config.steps, {"s": float(s[-1])})

    s_final = float(s[-1])
    grad_final = float(fn.df(torch.tensor(s_final, dtype=torch.float64)))
    x_star = fn.nearest_minimiser(s_final if np.isfinite(s_final) else config.s0)
    curvature = float(fn.d2f(torch.tensor(x_star, dtype=torch.float64)))
    converged = not traj.diverged and abs(grad_final) <= config.grad_tol
    k = np.arange(traj.steps_run)
    return Outcome(
        s_final=s_final,
        f_final=float(fs[-1]),
        grad_final=grad_final,
        steps_run=traj.steps_run,
        converged=converged,
        diverged=traj.diverged,
        minimiser=x_star,
        lr_max_local=2.0 / curvature if curvature > 0 else float("inf"),
        local_rate=abs(1.0 - config.lr * curvature),
        tables={"iterations": table_from_columns(
            {"k": k, "s_k": s[:-1], "f'(s_k)": g, "s_k+1": s[1:], "f(s_k)": fs[:-1]})},
        curves={"distance": Curve(np.arange(len(s)), np.abs(s - x_star), t("common.label.iteration_k"), "|s_k - x*|",
                                  log_y=True)},
        data={"s": s, "fs": fs},
    )


def notes(config: Config, out: Outcome) -> Notes:
    """What the run did (diverged, not converged) and, apart, what theory says about the step a."""
    found = Notes()
    if out.diverged:
        found.measured.append(t("gd1d.note.diverged", steps=out.steps_run))
    elif not out.converged:
        found.measured.append(t("gd1d.note.not_converged", steps=config.steps, grad=abs(out.grad_final),
                                tol=config.grad_tol))
    found.explanations.append(theory_note(FUNCTIONS_1D[config.function], config.lr, config.s0, out.minimiser))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """f with the iterates, and the distance to the minimiser per iteration."""
    fn = FUNCTIONS_1D[config.function]
    s, fs, x_star = out.data["s"], out.data["fs"], out.minimiser
    finite = np.isfinite(s) & (np.abs(s) <= 10)
    shown = np.concatenate([s[finite], [x_star, config.s0]])
    lo, hi = shown.min(), shown.max()
    pad = max(0.5, 0.15 * (hi - lo))
    x = np.linspace(lo - pad, hi + pad, 400)
    fx = fn.f(torch.from_numpy(x)).numpy()
    distance = out.curves["distance"]
    return {
        "function": plot_function_with_iterates(x, fx, s[finite], fs[finite],
                                                f"{fn.formula}, s0 = {config.s0:g}, a = {config.lr:g}"),
        "distance": plot_curves({f"a = {config.lr:g}": distance}, title=t("gd1d.title.distance")),
    }


LAB = Lab(
    name="gd1d",
    lecture=1,
    description="gradient descent by hand on a 1-D function (s := s - a f'(s))",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
