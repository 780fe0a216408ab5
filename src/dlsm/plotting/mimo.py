"""Figures of the MIMO detection lab: SER versus SNR with confidence intervals, training curves, TPG's parameters."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import new_figure

#: Line styles by detector: classical dashed, learned solid.
_STYLE = {"zf": ("C7", "--", "x"), "lmmse": ("C0", "--", "s"), "kbest": ("C5", ":", "v"), "ep": ("C4", ":", "^"),
          "ml": ("k", "-", "o"), "map": ("C8", "--", "."), "nn": ("C1", "-", "D"), "tpg": ("C3", "-", "P"),
          "tpgsearch": ("C2", "-", "*")}


def plot_ser_vs_snr(snr_db: np.ndarray, curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                    title: str, operating_snr: float | None = None, labels: Mapping[str, str] | None = None) -> Figure:
    """SER (log scale) against SNR in dB; ``curves[name] = (ser, low, high)``, the interval drawn as error bars.

    Points with no error observed are drawn at their upper confidence bound with a downward marker.
    """
    fig = new_figure(6.6, 4.6)
    ax = fig.add_subplot()
    x = np.asarray(snr_db, dtype=float)
    for name, (ser, low, high) in curves.items():
        ser, low, high = (np.asarray(a, dtype=float) for a in (ser, low, high))
        color, ls, marker = _STYLE.get(name, (None, "-", "o"))
        label = (labels or {}).get(name, name)
        pos = ser > 0
        ax.errorbar(x[pos], ser[pos], yerr=[ser[pos] - low[pos], high[pos] - ser[pos]], color=color, ls=ls,
                    marker=marker, ms=4, capsize=2, label=label)
        if (~pos).any():
            ax.plot(x[~pos], high[~pos], ls="none", marker="v", color=color, ms=5)
    if operating_snr is not None:
        ax.axvline(operating_snr, color="0.6", lw=0.8, ls=":", label=t("mimo.legend.training_snr"))
    ax.set_yscale("log")
    ax.set_xlabel(t("mimo.label.snr_per_antenna"))
    ax.set_ylabel(t("mimo.label.ser"))
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return fig


def plot_training(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str,
                  marks: Mapping[str, tuple[float, str]] | None = None, ylabel: str | None = None,
                  labels: Mapping[str, str] | None = None) -> Figure:
    """Training loss (log scale) against the optimizer step, one line per detector (``labels[name]`` in the
    legend); ``marks[name] = (step, text)`` draws a dashed line where that detector's training changes (e.g. to
    another loss). ``ylabel`` defaults to "training MSE"."""
    fig = new_figure(6.4, 3.8)
    ax = fig.add_subplot()
    for name, (steps, loss) in curves.items():
        color = _STYLE.get(name, (None,))[0]
        ax.plot(steps, loss, color=color, lw=0.8, label=(labels or {}).get(name, name))
        if marks and name in marks:
            step, text = marks[name]
            ax.axvline(step, color=color, ls="--", lw=0.8)
            ax.annotate(text, (step, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                        textcoords="offset points", fontsize=8, color=color)
    ax.set_yscale("log")
    ax.set_xlabel(t("common.label.step"))
    ax.set_ylabel(ylabel if ylabel is not None else t("mimo.label.training_mse"))
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def plot_tpg_parameters(gamma: np.ndarray, theta: np.ndarray, alpha: float) -> Figure:
    """The learned step sizes γ_t and projection widths θ_t of TPG per iteration t, α in the title."""
    fig = new_figure(6.4, 3.4)
    it = np.arange(1, len(gamma) + 1)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(it, gamma, "o-", color="C3")
    ax1.set_xlabel(t("mimo.label.iteration_t"))
    ax1.set_ylabel("γ_t")
    ax2.plot(it, theta, "s-", color="C0")
    ax2.set_xlabel(t("mimo.label.iteration_t"))
    ax2.set_ylabel("θ_t")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
    fig.suptitle(t("mimo.title.tpg_parameters", alpha=alpha))
    return fig
