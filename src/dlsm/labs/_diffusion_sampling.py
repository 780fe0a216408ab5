"""The diffusion lab's reverse process: which sampler a config asks for, the network as that sampler sees it, and
the steps a figure pictures.

- DDPM's ancestral sampler through all T trained steps, or *respaced* through k of them (Nichol & Dhariwal 2021):
  the sampler's step j takes x from ᾱ_{τ_j} to ᾱ_{τ_{j−1}} and asks the network at its trained step τ_j;
- DDIM (Song et al. 2021) through the same τ (all T steps without respacing), with its noise η;
- flow matching's Euler steps of the learned velocity (:class:`~dlsm.algorithms.flow_matching.EulerSampler`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from dlsm.algorithms.ddim import DDIMSampler, even_steps
from dlsm.algorithms.ddpm import DDPMScheduler
from dlsm.algorithms.flow_matching import EulerSampler

GIF_FRAMES = 24  # frames of the animation of the reverse process
FLOW_STEPS = 50  # Euler steps of process=flow when sample_steps is none (a DDIM-like budget, a twentieth of T = 1000)


def keep_steps(T: int, digits: bool = False) -> tuple[int, ...]:
    """The steps T, ..., 0 at which a process is pictured: for digits ten evenly spaced ones; for 2-D points five,
    T, T/2, T/4, T/10 and 0, denser near the data, where a linear or cosine schedule changes x_t the most (five
    panels fit one row of the report at a legible size)."""
    if digits:
        return tuple(sorted({round(T * k / 9) for k in range(10)}, reverse=True))
    return tuple(sorted({T, T // 2, T // 4, T // 10, 0}, reverse=True))


def gif_steps(T: int, frames: int = GIF_FRAMES) -> tuple[int, ...]:
    """The steps T, ..., 0 of the animation of the reverse process: ``frames`` of them, denser near the data
    (t = T (1 − u)² on an even grid u; most of a digit forms in the last tenth of the steps)."""
    u = np.linspace(0.0, 1.0, frames)
    return tuple(sorted({int(round(T * (1 - v) ** 2)) for v in u}, reverse=True))


def respace(scheduler: DDPMScheduler, k: int) -> tuple[DDPMScheduler, torch.Tensor]:
    """A sampler through k of the T trained steps ("respacing", Nichol & Dhariwal 2021) and the steps τ (k,).

    τ_1 < ... < τ_k are evenly spaced in 0..T−1 with τ_k = T−1; the sampler's schedule keeps ᾱ at those steps,
    β'_j = 1 − ᾱ_{τ_j}/ᾱ_{τ_{j−1}} (ᾱ_{τ_0} = 1), so its step j takes x from noise level ᾱ_{τ_j} to ᾱ_{τ_{j−1}}
    in one Gaussian step, and the network is asked at its own step τ_j. With k = T it is the T-step sampler.
    """
    taus = even_steps(scheduler.steps, k)  # (k,)
    abar = scheduler.alpha_bars[taus]  # (k,)
    prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
    sampler = DDPMScheduler((1 - abar / prev).clamp(max=0.999), scheduler.variance, scheduler.clip)
    return sampler, taus


def at_steps(model: torch.nn.Module, taus: torch.Tensor):
    """The network asked at the trained steps τ[j] when a respaced sampler is at its step j."""
    def net(x: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        return model(x, taus.to(j.device)[j])
    return net


@dataclass
class Sampling:
    """The reverse process of a run: ``sampler`` (the trained scheduler itself, a respaced DDPM, DDIM or Euler),
    the respaced schedule the schedule figure shows (``shown``, or None), the trained steps τ it passes through
    (``taus``, or None for all of them), and whether the network must be asked at τ (respaced ancestral DDPM)."""

    scheduler: DDPMScheduler
    sampler: Any
    shown: DDPMScheduler | None
    taus: torch.Tensor | None
    respaced: bool
    flow: bool
    ask_at_taus: bool

    def network(self, base: Callable) -> Callable:
        """The network as the sampler calls it: at the trained steps τ when respaced."""
        return at_steps(base, self.taus) if self.ask_at_taus else base

    def trained_step(self, j: int) -> int:
        """The trained step of the noise level of the sampler's step j (a respaced, DDIM or Euler sampler numbers
        its own; the Euler sampler's step j is the time j/K, pictured at the step round(T j/K))."""
        if self.sampler is self.scheduler or j == 0:
            return j
        if self.flow:
            return round(self.scheduler.steps * j / self.sampler.steps)
        return self.scheduler.steps if j == self.sampler.steps else int(self.taus[j - 1]) + 1

    @property
    def sample_steps(self) -> int | None:
        """The sampler's own number of steps when it is not the T trained ones (the sample_steps metric)."""
        return self.sampler.steps if self.respaced or self.flow else None


def build_sampling(scheduler: DDPMScheduler, process: str, sampler_name: str, sample_steps: int | None,
                   eta: float) -> Sampling:
    """The sampler of a config's ``process``, ``sampler``, ``sample_steps`` and ``eta`` over the trained
    ``scheduler`` (module docstring)."""
    flow = process == "flow"
    respaced = not flow and sample_steps is not None and sample_steps < scheduler.steps
    sampler, shown, taus = scheduler, None, None
    if respaced:
        shown, taus = respace(scheduler, sample_steps)
    if flow:  # Euler steps of the learned velocity, the network asked at t·(T − 1)
        sampler = EulerSampler(sample_steps or FLOW_STEPS, scheduler.steps - 1)
    elif sampler_name == "ddim":  # DDIM through the same τ as the respaced DDPM sampler (all T steps without it)
        taus = taus if respaced else torch.arange(scheduler.steps)
        sampler = DDIMSampler(scheduler, taus, eta)
    elif respaced:
        sampler = shown
    return Sampling(scheduler, sampler, shown, taus, respaced, flow,
                    ask_at_taus=respaced and sampler_name == "ddpm")
