"""Figures of lecture 7: diffusion processes, samples over the data, schedules, images, VAE latent maps.

Their words come from the glossary (``diffusion.*`` for the DDPM figures, ``vae.*`` for the VAE's). Every
figure fits the PDF report's box (180 × 110 mm) at its own size or larger, and its text is at least 8 pt
there, so that no text shrinks below 8 pt on paper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from dlsm.i18n import t
from dlsm.plotting import new_figure

#: Widest figure (inches) that the PDF report prints without shrinking it (its text width, 180 mm).
MAX_WIDTH = 7.0
TITLE_PT, PANEL_PT = 10, 9  # a figure's title, a small panel's title


def _lims(points: np.ndarray, pad: float = 0.15) -> tuple[tuple[float, float], tuple[float, float]]:
    lo, hi = np.percentile(points, 0.5, axis=0), np.percentile(points, 99.5, axis=0)
    span = np.maximum(hi - lo, 1e-3)
    return (lo[0] - pad * span[0], hi[0] + pad * span[0]), (lo[1] - pad * span[1], hi[1] + pad * span[1])


def plot_process_2d(snapshots: Sequence[tuple[int, np.ndarray]], title: str, reference: np.ndarray) -> Figure:
    """One scatter panel per (t, x_t (n, 2)) snapshot, all with limits that hold ``reference`` and N(0, I) (±3)."""
    cols = min(len(snapshots), 5)
    rows = int(np.ceil(len(snapshots) / cols))
    side = min(1.6, MAX_WIDTH / cols)  # inches per panel
    fig = new_figure(side * cols, side * rows + 0.35)
    (x0, x1), (y0, y1) = _lims(reference, pad=0.05)
    xl, yl = (min(x0, -3.0), max(x1, 3.0)), (min(y0, -3.0), max(y1, 3.0))  # N(0, I) fits: x_T is seen against it
    for i, (step, x) in enumerate(snapshots):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.scatter(x[:, 0], x[:, 1], s=1, alpha=0.4, color="C0", rasterized=True)
        ax.set_xlim(*xl)
        ax.set_ylim(*yl)
        ax.set_title(f"t = {step}", fontsize=PANEL_PT, pad=2)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=TITLE_PT)
    return fig


def plot_samples_2d(data: np.ndarray, samples: np.ndarray, title: str, off: np.ndarray | None = None) -> Figure:
    """Generated samples over held-out data points; samples off the data (``off`` mask) in red."""
    fig = new_figure(5.0, 4.2)
    ax = fig.add_subplot()
    ax.scatter(data[:, 0], data[:, 1], s=2, color="0.7", label=t("diffusion.legend.heldout_data"), rasterized=True)
    keep = np.ones(len(samples), bool) if off is None else ~off
    ax.scatter(samples[keep, 0], samples[keep, 1], s=2, color="C0", alpha=0.6, label=t("diffusion.legend.samples"),
               rasterized=True)
    if off is not None and off.any():
        ax.scatter(samples[off, 0], samples[off, 1], s=4, color="C3", label=t("diffusion.legend.off_data"))
    xl, yl = _lims(data)
    ax.set_xlim(*xl)
    ax.set_ylim(*yl)
    ax.set_aspect("equal")
    ax.legend(loc="best", fontsize=8, markerscale=4)
    ax.set_title(title)
    return fig


def plot_schedule(betas: np.ndarray, alpha_bars: np.ndarray, title: str,
                  variances: Mapping[str, np.ndarray] | None = None) -> Figure:
    """β_t and ᾱ_t against the step t; ``variances``: named reverse-step variances σ_t² at t = 1..T−1, drawn as
    σ_t²/β_t in a third panel (1: the course's σ_t² = β_t)."""
    panels = 3 if variances else 2
    fig = new_figure(MAX_WIDTH if variances else 6.0, 2.9)
    ts = np.arange(len(betas))
    ax1, ax2 = fig.add_subplot(1, panels, 1), fig.add_subplot(1, panels, 2)
    ax1.plot(ts, betas)
    ax1.set_xlabel("t")
    ax1.set_ylabel(r"$\beta_t$")
    ax2.plot(ts, alpha_bars)
    ax2.set_xlabel("t")
    ax2.set_ylabel(r"$\bar\alpha_t$")
    ax2.set_ylim(-0.02, 1.02)
    ax2.axhline(alpha_bars[-1], color="C3", ls=":", lw=1)
    ax2.annotate(rf"$\bar\alpha_T$ = {alpha_bars[-1]:.3g}", (len(ts) - 1, alpha_bars[-1]), ha="right", va="bottom",
                 color="C3")
    if variances:
        ax3 = fig.add_subplot(1, panels, 3)
        ax3.axhline(1.0, color="0.6", lw=1, label=t("diffusion.legend.beta_course"))
        for i, (label, v) in enumerate(variances.items()):
            ax3.plot(ts[1:], np.asarray(v) / betas[1:], ls=("--", "-")[i % 2], label=label)
        ax3.set_xlabel("t")
        ax3.set_ylabel(t("diffusion.label.variance_ratio"))
        ax3.set_ylim(bottom=0)
        ax3.legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=TITLE_PT)
    return fig


def plot_loss(steps: np.ndarray, loss: np.ndarray, title: str, ylabel: str) -> Figure:
    """A training loss against the optimizer step, on a log scale."""
    fig = new_figure(5.0, 3.2)
    ax = fig.add_subplot()
    ax.plot(steps, loss, lw=0.8)
    ax.set_xlabel(t("common.label.step"))
    ax.set_ylabel(ylabel)
    ax.set_yscale("log")
    ax.set_title(title)
    return fig


def plot_image_grid(images: np.ndarray, title: str, ncol: int = 10, labels: Sequence[str] | None = None) -> Figure:
    """Grey images (n, 1, H, W) or (n, H, W) in [0, 1] in a grid of ``ncol`` columns."""
    imgs = images.reshape(len(images), images.shape[-2], images.shape[-1])
    ncol = min(ncol, len(imgs))
    nrow = int(np.ceil(len(imgs) / ncol))
    side = min(0.65, MAX_WIDTH / ncol)  # inches per image
    fig = new_figure(side * ncol, side * nrow + 0.4)
    for i, img in enumerate(imgs):
        ax = fig.add_subplot(nrow, ncol, i + 1)
        ax.imshow(np.clip(img, 0, 1), cmap="gray_r", vmin=0, vmax=1)
        ax.axis("off")
        if labels is not None:
            ax.set_title(labels[i], fontsize=8)
    fig.suptitle(title, fontsize=TITLE_PT)
    return fig


def plot_image_process(snapshots: Sequence[tuple[int, np.ndarray]], title: str) -> Figure:
    """Rows: a few samples; columns: x_t at the kept steps t (images mapped to [0, 1])."""
    n = max(len(imgs) for _, imgs in snapshots)
    cols = len(snapshots)
    side = min(0.62, MAX_WIDTH / cols, 3.9 / n)  # inches per image: the figure fits 7 × 4.3 in
    fig = new_figure(side * cols, side * n + 0.45)
    for j, (step, imgs) in enumerate(snapshots):
        for i in range(len(imgs)):
            ax = fig.add_subplot(n, cols, i * cols + j + 1)
            ax.imshow(np.clip(imgs[i].reshape(imgs.shape[-2], imgs.shape[-1]), 0, 1), cmap="gray_r", vmin=0, vmax=1)
            ax.axis("off")
            if i == 0:
                ax.set_title(f"t={step}", fontsize=8, pad=2)
    fig.suptitle(title, fontsize=TITLE_PT)
    return fig


def plot_latent_map(z: np.ndarray, labels: np.ndarray, title: str) -> Figure:
    """A 2-D latent code per test image (n, 2), coloured by the digit's label."""
    fig = new_figure(5.2, 4.4)
    ax = fig.add_subplot()
    sc = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=4, vmin=-0.5, vmax=9.5, rasterized=True)
    fig.colorbar(sc, ax=ax, ticks=range(10), label=t("vae.label.digit"))
    ax.set_xlabel(r"$z_1$")
    ax.set_ylabel(r"$z_2$")
    ax.set_title(title)
    return fig


def plot_elbo(epochs: np.ndarray, train: np.ndarray, test: np.ndarray, title: str) -> Figure:
    """Training and test ELBO (nats per image) per epoch."""
    fig = new_figure(5.0, 3.2)
    ax = fig.add_subplot()
    ax.plot(epochs, train, marker="o", ms=3, label=t("vae.legend.training"))
    ax.plot(epochs, test, marker="s", ms=3, label=t("vae.legend.test"))
    ax.set_xlabel(t("common.label.epoch"))
    ax.set_ylabel(t("vae.label.elbo"))
    ax.legend()
    ax.set_title(title)
    return fig


def plot_image_rows(rows: Sequence[tuple[str, np.ndarray]], title: str,
                    column_labels: Sequence[str] | None = None) -> Figure:
    """One labelled row per (label, images (k, 1, H, W) in [0, 1]): a class per row, or a guidance scale per row."""
    ncol = max(len(imgs) for _, imgs in rows)
    nrow = len(rows)
    side = min(0.6, (MAX_WIDTH - 0.8) / ncol, 4.0 / nrow)  # inches per image; 0.8 in for the row labels
    fig = new_figure(side * ncol + 0.8, side * nrow + 0.5)
    grid = fig.add_gridspec(nrow, ncol, left=0.8 / (side * ncol + 0.8), right=0.99, top=1 - 0.42 / (side * nrow + 0.5),
                            bottom=0.01, wspace=0.05, hspace=0.05)
    for i, (label, imgs) in enumerate(rows):
        for j, img in enumerate(imgs):
            ax = fig.add_subplot(grid[i, j])
            ax.imshow(np.clip(img.reshape(img.shape[-2], img.shape[-1]), 0, 1), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=PANEL_PT)
            if i == 0 and column_labels is not None:
                ax.set_title(column_labels[j], fontsize=8, pad=2)
    fig.suptitle(title, fontsize=TITLE_PT)
    return fig


def plot_reverse_animation(frames: Sequence[tuple[int, np.ndarray]], title: str, ncol: int = 8) -> Figure:
    """The last frame of the reverse process as a figure, with every frame (t, images (n, 1, H, W) in [0, 1])
    attached as ``gif_frames``: the run folder writes them as an animated GIF beside the PNG
    (:func:`write_gif`)."""
    step, last = frames[-1]
    fig = plot_image_grid(last, f"{title}, t={step}", ncol=ncol)
    fig.gif_frames, fig.gif_ncol = list(frames), ncol
    return fig


def write_gif(fig: Figure, path, ms_per_frame: int = 120, hold_ms: int = 1500, scale: int = 2) -> None:
    """Write ``fig.gif_frames`` (of :func:`plot_reverse_animation`) to ``path`` as a looping grey GIF: the digits
    of each frame in a grid (``gif_ncol`` columns, each pixel ``scale`` × ``scale``), under them a bar whose length is
    the share of the reverse process done (1 − t/T; no text, so one file serves every language); the last frame
    is held ``hold_ms``."""
    from PIL import Image

    T = max(step for step, _ in fig.gif_frames) or 1
    pictures = []
    for step, imgs in fig.gif_frames:
        grid = _grey_grid(imgs, fig.gif_ncol)  # (H, W) in [0, 1], dark strokes on white
        bar = np.ones((6, grid.shape[1]))
        bar[1:5, :round(grid.shape[1] * (1 - step / T))] = 0.35
        frame = np.vstack([grid, bar])
        frame = np.kron(frame, np.ones((scale, scale)))
        pictures.append(Image.fromarray(np.round(255 * frame).astype(np.uint8), mode="L"))
    durations = [ms_per_frame] * (len(pictures) - 1) + [hold_ms]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=durations, loop=0, optimize=True)


def _grey_grid(images: np.ndarray, ncol: int, gap: int = 2) -> np.ndarray:
    """Images (n, 1, H, W) in [0, 1] as one grey picture (ink dark on white) of ``ncol`` columns."""
    imgs = 1 - np.clip(images.reshape(len(images), images.shape[-2], images.shape[-1]), 0, 1)
    n, h, w = imgs.shape
    ncol = min(ncol, n)
    nrow = -(-n // ncol)
    out = np.ones((nrow * (h + gap) + gap, ncol * (w + gap) + gap))
    for k, img in enumerate(imgs):
        r, c = divmod(k, ncol)
        out[gap + r * (h + gap):gap + r * (h + gap) + h, gap + c * (w + gap):gap + c * (w + gap) + w] = img
    return out
