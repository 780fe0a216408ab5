"""Activation functions and their derivatives side by side."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import new_figure


def plot_activations(u: np.ndarray, values: Mapping[str, np.ndarray], slopes: Mapping[str, np.ndarray]) -> Figure:
    """Left: each activation h(u); right: its derivative h'(u)."""
    fig = new_figure(10.0, 4.0)
    ax_f, ax_d = fig.subplots(1, 2)
    for name in values:
        ax_f.plot(u, values[name], label=name)
        ax_d.plot(u, slopes[name], label=name)
    for ax, title in ((ax_f, t("activations.title.activation")), (ax_d, t("activations.title.derivative"))):
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.set_xlabel("u")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend()
    return fig
