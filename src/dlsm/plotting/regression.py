"""Figures of lecture 4: derivatives by autograd, loss curves against the least-squares floor, fits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import new_figure


def plot_derivatives(panels: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    """One panel per function: f(x), f'(x) by autograd (line) and the hand-derived f'(x) (dots).

    ``panels`` holds (title, x, f(x), autograd f'(x), hand f'(x)) per function.
    """
    n = len(panels)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig = new_figure(3.6 * cols, 2.9 * rows)
    for i, (title, x, fx, d_auto, d_hand) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.plot(x, fx, color="0.5", label="f(x)")
        ax.plot(x, d_auto, color="tab:blue", label=t("autograd.legend.autograd"))
        step = max(1, len(x) // 25)
        ax.plot(x[::step], d_hand[::step], "o", color="tab:red", ms=3, label=t("autograd.legend.by_hand"))
        ax.set_title(title, fontsize="medium")
        ax.grid(True, alpha=0.3)
        if i == 0:
            ax.legend(fontsize="small")
    return fig


def plot_loss_with_floor(steps: np.ndarray, loss: np.ndarray, floor: float, title: str,
                         floor_label: str | None = None, theory: np.ndarray | None = None) -> Figure:
    """The loss per step (log scale) with the best achievable loss as a dashed line.

    ``theory`` (optional, same length as ``steps``) is the loss that theory predicts, drawn dotted;
    ``floor_label`` names the dashed line (default: least squares, in the current language).
    """
    floor_label = floor_label if floor_label is not None else t("common.legend.least_squares")
    fig = new_figure()
    ax = fig.add_subplot()
    keep = np.isfinite(loss) & (loss > 0)
    ax.plot(steps[keep], loss[keep], color="tab:blue", label=t("common.legend.gradient_descent"))
    if theory is not None:
        ok = np.isfinite(theory) & (theory > 0)
        ax.plot(steps[ok], theory[ok], ":", color="k", lw=2, label=t("linreg.legend.theory"))
    ax.axhline(floor, color="tab:red", ls="--", label=f"{floor_label} ({floor:.4g})")
    ax.set_yscale("log")
    ax.set_xlabel(t("common.label.step"))
    ax.set_ylabel(t("common.label.mse_loss"))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def plot_predictions(targets: np.ndarray, predictions: Mapping[str, np.ndarray], title: str,
                     xlabel: str | None = None, ylabel: str | None = None) -> Figure:
    """Predicted against true values per sample; a perfect fit lies on the diagonal.

    The axes default to the true and the predicted yield (lecture 4's crop table), in the current language.
    """
    xlabel = xlabel if xlabel is not None else t("linreg.label.true_yield")
    ylabel = ylabel if ylabel is not None else t("linreg.label.predicted_yield")
    fig = new_figure(5.0, 4.6)
    ax = fig.add_subplot()
    finite = [p[np.isfinite(p)] for p in predictions.values()]
    values = np.concatenate([targets, *finite])
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo) + 1e-9
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.6", lw=1, label=r"$\hat{y} = y$")
    for (label, p), marker in zip(predictions.items(), "osD^v", strict=False):
        ax.plot(targets, p, marker, ms=7, fillstyle="none", label=label)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_fit_1d(x: np.ndarray, f_true: np.ndarray, y_hat: np.ndarray, x_train: np.ndarray,
                y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, title: str,
                true_label: str = "f(x)") -> Figure:
    """A 1-D regression: the true function, the fitted curve, the training and the test points."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot(x_test, y_test, ".", color="0.7", ms=4, label=t("regression.legend.test_data"))
    ax.plot(x_train, y_train, "o", color="tab:blue", ms=5, label=t("regression.legend.training_data"))
    ax.plot(x, f_true, "--", color="0.3", label=true_label)
    ax.plot(x, y_hat, color="tab:red", lw=2, label=t("regression.legend.network"))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def plot_train_test(epochs: np.ndarray, train: np.ndarray, test: np.ndarray, floor: float,
                    title: str) -> Figure:
    """Training and test loss per epoch (log scale) with the noise variance, the best possible test MSE."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.plot(epochs, train, color="tab:blue", label=t("regression.legend.training_loss"))
    ax.plot(epochs, test, color="tab:orange", label=t("regression.legend.test_loss"))
    ax.axhline(floor, color="0.4", ls="--", label=t("regression.legend.noise_variance", value=floor))
    best = int(np.nanargmin(test))
    ax.plot(epochs[best], test[best], "v", color="tab:orange", ms=8,
            label=t("regression.legend.lowest_test_loss", epoch=epochs[best]))
    ax.set_yscale("log")
    ax.set_xlabel(t("common.label.epoch"))
    ax.set_ylabel("MSE")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig
