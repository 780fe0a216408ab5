"""What the iterates of gd2d did (measured) and what theory predicts for each update rule.

The lab :mod:`dlsm.labs.gd2d` uses these; they take arrays and numbers, not the lab's Config.
The verdicts are plain words kept in ``metrics.json`` (``behaviour``) and in the ``optimizers`` table; the
notes and figures show them in the reader's language through :func:`verdict_text`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from dlsm.algorithms.quadratic_theory import momentum_rate
from dlsm.i18n import t

Optimizer = Literal["gd", "momentum", "nesterov", "adam"]
OPTIMIZERS: tuple[Optimizer, ...] = ("gd", "momentum", "nesterov", "adam")

#: The trends :func:`behaviour` returns, and the verdicts :func:`verdict` makes of them.
CONVERGES, DIVERGES = "converges", "diverges"
OSCILLATES, STALLS = "oscillates (never converges)", "stalls (never converges)"
CONVERGED, CONVERGING = "converged", "converging (not within tol yet)"


def behaviour(z: np.ndarray, diverged: bool, coordinatewise: bool) -> tuple[str, float]:
    """Measured behaviour of the iterates, given in Q's eigenbasis z_t = Uᵀ(x_t - x*), shape (T+1, d).

    For plain gradient descent the coordinates evolve independently, so per coordinate the rate over the
    last m ≤ 10 steps r_i = (|z_{T,i}| / |z_{T-m,i}|)^(1/m) tells it all: every r_i < 1 converges, some
    r_i = 1 with alternating sign oscillates for ever, r_i > 1 diverges. Momentum methods and Adam couple
    steps, so for them the average rate over the whole run (‖z_T‖ / ‖z_0‖)^(1/T) is reported instead.
    Returns the trend (:data:`CONVERGES`, :data:`OSCILLATES`, :data:`STALLS`, :data:`DIVERGES`) and the
    measured rate; :func:`verdict` turns a converging trend into "converged" or "converging" by the
    tolerance, so that a run has one verdict.
    """
    if diverged:
        return DIVERGES, float("inf")
    if not coordinatewise:
        e = np.linalg.norm(z, axis=1)
        rate = float((e[-1] / e[0]) ** (1.0 / (len(e) - 1))) if e[0] > 0 else 0.0
        return (DIVERGES if rate > 1 else CONVERGES), rate
    m = min(10, len(z) - 1)
    start, end = np.abs(z[-1 - m]), np.abs(z[-1])
    alive = start > 1e-200
    if not alive.any():
        return CONVERGES, 0.0
    rates = (end[alive] / start[alive]) ** (1.0 / m)
    rate = float(rates.max())
    if rate > 1 + 1e-9:
        return DIVERGES, rate
    if rate >= 1 - 1e-9:
        j = np.flatnonzero(alive)[int(rates.argmax())]
        flips = np.sign(z[-1, j]) != np.sign(z[-2, j])
        return (OSCILLATES if flips else STALLS), rate
    return CONVERGES, rate


def verdict(trend: str, error_final: float, tol: float) -> str:
    """The one verdict of a run: a converging trend is "converged" when ‖x_T - x*‖² ≤ tol, else
    "converging (not within tol yet)"; the other trends are kept as they are."""
    if trend != CONVERGES:
        return trend
    return CONVERGED if error_final <= tol else CONVERGING


def theory_rate(name: Optimizer, eigenvalues: tuple[float, ...], lr: float, momentum: float,
                gd_rate: float) -> float:
    """Predicted asymptotic rate of the linear methods on the quadratic (NaN for Adam, which is not linear)."""
    if name == "gd":
        return gd_rate
    if name == "adam" or min(eigenvalues) < 0:
        return float("nan") if name == "adam" else float("inf")
    return momentum_rate(eigenvalues, lr, momentum, nesterov=name == "nesterov")


def verdict_text(word: str) -> str:
    """A verdict or trend of :func:`behaviour` / :func:`verdict` in the reader's language."""
    texts = {
        CONVERGED: lambda: t("gd2d.word.converged"),
        CONVERGING: lambda: t("gd2d.word.converging"),
        CONVERGES: lambda: t("gd2d.word.converges"),
        OSCILLATES: lambda: t("gd2d.word.oscillates"),
        STALLS: lambda: t("gd2d.word.stalls"),
        DIVERGES: lambda: t("gd2d.word.diverges"),
    }
    if word not in texts:
        raise ValueError(f"unknown verdict {word!r}; verdicts: {', '.join(texts)}")
    return texts[word]()


def optimizer_label(name: str) -> str:
    """The legend label of an update rule (its config name, with what it is)."""
    labels = {
        "gd": lambda: t("gd2d.legend.gd"),
        "momentum": lambda: t("gd2d.legend.momentum"),
        "nesterov": lambda: t("gd2d.legend.nesterov"),
        "adam": lambda: t("gd2d.legend.adam"),
    }
    if name not in labels:
        raise ValueError(f"unknown optimizer {name!r}; optimizers: {', '.join(OPTIMIZERS)}")
    return labels[name]()
