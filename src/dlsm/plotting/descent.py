"""Figures of gradient descent: a 1-D function with its iterates, 2-D surfaces, contours, error curves."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from matplotlib.figure import Figure

from dlsm.plotting import new_figure

GridFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def plot_function_with_iterates(x: np.ndarray, fx: np.ndarray, s: np.ndarray, fs: np.ndarray,
                                title: str) -> Figure:
    """f over ``x`` with the iterates (s_k, f(s_k)) joined by arrows in order."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot(x, fx, color="0.3", label="f(x)")
    ax.plot(s, fs, "o", color="tab:red", ms=4, label="iterates $s_k$")
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


def plot_contour_trajectory(f: GridFn, grad: GridFn, lim: tuple[float, float, float, float],
                            paths: Mapping[str, np.ndarray], title: str) -> Figure:
    """Contours of f, gradient arrows on a coarse grid, and each path (T+1, 2) drawn over them."""
    X1, X2, Z = _grid(f, lim)
    fig = new_figure(6.4, 5.0)
    ax = fig.add_subplot()
    positive = Z[Z > 0]
    if positive.size and Z.min() >= 0:
        levels = np.geomspace(max(positive.min(), positive.max() * 1e-4), positive.max(), 18)
    else:
        levels = 18
    ax.contour(X1, X2, Z, levels=levels, cmap="viridis", linewidths=0.8)
    A1, A2, _ = _grid(f, lim, 13)
    G1, G2 = grad(A1, A2)
    norm = np.hypot(G1, G2)
    norm[norm == 0] = 1.0
    ax.quiver(A1, A2, G1 / norm, G2 / norm, color="0.6", width=0.003, scale=30)
    colors = ["tab:red", "tab:blue", "tab:orange", "tab:green", "tab:purple"]
    for i, (label, path) in enumerate(paths.items()):
        ax.plot(path[:, 0], path[:, 1], "-o", ms=3, lw=1.2, color=colors[i % len(colors)], label=label)
    ax.plot([], [], color="0.6", label="gradient direction ∇f/|∇f|")
    ax.set_xlim(lim[0], lim[1])
    ax.set_ylim(lim[2], lim[3])
    if max(lim[1] - lim[0], lim[3] - lim[2]) <= 3 * min(lim[1] - lim[0], lim[3] - lim[2]):
        ax.set_aspect("equal")  # gradients then look perpendicular to the contours, as they are
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper right")
    return fig


def box_around(paths: list[np.ndarray], margin: float = 0.15, cap: float = 50.0) -> tuple[float, float, float, float]:
    """A plotting box containing the points of every path, each coordinate clipped to [-cap, cap]
    (so a diverging path does not squash the others), with a margin."""
    pts = np.concatenate([p[np.isfinite(p).all(axis=1)] for p in paths])
    pts = np.clip(pts, -cap, cap)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 1.0)
    lo, hi = lo - margin * span, hi + margin * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])
