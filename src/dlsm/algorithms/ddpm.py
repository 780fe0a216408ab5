"""Denoising diffusion probabilistic models (Ho, Jain & Abbeel, NeurIPS 2020): the noise schedule and samplers.

The schedule lives in a scheduler object, apart from the network, as in Hugging Face diffusers: the
network only predicts the noise ε̂(x_t, t); :class:`DDPMScheduler` holds β_t, α_t = 1 − β_t and
ᾱ_t = Π_{s≤t} α_s for the steps t = 0..T−1 (the paper's 1..T) and does

- the forward process in closed form, :meth:`DDPMScheduler.add_noise`:
      q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I),   x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,  ε ~ N(0, I);
- one ancestral reverse step, :meth:`DDPMScheduler.step`:
      x_{t−1} = 1/√α_t · (x_t − β_t/√(1 − ᾱ_t) · ε̂(x_t, t)) + σ_t z,   z ~ N(0, I),  no noise at t = 0,
  with σ_t² = β_t (the course), the posterior variance β̃_t = β_t (1 − ᾱ_{t−1})/(1 − ᾱ_t), or the analytic
  estimate of the optimal σ_t² (see below). With ``clip`` set, the
  step first estimates x̂_0 = (x_t − √(1 − ᾱ_t) ε̂)/√ᾱ_t, clips it to [−clip, clip] and takes the mean of the
  posterior q(x_{t−1} | x_t, x̂_0) = √ᾱ_{t−1} β_t/(1 − ᾱ_t) x̂_0 + √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) x_t (the same mean
  when nothing is clipped; diffusers' ``clip_sample``). It keeps a poorly trained network's samples in range:
  without it, ε̂ ≈ 0 grows x by 1/√ᾱ_T over the whole chain.

The analytic variance (Bao, Li, Zhu, Zhang, "Analytic-DPM", ICLR 2022, Theorem 1 with λ_t² = β̃_t) is the σ_t²
that minimises the KL divergence of the reverse step from the true q(x_{t−1} | x_t), given the network:

    σ_t*² = β̃_t + (√((1 − ᾱ_t)/α_t) − √(1 − ᾱ_{t−1} − β̃_t))² · (1 − Γ_t),   Γ_t = E‖ε̂(x_t, t)‖² / d,

with the expectation over x_t ~ q(x_t) (training data pushed forward), estimated by Monte Carlo
(:meth:`DDPMScheduler.fit_analytic_variance`) and clipped to [β̃_t, β̃_t + (√(…) − √(…))²] as in the paper.
It lies between β̃_t (x_0 known from x_t: Γ_t = 1) and β_t (x_0 ~ N(0, I): Γ_t = 1 − ᾱ_t); for Gaussian data
it is the exact conditional variance of x_{t−1} given x_t.

Sampling starts from x_T ~ N(0, I), which is right only when ᾱ_{T−1} ≈ 0: then q(x_T) ≈ N(0, I). With the
course's 100 sigmoid steps from 1e-5 to 5e-3, ᾱ_{T−1} = 0.78, so x_T still holds 88 % (√0.78) of x_0 and
the sampler starts from the wrong distribution (:func:`terminal_signal` measures this).

Schedules (:func:`make_betas`): ``linear`` (Ho et al.), ``quadratic`` (linear in √β), ``sigmoid`` (the
course: β_min + (β_max − β_min) · sigmoid(linspace(−6, 6))), ``cosine`` (Nichol & Dhariwal, ICML 2021:
ᾱ(t) = cos²((t/T + s)/(1 + s) · π/2), s = 0.008, β clipped at 0.999; β_min and β_max are not used).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch

ScheduleName = Literal["linear", "quadratic", "sigmoid", "cosine"]
VarianceName = Literal["beta", "posterior", "analytic"]
VARIANCES: tuple[str, ...] = ("beta", "posterior", "analytic")
SCHEDULES: tuple[str, ...] = ("linear", "quadratic", "sigmoid", "cosine")

#: ε̂ = model(x_t, t): the noise predicted for the batch x_t (batch, ...) at the integer steps t (batch,).
NoiseModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def make_betas(name: str, steps: int, beta_min: float = 1e-4, beta_max: float = 0.02) -> torch.Tensor:
    """β_t for t = 0..steps−1 (float64, (steps,)) of the named schedule (see the module docstring)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if name == "linear":
        return torch.linspace(beta_min, beta_max, steps, dtype=torch.float64)
    if name == "quadratic":
        return torch.linspace(beta_min**0.5, beta_max**0.5, steps, dtype=torch.float64) ** 2
    if name == "sigmoid":
        return torch.sigmoid(torch.linspace(-6, 6, steps, dtype=torch.float64)) * (beta_max - beta_min) + beta_min
    if name == "cosine":
        s = 0.008
        u = torch.arange(steps + 1, dtype=torch.float64) / steps
        abar = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2  # (steps + 1,)
        return (1 - abar[1:] / abar[:-1]).clamp(max=0.999)
    raise ValueError(f"unknown schedule {name!r}; known: {', '.join(SCHEDULES)}")


def terminal_signal(alpha_bar_last: float) -> float:
    """√ᾱ_{T−1}: the share of x_0 left in x_T (the signal amplitude; 0 when the forward process reaches noise)."""
    return math.sqrt(alpha_bar_last)


class DDPMScheduler:
    """The noise schedule of a DDPM and its forward and reverse steps (see the module docstring).

    Args:
        betas: β_t, t = 0..T−1, each in (0, 1).
        variance: σ_t² of the reverse step: ``"beta"`` (σ_t² = β_t, the course), ``"posterior"`` (β̃_t) or
            ``"analytic"`` (Analytic-DPM; call :meth:`fit_analytic_variance` with the trained network first).
        clip: clip the estimate of x_0 to [−clip, clip] in each reverse step (None: no clipping).
    """

    def __init__(self, betas: torch.Tensor, variance: VarianceName = "beta", clip: float | None = None) -> None:
        betas = torch.as_tensor(betas, dtype=torch.float64)
        if betas.dim() != 1 or len(betas) < 1 or not bool(((betas > 0) & (betas < 1)).all()):
            raise ValueError("betas must be a non-empty 1-D tensor with every value in (0, 1)")
        if variance not in VARIANCES:
            raise ValueError(f"variance must be one of {', '.join(VARIANCES)}, got {variance!r}")
        self.betas = betas  # (T,)
        self.alphas = 1 - betas  # (T,)
        self.alpha_bars = torch.cumprod(self.alphas, 0)  # (T,)
        abar_prev = torch.cat([torch.ones(1, dtype=torch.float64), self.alpha_bars[:-1]])  # (T,)
        self.posterior_variance = betas * (1 - abar_prev) / (1 - self.alpha_bars)  # β̃_t, 0 at t = 0
        # (√((1 − ᾱ_t)/α_t) − √(1 − ᾱ_{t−1} − β̃_t))²: the width of Analytic-DPM's interval above β̃_t
        gap = (1 - abar_prev - self.posterior_variance).clamp(min=0)
        self._analytic_span = (((1 - self.alpha_bars) / self.alphas).sqrt() - gap.sqrt()) ** 2  # (T,)
        self.analytic_variance: torch.Tensor | None = None  # σ_t*² (T,), set by fit_analytic_variance
        self.variance, self.clip = variance, clip

    @classmethod
    def from_name(cls, name: str, steps: int, beta_min: float = 1e-4, beta_max: float = 0.02,
                  variance: VarianceName = "beta", clip: float | None = None) -> DDPMScheduler:
        return cls(make_betas(name, steps, beta_min, beta_max), variance, clip)

    @property
    def steps(self) -> int:
        return len(self.betas)

    @property
    def alpha_bar_last(self) -> float:
        """ᾱ_{T−1}: the signal power left after the whole forward process (should be ≈ 0)."""
        return float(self.alpha_bars[-1])

    def _at(self, values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """values[t] shaped (batch, 1, ..., 1) to broadcast against ``like`` (batch, ...)."""
        v = values.to(like.device)[t.long()].to(like.dtype)  # (batch,)
        return v.reshape(-1, *([1] * (like.dim() - 1)))

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε: a sample of q(x_t | x_0) for each row, at its own step t (batch,)."""
        abar = self._at(self.alpha_bars, t, x0)  # (batch, 1, ...)
        return abar.sqrt() * x0 + (1 - abar).sqrt() * noise  # (batch, ...)

    def sigma(self, t: int) -> float:
        """σ_t of the reverse step at step t."""
        if self.variance == "analytic":
            if self.analytic_variance is None:
                raise RuntimeError("variance='analytic' needs fit_analytic_variance(model, x0, ...) before sampling")
            return float(self.analytic_variance[t].sqrt())
        var = self.betas[t] if self.variance == "beta" else self.posterior_variance[t]
        return float(var.sqrt())

    def analytic_from_gamma(self, gamma: torch.Tensor) -> torch.Tensor:
        """σ_t*² = β̃_t + span_t (1 − Γ_t) for Γ_t = E‖ε̂(x_t, t)‖²/d (T,), clipped to [β̃_t, β̃_t + span_t]."""
        gamma = torch.as_tensor(gamma, dtype=torch.float64)
        return self.posterior_variance + self._analytic_span * (1 - gamma).clamp(0, 1)  # (T,)

    @torch.no_grad()
    def fit_analytic_variance(self, model: NoiseModel, x0: torch.Tensor, generator: torch.Generator,
                              batch: int = 1000) -> torch.Tensor:
        """Estimate Γ_t = E‖ε̂(x_t, t)‖²/d at every step from ``batch`` rows of x0 (drawn with replacement) pushed
        through q(x_t | x_0), store σ_t*² (used when ``variance="analytic"``) and return it (T,)."""
        d = x0[0].numel()
        gamma = torch.empty(self.steps, dtype=torch.float64)
        for t in range(self.steps):
            idx = torch.randint(0, len(x0), (batch,), generator=generator).to(x0.device)
            eps = torch.randn((batch, *x0.shape[1:]), generator=generator).to(x0.device, x0.dtype)
            t_batch = torch.full((batch,), t, device=x0.device, dtype=torch.long)
            x_t = self.add_noise(x0[idx], eps, t_batch)
            gamma[t] = float((model(x_t, t_batch).double() ** 2).sum()) / (batch * d)
        self.analytic_variance = self.analytic_from_gamma(gamma)
        return self.analytic_variance

    def step(self, eps_hat: torch.Tensor, t: int, x_t: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """One ancestral step x_t -> x_{t−1} given the predicted noise ε̂ (same shape as x_t); no noise at t = 0.

        ``generator`` draws z (on x_t's device); None uses torch's global generator.
        """
        beta, alpha, abar = float(self.betas[t]), float(self.alphas[t]), float(self.alpha_bars[t])
        if self.clip is None:
            mean = (x_t - beta / math.sqrt(1 - abar) * eps_hat) / math.sqrt(alpha)  # (batch, ...)
        else:
            abar_prev = float(self.alpha_bars[t - 1]) if t > 0 else 1.0
            x0_hat = ((x_t - math.sqrt(1 - abar) * eps_hat) / math.sqrt(abar)).clamp(-self.clip, self.clip)
            mean = (math.sqrt(abar_prev) * beta * x0_hat + math.sqrt(alpha) * (1 - abar_prev) * x_t) / (1 - abar)
        if t == 0:
            return mean
        z = torch.randn(x_t.shape, generator=generator, device=x_t.device, dtype=x_t.dtype)
        return mean + self.sigma(t) * z

    @torch.no_grad()
    def sample(self, model: NoiseModel, shape: tuple[int, ...], generator: torch.Generator,
               device: torch.device | str = "cpu", keep: tuple[int, ...] = (),
               x_T: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        """Ancestral sampling: x_T ~ N(0, I), then T reverse steps down to x_0.

        Returns ``(x_0, kept)`` where ``kept[t]`` is a CPU copy of x_t for each t in ``keep`` (t = T is the
        starting noise, t = 0 the result). The same generator state gives the same samples.
        """
        x = (torch.randn(shape, generator=generator, device=device) if x_T is None else x_T.to(device))
        kept = {self.steps: x.detach().cpu().clone()} if self.steps in keep else {}
        for t in range(self.steps - 1, -1, -1):
            t_batch = torch.full((shape[0],), t, device=x.device, dtype=torch.long)  # (batch,)
            x = self.step(model(x, t_batch), t, x, generator)
            if t in keep:
                kept[t] = x.detach().cpu().clone()
        return x, kept


def draw_steps(batch: int, steps: int, generator: torch.Generator, antithetic: bool = True,
               device: torch.device | str = "cpu") -> torch.Tensor:
    """Training steps t (batch,) uniform on 0..T−1; ``antithetic``: half drawn, half T−1−t (the course)."""
    if not antithetic:
        return torch.randint(0, steps, (batch,), generator=generator).to(device)
    half = torch.randint(0, steps, ((batch + 1) // 2,), generator=generator)
    return torch.cat([half, steps - 1 - half])[:batch].to(device)


def noise_prediction_loss(model: NoiseModel, scheduler: DDPMScheduler, x0: torch.Tensor,
                          generator: torch.Generator, antithetic: bool = True) -> torch.Tensor:
    """The simplified DDPM loss E_{t, ε} ‖ε − ε̂(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖², averaged over entries.

    t and ε are drawn from ``generator`` (a CPU generator), then moved to x0's device.
    """
    t = draw_steps(len(x0), scheduler.steps, generator, antithetic, x0.device)  # (batch,)
    eps = torch.randn(x0.shape, generator=generator).to(x0.device)  # (batch, ...)
    x_t = scheduler.add_noise(x0, eps, t)
    return ((eps - model(x_t, t)) ** 2).mean()
