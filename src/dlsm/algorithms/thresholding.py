"""Scalar denoisers for sparse recovery: soft and hard thresholding, the Bernoulli-Gaussian MMSE denoiser.

All act entry-wise on tensors of any shape; thresholds and variances may be scalars or tensors that
broadcast against ``r`` (e.g. a per-row τ² of shape (batch, 1)).
"""

from __future__ import annotations

import math

import torch

Scalar = float | torch.Tensor


def soft_threshold(r: torch.Tensor, tau: Scalar) -> torch.Tensor:
    """η_soft(r; τ) = sign(r) max(|r| − τ, 0): the proximal map of τ‖·‖₁ (shrinks every entry towards 0)."""
    return torch.sign(r) * torch.clamp(r.abs() - tau, min=0)


def hard_threshold(r: torch.Tensor, tau: Scalar) -> torch.Tensor:
    """η_hard(r; τ) = r 1{|r| > τ}: keeps the entries above the threshold unchanged, zeroes the rest."""
    return r * (r.abs() > tau)


def bg_log_odds(r: torch.Tensor, tau2: Scalar, p: float, sigma_x2: float) -> torch.Tensor:
    """log P(x ≠ 0 | r) / P(x = 0 | r) for r = x + N(0, τ²), x ~ (1 − p) δ₀ + p N(0, σx²):

        L(r) = log(p / (1 − p)) + ½ log(τ² / (σx² + τ²)) + ½ r² σx² / (τ² (σx² + τ²)).
    """
    tau2 = torch.as_tensor(tau2, dtype=r.dtype, device=r.device)
    s2 = sigma_x2
    prior = math.log(p / (1 - p)) if p < 1 else math.inf
    return prior + 0.5 * torch.log(tau2 / (s2 + tau2)) + 0.5 * _evidence(r, tau2, s2)


def _evidence(r: torch.Tensor, tau2: torch.Tensor, s2: float) -> torch.Tensor:
    """r² σx² / (τ² (σx² + τ²)), capped at 1e30 so that products with a zero (1 − π) stay 0, not NaN."""
    return torch.clamp(r**2 * s2 / (tau2 * (s2 + tau2)), max=1e30)


def bg_mmse_denoiser(r: torch.Tensor, tau2: Scalar, p: float, sigma_x2: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean η(r) = E[x | r] for r = x + N(0, τ²) with the Bernoulli-Gaussian prior, and dη/dr.

    With c = σx² / (σx² + τ²) and π(r) = P(x ≠ 0 | r) = sigmoid(L(r)) (:func:`bg_log_odds`):

        η(r) = π(r) c r,        dη/dr = c π (1 + (1 − π) r² σx² / (τ² (σx² + τ²))) = Var(x | r) / τ².

    Computed from the log-odds, so it stays finite for tiny τ² and large |r|. ``tau2`` is a scalar or a
    tensor broadcasting against r (for AMP, the per-row τ² of shape (batch, 1)). p = 1 gives the Wiener
    filter c r.
    """
    tau2 = torch.clamp(torch.as_tensor(tau2, dtype=r.dtype, device=r.device), min=torch.finfo(r.dtype).tiny)
    c = sigma_x2 / (sigma_x2 + tau2)
    if p >= 1:
        return c * r, c * torch.ones_like(r)
    logit = bg_log_odds(r, tau2, p, sigma_x2)
    pi = torch.sigmoid(logit)  # P(x ≠ 0 | r)
    one_minus_pi = torch.sigmoid(-logit)  # accurate where π ≈ 1
    eta = pi * c * r
    deta = c * pi * (1 + one_minus_pi * _evidence(r, tau2, sigma_x2))
    return eta, deta
