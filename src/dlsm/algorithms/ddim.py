"""Denoising diffusion implicit models (Song, Meng & Ermon, ICLR 2021): a fast sampler for a trained DDPM.

DDIM uses the network ε̂(x_t, t) trained by the DDPM loss unchanged and samples through a subsequence
τ_1 < ... < τ_K of the T trained steps (ᾱ_{τ_0} = 1: the data). At x_{τ_i} it estimates

    x̂_0 = (x_{τ_i} − √(1 − ᾱ_{τ_i}) ε̂) / √ᾱ_{τ_i}

and steps to (the paper's eq. 12)

    x_{τ_{i−1}} = √ᾱ_{τ_{i−1}} x̂_0 + √(1 − ᾱ_{τ_{i−1}} − σ_i²) ε̂ + σ_i z,   z ~ N(0, I),
    σ_i = η √((1 − ᾱ_{τ_{i−1}})/(1 − ᾱ_{τ_i})) √(1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}})    (eq. 16).

η = 0: no noise after x_T, so the map x_T -> x_0 is deterministic (a discretised probability-flow ODE: Euler
steps in σ = √((1 − ᾱ)/ᾱ) of x/√ᾱ). η = 1: σ_i² is the variance β̃ of the DDPM posterior
q(x_{τ_{i−1}} | x_{τ_i}, x_0) of the respaced chain, and the mean is that posterior's mean at x̂_0; with all T
steps it is the DDPM ancestral sampler with ``variance="posterior"``. The last step (to ᾱ = 1) has σ = 0 and
returns x̂_0.

With the scheduler's ``clip``, x̂_0 is clipped to [−clip, clip] and ε̂ re-derived from it,
ε̂ = (x_{τ_i} − √ᾱ_{τ_i} x̂_0)/√(1 − ᾱ_{τ_i}) (diffusers' ``use_clipped_model_output``), so that η = 1 with all
T steps is also the DDPM sampler's clipped step.

With few steps, even an exact ε̂ does not give the data distribution: each step is one Euler step. For data
N(μ, s²) the output's mean is right but its variance falls short (tests/test_ddim.py computes by how much).
"""

from __future__ import annotations

import math

import torch

from dlsm.algorithms.ddpm import DDPMScheduler, NoiseModel


def even_steps(T: int, k: int) -> torch.Tensor:
    """τ (k,): k steps evenly spaced in 0..T−1 with τ_1 = 0 and τ_k = T−1 (fewer if rounding merges some)."""
    if not 1 <= k <= T:
        raise ValueError(f"k must be in 1..{T}, got {k}")
    return torch.unique(torch.linspace(0, T - 1, k, dtype=torch.float64).round().long())


class DDIMSampler:
    """DDIM sampling of a network trained on ``scheduler``'s T steps, through the trained steps ``taus``.

    Args:
        scheduler: the trained schedule (its ᾱ_t and ``clip`` are used).
        taus: increasing trained steps τ_1..τ_K in 0..T−1 (None: all T steps); see :func:`even_steps`.
        eta: η in [0, 1] (0: deterministic; 1: the DDPM posterior variance).
    """

    def __init__(self, scheduler: DDPMScheduler, taus: torch.Tensor | None = None, eta: float = 0.0) -> None:
        T = scheduler.steps
        taus = torch.arange(T) if taus is None else torch.as_tensor(taus).long()
        if taus.dim() != 1 or len(taus) < 1 or int(taus.min()) < 0 or int(taus.max()) >= T or (
                len(taus) > 1 and not bool((taus[1:] > taus[:-1]).all())):
            raise ValueError(f"taus must be increasing steps in 0..{T - 1}")
        if not 0 <= eta <= 1:
            raise ValueError(f"eta must be in [0, 1], got {eta}")
        self.scheduler, self.taus, self.eta, self.clip = scheduler, taus, float(eta), scheduler.clip
        abar = scheduler.alpha_bars[taus]  # ᾱ_{τ_i}, (K,)
        self.alpha_bars = abar
        self.alpha_bars_prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])  # ᾱ_{τ_{i−1}}, (K,)

    @property
    def steps(self) -> int:
        """K, the number of reverse steps."""
        return len(self.taus)

    def sigma(self, i: int) -> float:
        """σ of the step from x_{τ_i} to x_{τ_{i−1}} (i = 1..K; eq. 16)."""
        abar, prev = float(self.alpha_bars[i - 1]), float(self.alpha_bars_prev[i - 1])
        return self.eta * math.sqrt((1 - prev) / (1 - abar) * (1 - abar / prev))

    def step(self, eps_hat: torch.Tensor, i: int, x: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """One step x_{τ_i} -> x_{τ_{i−1}} (i = 1..K) given ε̂ = ε̂(x_{τ_i}, τ_i); no noise drawn when σ = 0."""
        abar, prev = float(self.alpha_bars[i - 1]), float(self.alpha_bars_prev[i - 1])
        x0_hat = (x - math.sqrt(1 - abar) * eps_hat) / math.sqrt(abar)  # (batch, ...)
        if self.clip is not None:
            x0_hat = x0_hat.clamp(-self.clip, self.clip)
            eps_hat = (x - math.sqrt(abar) * x0_hat) / math.sqrt(1 - abar)  # the ε that this x̂_0 implies
        sigma = self.sigma(i)
        out = math.sqrt(prev) * x0_hat + math.sqrt(max(1 - prev - sigma**2, 0.0)) * eps_hat
        if sigma == 0:
            return out
        return out + sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)

    @torch.no_grad()
    def sample(self, model: NoiseModel, shape: tuple[int, ...], generator: torch.Generator,
               device: torch.device | str = "cpu", keep: tuple[int, ...] = (),
               x_T: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """x_T ~ N(0, I) (or the given x_T), then K steps down to x_0; ``model`` is asked at the trained steps τ_i.

        Returns ``(x_0, kept)`` where ``kept[i]`` is a CPU copy of x_{τ_i} for each i in ``keep`` (i = K is the
        starting noise, i = 0 the result), as a respaced :class:`DDPMScheduler` numbers its steps.
        """
        x = torch.randn(shape, generator=generator, device=device) if x_T is None else x_T.to(device)
        kept = {self.steps: x.detach().cpu().clone()} if self.steps in keep else {}
        for i in range(self.steps, 0, -1):
            t_batch = torch.full((x.shape[0],), int(self.taus[i - 1]), device=x.device, dtype=torch.long)  # (batch,)
            x = self.step(model(x, t_batch), i, x, generator)
            if i - 1 in keep:
                kept[i - 1] = x.detach().cpu().clone()
        return x, kept
