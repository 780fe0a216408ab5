"""Lecture 1: the activation functions σ, tanh, ReLU (and softplus) with their derivatives.

Each closed-form derivative is shown beside the derivative that autograd computes, so the table doubles
as a check of the formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dlsm import outcome
from dlsm.algorithms.activations import ACTIVATIONS, LECTURE1
from dlsm.config import LabConfig, param
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.outcome import Notes, metric
from dlsm.plotting.activations import plot_activations
from dlsm.result import ProgressFn, table_from_columns


@dataclass(frozen=True)
class Config(LabConfig):
    """Plot range and resolution of the activation functions."""

    u_min: float = param(-5.0, "left end of the plotted range of u")
    u_max: float = param(5.0, "right end of the plotted range of u")
    points: int = param(401, "grid points (odd, so that u = 0 is on the grid for symmetric ranges)", ge=3,
                        le=1_000_000)

    def check(self) -> None:
        if self.u_max <= self.u_min:
            raise ConfigError(t("activations.err.u_range", u_max=self.u_max, u_min=self.u_min), key="u_max")


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """How closely each closed-form derivative matches autograd, and the largest slopes of σ and tanh."""

    sigmoid_max_abs_diff_vs_autograd: float = metric()
    tanh_max_abs_diff_vs_autograd: float = metric()
    relu_max_abs_diff_vs_autograd: float = metric()
    softplus_max_abs_diff_vs_autograd: float = metric()
    sigmoid_max_slope: float = metric(headline=True)
    tanh_max_slope: float = metric(headline=True)
    diverged: bool = metric()


def autograd_derivative(f, u: torch.Tensor) -> torch.Tensor:
    """d f(u) / du element-wise, by reverse-mode autograd."""
    u = u.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(u).sum(), u)
    return grad


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    u = torch.linspace(config.u_min, config.u_max, config.points, dtype=torch.float64)
    values, slopes, diffs = {}, {}, {}
    for name, act in ((n, ACTIVATIONS[n]) for n in LECTURE1):
        values[name] = act.f(u).numpy()
        slopes[name] = act.df(u).numpy()
        auto = autograd_derivative(act.f, u).numpy()
        diffs[f"{name}_max_abs_diff_vs_autograd"] = float(np.abs(auto - slopes[name]).max())
    probe = torch.tensor([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], dtype=torch.float64)
    columns: dict[str, object] = {"u": probe.numpy()}
    for name, act in ((n, ACTIVATIONS[n]) for n in LECTURE1):
        columns[name] = act.f(probe).numpy()
        columns[f"{name}'"] = act.df(probe).numpy()
        columns[f"{name}' (autograd)"] = autograd_derivative(act.f, probe).numpy()
    finite = all(np.isfinite(a).all() for a in (*values.values(), *slopes.values()))
    if progress:
        progress(1, 1, {})
    return Outcome(
        **diffs,
        sigmoid_max_slope=float(slopes["sigmoid"].max()),
        tanh_max_slope=float(slopes["tanh"].max()),
        diverged=not finite,  # nothing iterates here: only a value that overflowed on the grid counts
        tables={"values": table_from_columns(columns)},
        data={"u": u.numpy(), "values": values, "slopes": slopes},
    )


def notes(config: Config, out: Outcome) -> Notes:
    """The measured largest slopes and autograd check; apart, why saturation matters."""
    worst = max(out.sigmoid_max_abs_diff_vs_autograd, out.tanh_max_abs_diff_vs_autograd,
                out.relu_max_abs_diff_vs_autograd, out.softplus_max_abs_diff_vs_autograd)
    measured = [t("activations.note.measured", sigmoid=out.sigmoid_max_slope, tanh=out.tanh_max_slope,
                  u_min=config.u_min, u_max=config.u_max, diff=worst)]
    return Notes(measured=measured, explanations=[t("activations.note.saturation")])


def figures(config: Config, out: Outcome) -> dict:
    """Each activation and its derivative over the grid."""
    return {"activations": plot_activations(out.data["u"], out.data["values"], out.data["slopes"])}


LAB = Lab(
    name="activations",
    lecture=1,
    description="activation functions sigmoid, tanh, ReLU, softplus and their derivatives",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
