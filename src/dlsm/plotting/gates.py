"""Figures of the logic-gate labs: decision surfaces over [0,1]², loss curves, success rates, gradient checks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import new_figure

_CMAP = "RdBu_r"  # blue = 0, red = 1


def _draw_surface(ax, grid: np.ndarray, Z: np.ndarray, targets: Sequence[float] | None = None,
                  outputs: Sequence[float] | None = None, W1: np.ndarray | None = None,
                  b1: np.ndarray | None = None, annotate: bool = True):
    """Heat map of Z on one Axes; corners marked with their targets, hidden-unit lines dashed."""
    image = ax.imshow(Z, origin="lower", extent=(grid[0], grid[-1], grid[0], grid[-1]), cmap=_CMAP,
                      vmin=0.0, vmax=1.0, interpolation="bilinear")
    if np.nanmax(Z) > 0.5 > np.nanmin(Z):
        ax.contour(grid, grid, Z, levels=[0.5], colors="k", linewidths=1.2)
    if W1 is not None and b1 is not None:
        a = np.linspace(grid[0], grid[-1], 200)
        for k in range(W1.shape[0]):
            w_a, w_b = W1[k]
            if abs(w_b) > 1e-12:  # w_a a + w_b b + b1 = 0  ->  b = -(w_a a + b1) / w_b
                ax.plot(a, -(w_a * a + b1[k]) / w_b, "--", color="0.3", lw=0.9)
            elif abs(w_a) > 1e-12:
                ax.axvline(-b1[k] / w_a, ls="--", color="0.3", lw=0.9)
    corners = [(0, 0), (0, 1), (1, 0), (1, 1)]
    if targets is not None:
        for i, (ca, cb) in enumerate(corners):
            ax.scatter([ca], [cb], s=90, c=[targets[i]], cmap=_CMAP, vmin=0, vmax=1, edgecolors="k",
                       linewidths=1.5, zorder=3, clip_on=False)
            if annotate and outputs is not None:
                ax.annotate(f"$\\hat{{y}}$={outputs[i]:.2f}\n($y$={int(targets[i])})", (ca, cb),
                            xytext=(34 - 68 * ca, 22 - 44 * cb), textcoords="offset points", ha="center",
                            va="center", fontsize=8,
                            bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8, "lw": 0})
    pad = 0.06 * (grid[-1] - grid[0])
    ax.set_xlim(grid[0] - pad, grid[-1] + pad)
    ax.set_ylim(grid[0] - pad, grid[-1] + pad)
    ax.set_aspect("equal")
    return image


def plot_decision_surface(grid: np.ndarray, Z: np.ndarray, targets: Sequence[float],
                          outputs: Sequence[float], W1: np.ndarray | None = None,
                          b1: np.ndarray | None = None, title: str = "") -> Figure:
    """The network's output ŷ(a, b) over [0,1]² as a heat map.

    ``Z[i, j]`` is ŷ at (a, b) = (grid[j], grid[i]); the black line is ŷ = 0.5, the dots are the four
    inputs coloured by their target, labelled with the output. If W1 (h, 2) and b1 (h,) are given,
    the dashed lines are where each hidden unit's pre-activation W1[k]·(a, b) + b1[k] is 0.
    """
    fig = new_figure(5.4, 4.6)
    ax = fig.add_subplot()
    image = _draw_surface(ax, grid, Z, targets, outputs, W1, b1)
    fig.colorbar(image, ax=ax, label=t("gates.label.output"))
    ax.set_xlabel(t("gates.label.input_a"))
    ax.set_ylabel(t("gates.label.input_b"))
    if title:
        ax.set_title(title)
    return fig


def plot_surfaces_grid(grid: np.ndarray, Zs: Sequence[np.ndarray], labels: Sequence[str],
                       success: Sequence[bool], targets: Sequence[float], title: str = "") -> Figure:
    """Small decision surfaces side by side (one per seed); failed ones get a red frame."""
    n = len(Zs)
    cols = min(n, 5)
    rows = int(np.ceil(n / cols))
    fig = new_figure(2.0 * cols + 0.6, 2.0 * rows + 0.5)
    for i, (Z, label, ok) in enumerate(zip(Zs, labels, success, strict=True)):
        ax = fig.add_subplot(rows, cols, i + 1)
        _draw_surface(ax, grid, Z, targets, annotate=False)
        verdict = t("gates.label.ok") if ok else t("gates.label.fail")
        ax.set_title(f"{label} {verdict}", fontsize=9, color="k" if ok else "tab:red")
        ax.set_xticks([])
        ax.set_yticks([])
        if not ok:
            for spine in ax.spines.values():
                spine.set_edgecolor("tab:red")
                spine.set_linewidth(2.5)
    if title:
        fig.suptitle(title)
    return fig


def plot_gate_losses(steps: np.ndarray, batch_loss: np.ndarray, table_loss: np.ndarray,
                     ylabel: str | None = None, title: str = "") -> Figure:
    """Mini-batch loss (what the course prints) and the loss over the four truth-table inputs."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot(steps, batch_loss, color="tab:blue", alpha=0.35, lw=0.8, label=t("gates.legend.batch_loss"))
    ax.plot(steps, table_loss, color="tab:blue", lw=2, label=t("gates.legend.table_loss"))
    ax.set_yscale("log")
    ax.set_xlabel(t("common.label.step"))
    ax.set_ylabel(ylabel if ylabel is not None else t("gates.label.loss"))
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def plot_loss_seeds(steps: Sequence[np.ndarray], losses: Sequence[np.ndarray], labels: Sequence[str],
                    success: Sequence[bool], ylabel: str | None = None, title: str = "") -> Figure:
    """One loss curve per seed, successes in blue and failures in red."""
    fig = new_figure()
    ax = fig.add_subplot()
    for x, y, label, ok in zip(steps, losses, labels, success, strict=True):
        ax.plot(x, y, color="tab:blue" if ok else "tab:red", alpha=0.6, lw=1, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(t("common.label.step"))
    ax.set_ylabel(ylabel if ylabel is not None else t("gates.legend.table_loss"))
    ax.grid(True, alpha=0.3)
    n_ok = int(sum(success))
    ax.plot([], [], color="tab:blue", label=t("gates.legend.learned", n=n_ok))
    ax.plot([], [], color="tab:red", label=t("gates.legend.failed", n=len(success) - n_ok))
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[-2:], names[-2:])
    if title:
        ax.set_title(title)
    return fig


def plot_success_rate(widths: Sequence[int], n_success: Sequence[int], n_seeds: Sequence[int],
                      title: str = "") -> Figure:
    """Success rate (fraction of seeds that learned the gate) versus hidden width, labelled k/n."""
    widths = np.asarray(widths)
    rate = np.asarray(n_success) / np.asarray(n_seeds)
    fig = new_figure(5.6, 3.8)
    ax = fig.add_subplot()
    ax.plot(widths, rate, "o-")
    for w, r, k, n in zip(widths, rate, n_success, n_seeds, strict=True):
        ax.annotate(f"{k}/{n}", (w, r), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=9)
    ax.set_xscale("log", base=2)
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.set_ylim(-0.05, 1.12)
    ax.set_xlabel(t("gates.label.hidden_width"))
    ax.set_ylabel(t("gates.label.success_rate"))
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    return fig


def plot_gradient_check(names: Sequence[str], rel_err_fd: Sequence[float],
                        rel_err_autograd: Sequence[float], tol: float, title: str = "") -> Figure:
    """Relative error of the backprop gradient per parameter, against finite differences and autograd."""
    x = np.arange(len(names))
    floor = 1e-18  # an exact match (0) is drawn at the floor of the log scale
    fd = np.maximum(np.asarray(rel_err_fd, dtype=float), floor)
    ag = np.maximum(np.asarray(rel_err_autograd, dtype=float), floor)
    fig = new_figure(6.4, 3.8)
    ax = fig.add_subplot()
    ax.bar(x - 0.2, fd, width=0.4, label=t("gates.legend.vs_finite_differences"))
    ax.bar(x + 0.2, ag, width=0.4, label=t("gates.legend.vs_autograd"))
    for offset, raw in ((-0.2, rel_err_fd), (0.2, rel_err_autograd)):
        for xi, value in zip(x, raw, strict=True):
            if value == 0:  # identical to the last bit: no bar on a log scale, so say it
                ax.text(xi + offset, floor * 10, "0", ha="center", va="bottom", fontsize=9)
    ax.axhline(tol, color="tab:red", ls="--", label=t("gates.legend.tolerance", tol=tol))
    ax.set_yscale("log")
    ax.set_ylim(floor, 1.0)
    ax.set_xticks(x, list(names))
    ax.set_ylabel(t("gates.label.relative_error"))
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig
