"""Figures of gradient descent: a 1-D function with its iterates, 2-D surfaces, contours, error curves."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import new_figure

GridFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def plot_function_with_iterates(x: np.ndarray, fx: np.ndarray, s: np.ndarray, fs: np.ndarray,
                                title: str) -> Figure:
    """f over ``x`` with the iterates (s_k, f(s_k)) joined by arrows in order."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot(x, fx, color="0.3", label="f(x)")
    ax.plot(s, fs, "o", color="tab:red", ms=4, label=t("gd1d.legend.iterates"))
    for k in range(len(s) - 1):
        ax.annotate("", xy=(s[k + 1], fs[k + 1]), xytext=(s[k], fs[k]),
                    arrowprops={"arrowstyle": "->", "color": "tab:red", "lw": 0.8})
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def _grid(f: GridFn, lim: tuple[float, float, float, float], n: int = 121):
    x1 = np.linspace(lim[0], lim[1], n)
    x2 = np.linspace(lim[2], lim[3], n)
    X1, X2 = np.meshgrid(x1, x2)
    return X1, X2, f(X1, X2)


def plot_surface(f: GridFn, lim: tuple[float, float, float, float], title: str) -> Figure:
    """3-D surface of f(x1, x2) over the box ``lim = (x1min, x1max, x2min, x2max)``."""
    X1, X2, Z = _grid(f, lim, 61)
    fig = new_figure(6.0, 4.8)
    ax = fig.add_subplot(projection="3d")
    ax.plot_surface(X1, X2, Z, cmap="viridis", linewidth=0, antialiased=True, alpha=0.9)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("f")
    ax.set_title(title)
    return fig


def quadratic_grid(Q: np.ndarray) -> tuple[GridFn, GridFn]:
    """f(x) = 1/2 xᵀQx and its gradient Qx as functions of grid arrays (x1, x2), for the contour plots."""
    Q = np.asarray(Q, dtype=float)

    def f(a, b):
        return 0.5 * (Q[0, 0] * a * a + (Q[0, 1] + Q[1, 0]) * a * b + Q[1, 1] * b * b)

    def grad(a, b):
        return Q[0, 0] * a + Q[0, 1] * b, Q[1, 0] * a + Q[1, 1] * b

    return f, grad


def plot_contour_trajectory(f: GridFn, grad: GridFn, lim: tuple[float, float, float, float],
                            paths: Mapping[str, np.ndarray], title: str) -> Figure:
    """Contours of f, gradient arrows on a coarse grid, and each path (T+1, 2) drawn over them.

    The axes fill the figure (a box much wider than tall is not drawn at equal scale, so that a zig-zag
    along the short axis stays visible); the legend sits to the right of the axes, off the ticks."""
    X1, X2, Z = _grid(f, lim)
    w, h = lim[1] - lim[0], lim[3] - lim[2]
    fig = new_figure(7.6, 5.0)
    ax = fig.add_subplot()
    positive = Z[Z > 0]
    if positive.size and Z.min() >= 0:
        levels = np.geomspace(max(positive.min(), positive.max() * 1e-4), positive.max(), 18)
    else:
        levels = 18
    ax.contour(X1, X2, Z, levels=levels, cmap="viridis", linewidths=0.8)
    A1, A2, _ = _grid(f, lim, 13)
    G1, G2 = grad(A1, A2)
    a, b = G1 / w, G2 / h  # the gradient in fractions of the axes: arrows of equal length on screen
    norm = np.hypot(a, b)
    norm[norm == 0] = 1.0
    ax.quiver(A1, A2, 0.05 * a / norm * w, 0.05 * b / norm * h, color="0.6", width=0.003, angles="xy",
              scale_units="xy", scale=1.0)
    colors = ["tab:red", "tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink"]
    for i, (label, path) in enumerate(paths.items()):
        ax.plot(path[:, 0], path[:, 1], "-o", ms=3, lw=1.2, color=colors[i % len(colors)], label=label)
    ax.plot([], [], color="0.6", label=t("gd2d.legend.gradient_direction"))
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    if 0.75 <= h / w <= 1.34:
        ax.set_aspect("equal")  # gradients then look perpendicular to the contours, as they are
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return fig


def plot_trajectories_on_contour(Q: np.ndarray, paths: Mapping[str, np.ndarray], title: str = "",
                                 cap: float = 50.0) -> Figure:
    """Trajectories of several runs (label -> (T+1, 2) iterates) over the contours of f(x) = 1/2 xᵀQx.

    For a gd2d sweep: each run returns its iterates (``artifacts["trajectory"]``, also the curve
    ``trajectory``) and Q (``artifacts["Q"]``); this overlays them on one contour plot (exercise 1-2).
    A path that leaves every bounded region is drawn until it leaves the box of the others."""
    f, grad = quadratic_grid(Q)
    arrays = {k: np.asarray(v, dtype=float) for k, v in paths.items()}
    finite = [p[np.isfinite(p).all(axis=1)] for p in arrays.values()]
    bounded = [bool(len(p)) and float(np.abs(p[-1]).max()) <= float(np.abs(p[0]).max()) * 4 for p in finite]
    box = box_around([p for p in finite if len(p)], cap=cap, diverged=[not b for b, p in zip(bounded, finite,
                                                                                         strict=True) if len(p)])
    return plot_contour_trajectory(f, grad, box, arrays, title or t("gd2d.title.trajectories"))


def box_around(paths: list[np.ndarray], margin: float = 0.15, cap: float = 50.0,
               diverged: list[bool] | None = None, min_ratio: float = 0.4) -> tuple[float, float, float, float]:
    """A plotting box containing the points of every path that did not diverge (of all paths when all did),
    each coordinate clipped to [-cap, cap] (so a diverging path does not squash the others), with a margin.
    The shorter side is at least ``min_ratio`` times the longer one, so that the plot is never a thin strip."""
    keep = [p for p, d in zip(paths, diverged or [False] * len(paths), strict=True) if not d] or paths
    pts = np.concatenate([p[np.isfinite(p).all(axis=1)] for p in keep])
    pts = np.clip(pts, -cap, cap)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 1.0)
    centre = (lo + hi) / 2
    span = np.maximum(span, min_ratio * span.max()) * (1 + 2 * margin)
    lo, hi = centre - span / 2, centre + span / 2
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])
