"""Figures of a sweep: a metric over a swept key with error bars, and curves averaged over seeds with bands."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from dlsm.plotting import new_figure

#: One line of a sweep figure: x, the mean over seeds, and the half-width of its 95 % CI (None: one seed).
Line = tuple[np.ndarray, np.ndarray, np.ndarray | None]


def plot_metric_over_key(lines: Mapping[str, Line], xlabel: str, ylabel: str, *, log_y: bool = False,
                         title: str = "") -> Figure:
    """A metric (mean over seeds) against a swept key, one line per value of the other keys, 95 % CI bars.

    ``log_y`` draws a log axis (for example a symbol error rate); non-positive means are then dropped.
    """
    fig = new_figure()
    ax = fig.add_subplot()
    for label, (x, mean, err) in lines.items():
        x, mean = np.asarray(x, float), np.asarray(mean, float)
        keep = np.isfinite(mean) & ((mean > 0) if log_y else True)
        yerr = None if err is None else np.nan_to_num(np.asarray(err, float)[keep])
        ax.errorbar(x[keep], mean[keep], yerr=yerr, label=label or None, marker="o", markersize=4, capsize=3)
    _finish(ax, xlabel, ylabel, log_y, title, legend=len(lines) > 1)
    return fig


def plot_curve_bands(lines: Mapping[str, Line], xlabel: str, ylabel: str, *, log_y: bool = False,
                     title: str = "") -> Figure:
    """Curves (for example a loss per step) averaged over seeds: one line per grid point, a 95 % CI band."""
    fig = new_figure()
    ax = fig.add_subplot()
    for label, (x, mean, err) in lines.items():
        x, mean = np.asarray(x, float), np.asarray(mean, float)
        keep = np.isfinite(mean) & ((mean > 0) if log_y else True)
        (line,) = ax.plot(x[keep], mean[keep], label=label, marker="." if keep.sum() <= 40 else None)
        if err is not None:
            lo, hi = mean - np.asarray(err, float), mean + np.asarray(err, float)
            if log_y:
                lo = np.where(lo > 0, lo, mean[keep].min() if keep.any() else 1.0)
            ax.fill_between(x[keep], lo[keep], hi[keep], color=line.get_color(), alpha=0.2, linewidth=0)
    _finish(ax, xlabel, ylabel, log_y, title, legend=len(lines) > 1)
    return fig


def _finish(ax, xlabel: str, ylabel: str, log_y: bool, title: str, legend: bool) -> None:
    """Axis scale, labels, grid, legend and title shared by the sweep figures."""
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if legend:
        ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
