"""Line plots of curves: one run's series, and the overlay of a sweep."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from dlsm.plotting import new_figure
from dlsm.result import Curve


def plot_curves(curves: Mapping[str, Curve], title: str = "") -> Figure:
    """Overlay several curves that share axes; ``curves`` maps a legend label to a Curve.

    A log-scale y axis is used when any curve asks for it; non-positive values are then dropped.
    """
    fig = new_figure()
    ax = fig.add_subplot()
    log_y = any(c.log_y for c in curves.values())
    for label, c in curves.items():
        x, y = c.x, c.y
        if log_y:
            keep = np.isfinite(y) & (y > 0)
            x, y = x[keep], y[keep]
        ax.plot(x, y, label=label, marker="." if len(x) <= 40 else None)
    if log_y:
        ax.set_yscale("log")
    first = next(iter(curves.values()))
    ax.set_xlabel(first.xlabel)
    ax.set_ylabel(first.ylabel)
    ax.grid(True, alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return fig
