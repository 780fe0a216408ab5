"""Figures of image classification: learning curves, confusion matrix, grids of labelled images."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import MIN_TEXT_PT, new_figure


def plot_learning_curves(epochs: np.ndarray, train_loss: np.ndarray, test_loss: np.ndarray,
                         train_accuracy: np.ndarray, test_accuracy: np.ndarray, title: str = "",
                         val_loss: np.ndarray | None = None, val_accuracy: np.ndarray | None = None) -> Figure:
    """Loss (left) and accuracy (right) per evaluation (x in epochs), training, test and validation sets."""
    fig = new_figure(9.0, 3.6)
    ax_loss, ax_acc = fig.subplots(1, 2)
    marker = "o" if len(epochs) <= 40 else None
    train, test, validation = t("classify.legend.train"), t("classify.legend.test"), t("classify.legend.validation")
    ax_loss.plot(epochs, train_loss, marker=marker, label=train)
    ax_loss.plot(epochs, test_loss, marker=marker, label=test)
    if val_loss is not None:
        ax_loss.plot(epochs, val_loss, marker=marker, label=validation)
    ax_loss.set_ylabel(t("classify.label.loss_nll"))
    ax_acc.plot(epochs, 100 * np.asarray(train_accuracy), marker=marker, label=train)
    ax_acc.plot(epochs, 100 * np.asarray(test_accuracy), marker=marker, label=test)
    if val_accuracy is not None:
        ax_acc.plot(epochs, 100 * np.asarray(val_accuracy), marker=marker, label=validation)
    ax_acc.set_ylabel(t("classify.label.accuracy_percent"))
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel(t("common.label.epoch"))
        ax.grid(True, alpha=0.3)
        ax.legend()
        if 0 < len(epochs) <= 12 and np.allclose(epochs, np.round(epochs)):
            ax.set_xticks(epochs)
    if title:
        fig.suptitle(title)
    return fig


def plot_confusion_matrix(counts: np.ndarray, classes: Sequence[str], title: str = "") -> Figure:
    """Counts C[i, j] (true class i, predicted class j) as an image with the numbers written in."""
    counts = np.asarray(counts)
    k = len(classes)
    size = min(9.0, 2.2 + 0.32 * k)
    fig = new_figure(size + 1.0, size)
    ax = fig.add_subplot()
    im = ax.imshow(counts, cmap="Blues")
    fig.colorbar(im, ax=ax, shrink=0.8, label=t("classify.label.images"))
    if k <= 30:
        threshold = counts.max() / 2 if counts.size else 0
        for i in range(k):
            for j in range(k):
                if counts[i, j]:
                    ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if counts[i, j] > threshold else "black")
    ax.set_xticks(range(k), labels=list(classes), rotation=90 if max(map(len, classes)) > 3 else 0)
    ax.set_yticks(range(k), labels=list(classes))
    ax.set_xlabel(t("classify.label.predicted_class"))
    ax.set_ylabel(t("classify.label.true_class"))
    ax.set_title(title or t("classify.title.confusion_counts", n=int(counts.sum())))
    return fig


def mosaic(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """Images (N, C, H, W) tiled row by row into one (R·(H+gap), cols·(W+gap), C) array; gaps are NaN."""
    n, c, h, w = images.shape
    cols = max(1, min(columns, n))
    rows = max(1, -(-n // cols))
    tiles = np.full((rows * (h + gap), cols * (w + gap), c), np.nan)
    for i in range(n):
        r, q = divmod(i, cols)
        tiles[r * (h + gap):r * (h + gap) + h, q * (w + gap):q * (w + gap) + w] = np.transpose(images[i], (1, 2, 0))
    return tiles


def plot_image_grid(images: np.ndarray, titles: Sequence[str], title: str = "", columns: int = 8,
                    title_colors: Sequence[str] | None = None) -> Figure:
    """Images (N, C, H, W) with values in [0, 1], each with a short title, on a grid.

    The grid is drawn as one mosaic image (one axes), which is much faster than one axes per image.
    """
    images = np.clip(np.asarray(images, dtype=float), 0.0, 1.0)
    n = len(images)
    cols = max(1, min(columns, n))
    rows = max(1, -(-n // cols))
    fig = new_figure(1.1 * cols + 0.3, 1.15 * rows + (0.5 if title else 0.15))
    ax = fig.add_subplot()
    ax.set_axis_off()
    if n == 0:
        ax.text(0.5, 0.5, t("classify.label.none"), ha="center", va="center", transform=ax.transAxes)
    else:
        _, c, h, w = images.shape
        tiles = mosaic(images, cols, gap=max(2, h // 4))
        if c == 1:
            grey = np.ma.masked_invalid(tiles[..., 0])
            ax.imshow(grey, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        else:
            ax.imshow(np.nan_to_num(tiles, nan=1.0), interpolation="nearest")
        step_y, step_x = tiles.shape[0] / rows, tiles.shape[1] / cols
        for i in range(n):
            r, q = divmod(i, cols)
            color = title_colors[i] if title_colors is not None else "black"
            ax.text(q * step_x + w / 2, r * step_y - 0.5, titles[i], ha="center", va="bottom", fontsize=MIN_TEXT_PT,
                    color=color, clip_on=False)
    if title:
        fig.suptitle(title)
    return fig


def plot_misclassified(images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str],
                       n_total: int, columns: int = 8) -> Figure:
    """A grid of misclassified test images titled "true → predicted" (``n_total`` errors in all)."""
    titles = [f"{classes[i]} → {classes[j]}" for i, j in zip(y_true, y_pred, strict=True)]
    title = (t("classify.title.misclassified_first", shown=len(images), n=n_total) if len(images) < n_total
             else t("classify.title.misclassified", n=n_total))
    return plot_image_grid(images, titles, title, columns, title_colors=["tab:red"] * len(images))
