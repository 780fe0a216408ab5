"""Figures of deep unfolding: error per iteration / layer, learned parameters per layer, a recovered signal.

The first two serve the tgd lab, the others the unfold lab; their fixed words come from the glossary."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import new_figure


def zero_floor(curves: Mapping[str, np.ndarray]) -> float:
    """Where an exact zero is drawn on a log axis: one decade below the smallest positive value of all the
    curves (rounded down to a power of ten), so that the curves that never reach zero keep their scale."""
    positive = [v for y in curves.values() for v in np.asarray(y, dtype=float).ravel() if v > 0 and np.isfinite(v)]
    return 10.0 ** (np.floor(np.log10(min(positive))) - 1) if positive else 1.0


def plot_error_per_iteration(curves: Mapping[str, np.ndarray], title: str, ylabel: str | None = None) -> Figure:
    """log10 of each schedule's error after t = 0..T iterations; ``curves`` maps a label to values (T+1,);
    ``ylabel`` None: "log10 squared error".

    An error that is exactly 0 has no logarithm: it is drawn at :func:`zero_floor` (one decade below every
    positive value drawn) with an open marker, and that curve's legend says so."""
    fig = new_figure()
    ax = fig.add_subplot()
    floor = zero_floor(curves)
    any_zero = False
    for label, y in curves.items():
        y = np.asarray(y, dtype=float)
        zero = y <= 0
        if zero.any():
            any_zero = True
            label = t("tgd.legend.exact_zero", label=label)
        line = ax.plot(np.arange(len(y)), np.log10(np.where(zero, floor, y)), marker="o", ms=3, label=label)[0]
        if zero.any():
            ax.plot(np.flatnonzero(zero), np.full(int(zero.sum()), np.log10(floor)), ls="none", marker="v", ms=8,
                    mfc="none", color=line.get_color())
    if any_zero:
        ax.axhline(np.log10(floor), color="0.5", lw=0.8, ls=":")
        ax.text(0.01, np.log10(floor), t("tgd.label.zero_line", floor=np.log10(floor)), ha="left", va="bottom",
                fontsize="small", color="0.35", transform=ax.get_yaxis_transform())
    ax.set_xlabel(t("tgd.label.iteration_t"))
    ax.set_ylabel(ylabel if ylabel is not None else t("tgd.label.log10_sq_error"))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_steps(steps: Mapping[str, np.ndarray], title: str, log_y: bool = False) -> Figure:
    """Step sizes β_t per iteration t = 1..T for several schedules (learned, Chebyshev, optimal, ...)."""
    fig = new_figure()
    ax = fig.add_subplot()
    markers = "osD^vx+"
    for i, (label, b) in enumerate(steps.items()):
        b = np.asarray(b, dtype=float)
        ax.plot(np.arange(1, len(b) + 1), b, marker=markers[i % len(markers)], ls="-" if i == 0 else ":",
                label=label)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(t("tgd.label.iteration_t"))
    ax.set_ylabel(t("tgd.label.step_beta"))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_nmse_per_layer(curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
                        levels: Mapping[str, float], title: str,
                        spread: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Figure:
    """NMSE [dB] per layer / iteration; ``curves`` maps a label to (t, nmse_db), ``levels`` draws horizontal
    lines (the Bayes-optimal and genie limits), ``spread`` shades (low, high) around a curve (over A draws)."""
    fig = new_figure(7.2, 4.6)
    ax = fig.add_subplot()
    for label, (layers, y) in curves.items():
        line = ax.plot(layers, y, marker="." if len(layers) <= 40 else None, label=label)[0]
        if spread and label in spread:
            lo, hi = spread[label]
            ax.fill_between(layers, lo, hi, color=line.get_color(), alpha=0.15, lw=0)
    for i, (label, v) in enumerate(levels.items()):
        if v is not None and np.isfinite(v):
            ax.axhline(v, color="0.3", ls=("--", ":", "-.")[i % 3], lw=1, label=label)
    ax.set_xlabel(t("unfold.label.layer_iteration"))
    ax.set_ylabel("NMSE [dB]")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", ncol=2)
    return fig


def plot_parameters(params: Mapping[str, np.ndarray], title: str) -> Figure:
    """Learned parameters per layer, one panel each (e.g. β_t·L and λ_t of DU-ISTA, γ_t of TISTA)."""
    k = max(1, len(params))
    fig = new_figure(3.2 * k, 3.4)
    axes = fig.subplots(1, k, squeeze=False)[0]
    for ax, (label, v) in zip(axes, params.items(), strict=False):
        v = np.asarray(v, dtype=float)
        ax.plot(np.arange(1, len(v) + 1), v, marker="o", ms=3)
        ax.set_xlabel(t("unfold.label.layer_t"))
        ax.set_title(label, fontsize="medium")
        ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    return fig


def plot_signal(x: np.ndarray, estimates: Mapping[str, np.ndarray], title: str) -> Figure:
    """A true sparse signal (stems) and estimates of it (markers)."""
    fig = new_figure(7.2, 3.8)
    ax = fig.add_subplot()
    idx = np.arange(len(x))
    ax.stem(idx, x, linefmt="0.6", markerfmt="o", basefmt=" ", label=t("unfold.legend.true_x"))
    for i, (label, xh) in enumerate(estimates.items()):
        ax.plot(idx, xh, "x+."[i % 3], ms=5, label=label)
    ax.set_xlabel(t("unfold.label.index_i"))
    ax.set_ylabel(t("unfold.label.value"))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig
