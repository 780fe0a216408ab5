"""Figures of the sparse-recovery lab: NMSE per iteration, the λ sweep, a recovered signal, the phase transition.

Their fixed texts (axis labels, reference lines, default titles) come from the glossary (``sparse.*``), in the
current language; the methods' legends are given by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import new_figure


def plot_nmse_iterations(curves: Mapping[str, np.ndarray], se: np.ndarray | None = None,
                         se_fixed_point: float | None = None, genie: float | None = None,
                         title: str = "") -> Figure:
    """NMSE [dB] against the iteration t = 1, 2, ... (log axis) for each method; SE prediction, SE fixed point and
    the genie bound as reference lines."""
    fig = new_figure(7.0, 4.4)
    ax = fig.add_subplot()
    for label, y in curves.items():
        y = np.asarray(y, dtype=float)
        ax.plot(np.arange(1, len(y) + 1), y, label=label)
    if se is not None:
        ax.plot(np.arange(1, len(se) + 1), se, "k--", lw=1, label=t("sparse.legend.se"))
    if se_fixed_point is not None:
        ax.axhline(se_fixed_point, color="k", ls=":", lw=1,
                   label=t("sparse.legend.se_fixed_point", value=se_fixed_point))
    if genie is not None:
        ax.axhline(genie, color="tab:gray", ls="-.", lw=1, label=t("sparse.legend.genie", value=genie))
    ax.set_xscale("log")
    ax.set_xlabel(t("sparse.label.iteration_t"))
    ax.set_ylabel("NMSE [dB]")
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize="small")
    ax.set_title(title or t("sparse.title.nmse_iterations"))
    return fig


def plot_lambda_sweep(lams: np.ndarray, curves: Mapping[str, np.ndarray], title: str = "") -> Figure:
    """NMSE [dB] against the LASSO penalty λ (log axis), one line per method / iteration count; best λ marked."""
    fig = new_figure()
    ax = fig.add_subplot()
    for label, y in curves.items():
        y = np.asarray(y, dtype=float)
        (line,) = ax.plot(lams, y, marker="o", ms=3, label=label)
        i = int(np.nanargmin(y))
        ax.plot(lams[i], y[i], "*", ms=12, color=line.get_color())
    ax.set_xscale("log")
    ax.set_xlabel("λ")
    ax.set_ylabel("NMSE [dB]")
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize="small")
    ax.set_title(title or t("sparse.title.lambda_sweep"))
    return fig


def plot_signal(x: np.ndarray, estimates: Mapping[str, np.ndarray], title: str = "") -> Figure:
    """One true signal (stems) and its recoveries (markers) against the index j."""
    fig = new_figure(7.5, 3.8)
    ax = fig.add_subplot()
    j = np.arange(len(x))
    ax.stem(j, x, linefmt="C0-", markerfmt="C0o", basefmt="k-", label=t("sparse.legend.true_x"))
    for k, (label, xh) in enumerate(estimates.items(), start=1):
        ax.plot(j, xh, "x" if k == 1 else "+", color=f"C{k}", ms=6, label=label)
    ax.set_xlabel(t("sparse.label.index_j"))
    ax.set_ylabel(t("sparse.label.value"))
    ax.legend(fontsize="small")
    ax.set_title(title or t("sparse.title.signal"))
    return fig


def plot_phase_transition(deltas: np.ndarray, rhos: np.ndarray, success: np.ndarray, curve_delta: np.ndarray,
                          curve_rho: np.ndarray, point: tuple[float, float] | None = None,
                          title: str = "") -> Figure:
    """Success probability (δ = m/n across, ρ = k/m up) as an image, with the theoretical ℓ1 curve ρ*(δ)."""
    fig = new_figure(6.0, 4.6)
    ax = fig.add_subplot()
    dd, dr = np.diff(deltas).mean() if len(deltas) > 1 else 0.1, np.diff(rhos).mean() if len(rhos) > 1 else 0.1
    extent = (deltas[0] - dd / 2, deltas[-1] + dd / 2, rhos[0] - dr / 2, rhos[-1] + dr / 2)
    im = ax.imshow(success, origin="lower", extent=extent, aspect="auto", cmap="gray", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, label=t("sparse.label.success"))
    ax.plot(curve_delta, curve_rho, "r-", lw=2, label=t("sparse.legend.l1_theory"))
    if point is not None:
        ax.plot(*point, "c*", ms=14, label=t("sparse.legend.this_setting"))
    ax.set_xlabel("δ = m / n")
    ax.set_ylabel("ρ = k / m")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.legend(fontsize="small", loc="upper left")
    ax.set_title(title or t("sparse.title.phase_transition"))
    return fig
