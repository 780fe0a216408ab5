"""Figures of a fitted parametric model: data with curves, and the parameters along training."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import new_figure


def _quad(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return theta[0] * x * x + theta[1] * x + theta[2]


def plot_fit(x: np.ndarray, y: np.ndarray, theta_gd: np.ndarray, theta_ls: np.ndarray,
             theta_true: np.ndarray) -> Figure:
    """Samples, the true curve, the least-squares fit and the gradient-descent fit."""
    fig = new_figure()
    ax = fig.add_subplot()
    grid = np.linspace(x.min(), x.max(), 200)
    ax.plot(x, y, "o", ms=4, color="0.5", label=t("quadfit.legend.samples"))
    ax.plot(grid, _quad(theta_true, grid), "--", color="0.2", label=t("quadfit.legend.true_f"))
    ax.plot(grid, _quad(theta_ls, grid), color="tab:green", lw=2, alpha=0.6, label=t("quadfit.legend.least_squares"))
    if np.isfinite(theta_gd).all():
        ax.plot(grid, _quad(theta_gd, grid), color="tab:red", lw=1, label=t("quadfit.legend.gradient_descent"))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def plot_parameters(thetas: np.ndarray, theta_ls: np.ndarray, names: str = "abc") -> Figure:
    """Each parameter per step (solid) with its least-squares value (dashed)."""
    fig = new_figure()
    ax = fig.add_subplot()
    steps = np.arange(len(thetas))
    for j, name in enumerate(names):
        line = ax.plot(steps, thetas[:, j], label=name)[0]
        ax.axhline(theta_ls[j], ls="--", color=line.get_color(), lw=0.8)
    ax.set_xlabel(t("common.label.step"))
    ax.set_ylabel(t("quadfit.label.parameter_value"))
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig
