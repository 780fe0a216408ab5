"""Figures of the ``diffusion`` lab: the schedule, the training loss, the forward and reverse processes and the
samples, from what :func:`dlsm.labs.diffusion.compute` kept (:class:`Drawn`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from dlsm.algorithms.ddpm import DDPMScheduler
from dlsm.algorithms.flow_matching import interpolate
from dlsm.i18n import t
from dlsm.plotting.generative import (
    plot_image_grid,
    plot_image_process,
    plot_image_rows,
    plot_loss,
    plot_process_2d,
    plot_reverse_animation,
    plot_samples_2d,
    plot_schedule,
)
from dlsm.problems.toy2d import get_dataset
from dlsm.seeds import generator as stream

#: Generated digits drawn in the samples figure (all of them are scored).
SHOWN_DIGITS = 60
#: Digits whose forward and reverse processes are drawn.
PROCESS_DIGITS = 6
#: Samples drawn per class asked for (a row each).
SHOWN_PER_CLASS = 8
#: Text of the 2-D process figures (one row of five panels, 7 in wide): at the report's narrowest placing
#: (6.3 in) the panels' titles still print at 9.9 pt and the figure's title at 10.8 pt.
PROCESS_PANEL_PT, PROCESS_TITLE_PT = 11, 12


def _legible(fig: Figure) -> Figure:
    """The process figure with its panel titles and its title in larger type (``PROCESS_*_PT``)."""
    for ax in fig.axes:
        ax.set_title(ax.get_title(), fontsize=PROCESS_PANEL_PT, pad=3)
    if fig.get_suptitle():
        fig.suptitle(fig.get_suptitle(), fontsize=PROCESS_TITLE_PT)
    return fig


@dataclass
class Drawn:
    """What the figures need beyond the metrics (the outcome's ``data["drawn"]``; not saved)."""

    settings: dict[str, Any]     # the recipe's values with the user's keys on top
    scheduler: DDPMScheduler
    kept: dict[int, torch.Tensor]  # x_t of the sampler at the kept steps t (CPU)
    x0: torch.Tensor             # training data drawn: up to 2,000 points (n, 2) or 6 digits in [-1, 1]
    loss_steps: np.ndarray       # (logged,)
    losses: np.ndarray           # (logged,)
    sampler: DDPMScheduler | None = None  # a respaced sampler (sample_steps < T); None: the scheduler samples
    reverse: str = ""  # the reverse step when it is not the DDPM sampler's σ_t² ("DDIM, η = 0"); "": the recipe's
    decode: Callable[[torch.Tensor], torch.Tensor] | None = None  # latent digits: codes -> images in [-1, 1]
    classes: torch.Tensor | None = None  # digits: the class asked for of each sample (n,)
    guidance_rows: list[tuple[float, torch.Tensor]] = field(default_factory=list)  # (s, one image per digit)
    shown_steps: tuple[int, ...] = ()  # digits: the kept steps (the trained step of each) the process figures show
    gif_steps: tuple[int, ...] = ()  # digits: the kept steps the animation shows
    flow_steps: int | None = None  # process=flow: the K Euler steps (the step k pictured is the time k/T); None: DDPM

    def forward(self, x0: torch.Tensor, g: torch.Generator, k: int) -> torch.Tensor:
        """A draw of x at the pictured step k (0..T) of the forward process: q(x_k | x_0) of DDPM, or the straight
        path (1 − t) x_0 + t ε at t = k/T."""
        if k == 0:  # no noise drawn: the generator's stream stays that of the figures before flow matching
            return x0
        eps = torch.randn(x0.shape, generator=g)
        if self.flow_steps is not None:
            return interpolate(x0, eps, torch.full((len(x0),), k / self.scheduler.steps))
        return self.scheduler.add_noise(x0, eps, torch.full((len(x0),), k - 1))


def flow_schedule(k: int) -> tuple[np.ndarray, np.ndarray]:
    """β and ᾱ at the K Euler times t_i = i/K (i = 0..K) of the straight path seen as a variance-preserving one:
    x_t/√((1 − t)² + t²) has ᾱ_t = (1 − t)²/((1 − t)² + t²), and β_i = 1 − ᾱ_i/ᾱ_{i−1} (β_0 = 0)."""
    tt = np.arange(k + 1) / k
    abar = (1 - tt) ** 2 / ((1 - tt) ** 2 + tt**2)  # (K + 1,)
    beta = np.concatenate([[0.0], 1 - abar[1:] / abar[:-1]])
    return beta, abar


def draw(data: str, seed: int, drawn: Drawn, samples: torch.Tensor, off_radius: float | None,
         start: str = "noise") -> dict[str, Figure]:
    """Every figure of a run on ``data`` (``samples``: the saved artifact; ``off_radius`` for 2-D sets; ``start``:
    where the reverse process started, noise or data)."""
    s, scheduler = drawn.settings, drawn.scheduler
    sampler = drawn.sampler or scheduler  # the schedule figure shows the sampler's steps
    name = f"{data}, {s['schedule']} T={s['steps']}" + (f" → K={sampler.steps}" if drawn.sampler else "")
    if drawn.flow_steps is not None:
        out = {"schedule": plot_schedule(*flow_schedule(drawn.flow_steps),
                                         t("diffusion.title.flow_schedule", data=data, k=drawn.flow_steps))}
    else:
        out = _ddpm_schedule(drawn, sampler, name)
    if len(drawn.losses):
        out["loss"] = plot_loss(drawn.loss_steps, drawn.losses, t("diffusion.title.loss", network=s["network"]),
                                t("diffusion.label.velocity_mse" if drawn.flow_steps is not None
                                  else "diffusion.label.noise_mse"))
    g = stream(seed, "third")  # the forward process's noise
    keep = sorted(drawn.kept, reverse=True)
    kept, x0 = drawn.kept, drawn.x0
    if data == "digits":
        return {**out, **_digit_figures(drawn, samples, g)}
    forward = [(k, drawn.forward(x0, g, k).numpy()) for k in sorted(keep)]
    ref = x0.numpy()
    out["forward"] = _legible(plot_process_2d(forward, t("diffusion.title.forward"), ref))
    out["reverse"] = _legible(plot_process_2d([(k, kept[k].numpy()) for k in keep], t("diffusion.title.reverse"),
                                              ref))
    points = samples.numpy()
    finite = np.isfinite(points).all(axis=1)
    off = np.zeros(len(points), bool)
    off[finite] = get_dataset(data).distance(points[finite].astype(np.float64)) > off_radius
    if drawn.flow_steps is not None:
        name = f"{data}, flow, K={drawn.flow_steps}"
    title = t("diffusion.title.samples_from_data" if start == "data" else "diffusion.title.samples", name=name)
    out["samples"] = plot_samples_2d(ref, points[finite], title, off[finite])
    return out


def _ddpm_schedule(drawn: Drawn, sampler: DDPMScheduler, name: str) -> dict[str, Figure]:
    """The schedule figure of DDPM: β_t, ᾱ_t and the reverse steps' σ_t² of the sampler."""
    s = drawn.settings
    variances = {}  # the reverse steps' σ_t² when it is not β_t (and β̃_t beside the analytic one)
    if drawn.reverse:  # DDIM: its own step, not one of the DDPM sampler's variances
        pass
    elif s["variance"] != "beta":
        variances[t("diffusion.legend.posterior")] = sampler.posterior_variance[1:].numpy()
    if s["variance"] == "analytic":
        variances[t("diffusion.legend.analytic")] = sampler.analytic_variance[1:].numpy()
    out = {"schedule": plot_schedule(sampler.betas.numpy(), sampler.alpha_bars.numpy(),
                                     t("diffusion.title.schedule", name=name, variance=drawn.reverse or s["variance"]),
                                     variances)}
    return out


def _digit_figures(drawn: Drawn, samples: torch.Tensor, g: torch.Generator) -> dict[str, Figure]:
    """The forward and reverse processes (ten of the pictured steps), the samples by class asked for, the
    guidance scales side by side, and the animation of the reverse process."""
    x0, kept = drawn.x0, drawn.kept
    image = drawn.decode or (lambda x: x)  # the process's x (codes or pixels) -> an image in [-1, 1]
    n = len(x0)
    shown_steps = sorted(drawn.shown_steps, reverse=True)
    forward = [(k, ((image(drawn.forward(x0, g, k)) + 1) / 2).numpy()) for k in sorted(shown_steps)]
    out = {"forward": plot_image_process(forward, t("diffusion.title.forward")),
           "reverse": plot_image_process([(k, ((kept[k][:n] + 1) / 2).numpy()) for k in shown_steps],
                                         t("diffusion.title.reverse"))}
    images = samples.numpy()
    classes = drawn.classes
    if classes is not None and len(torch.unique(classes)) > 1:  # the ten digits: a row per class asked for
        per = max(1, min(SHOWN_PER_CLASS, len(images) // 10))
        rows = [(str(c), images[(classes == c).numpy()][:per]) for c in range(10) if bool((classes == c).any())]
        out["samples"] = plot_image_rows(rows, t("diffusion.title.by_class", shown=per, total=len(images)))
    else:
        shown = images[:SHOWN_DIGITS]
        title = (t("diffusion.title.digit_samples_part", shown=len(shown), total=len(images))
                 if len(shown) < len(images) else t("diffusion.title.digit_samples"))
        out["samples"] = plot_image_grid(shown, title)
    if drawn.guidance_rows:
        out["guidance"] = plot_image_rows([(f"s = {s:g}", imgs.numpy()) for s, imgs in drawn.guidance_rows],
                                          t("diffusion.title.guidance"), [str(c) for c in range(10)])
    out["animation"] = plot_reverse_animation([(k, ((kept[k] + 1) / 2).numpy())
                                               for k in sorted(drawn.gif_steps, reverse=True)],
                                              t("diffusion.title.animation"))
    return out
