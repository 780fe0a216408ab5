"""Approximate message passing (AMP) for y = A x + w with a soft-threshold or Bayes (MMSE) denoiser.

Donoho, Maleki, Montanari, "Message-passing algorithms for compressed sensing", PNAS 2009:

    r_t = x_t + Aᵀ z_t,                         τ_t² = ‖z_t‖² / m   (estimated from the residual)
    x_{t+1} = η(r_t; τ_t),
    z_{t+1} = y − A x_{t+1} + (1/δ) z_t ⟨η'(r_t; τ_t)⟩,   δ = m/n,  ⟨·⟩ = mean over the n entries.

The last term (the Onsager correction) makes r_t behave like x + N(0, τ_t²), which is what state evolution
(:mod:`dlsm.algorithms.state_evolution`) tracks. Denoisers: ``"soft"``, η = η_soft(r; α τ) with
η' = 1{|r| > α τ}; ``"bg"``, the posterior mean of the Bernoulli-Gaussian prior (p, σx²) with its
derivative.

Units: AMP assumes columns of unit norm (A ~ N(0, 1/m)). Any other scale (A ~ N(0, 1), the course's
setting S2) is handled inside: with s² = ‖A‖_F² / n, AMP runs on A/s and y/s (same x; noise variance σw²/s²).
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from dlsm.algorithms.ista import TrackFn
from dlsm.algorithms.state_evolution import tuned_soft_alpha
from dlsm.algorithms.thresholding import bg_mmse_denoiser, soft_threshold


def column_scale(A: torch.Tensor) -> float:
    """s = √(‖A‖_F² / n): the root-mean-square column norm (1 for A ~ N(0, 1/m), ≈ √m for A ~ N(0, 1))."""
    return math.sqrt(float((A.double() ** 2).sum()) / A.shape[1])


def amp(A: torch.Tensor, y: torch.Tensor, iters: int, *, denoiser: Literal["soft", "bg"], p: float,
        sigma_x2: float = 1.0, noise_var: float, alpha: float | None = None, damping: float | None = None,
        track: TrackFn | None = None) -> torch.Tensor:
    """AMP on every row of y (batch, m) or (m,); returns x̂ (batch, n) or (n,).

    ``p``, ``sigma_x2``: the Bernoulli-Gaussian prior (used by the "bg" denoiser, and to tune α);
    ``noise_var``: σw² in the units of the A given (used only to tune α when ``alpha`` is None; τ² itself
    comes from the residual); ``alpha``: the soft threshold's multiplier of τ (None: the value minimising
    the state-evolution fixed point, :func:`~dlsm.algorithms.state_evolution.tuned_soft_alpha`).
    ``damping``: β ∈ (0, 1] for damped AMP, x_{t+1} ← β x_{t+1} + (1 − β) x_t and z_{t+1} ← β z_{t+1} + (1 − β) z_t
    (a heuristic against divergence on matrices far from i.i.d.; Rangan, Schniter, Fletcher, Sarkar, "On the
    convergence of approximate message passing with arbitrary matrices", IEEE Trans. IT 65(9), 2019); None (the
    default): undamped, exactly the recursion above.
    ``track(t, x_t)`` is called after each iteration t = 1..iters.
    """
    if damping is not None and not 0 < damping <= 1:
        raise ValueError(f"damping must be in (0, 1], got {damping!r}")
    if denoiser not in ("soft", "bg"):
        raise ValueError(f"denoiser must be 'soft' or 'bg', got {denoiser!r}")
    squeeze = y.ndim == 1
    s = column_scale(A)
    An, yn = A / s, (y.unsqueeze(0) if squeeze else y) / s  # (m, n), (batch, m)
    m, n = An.shape
    delta = m / n
    if denoiser == "soft" and alpha is None:
        alpha = tuned_soft_alpha(delta, p, sigma_x2, noise_var / s**2)
    x = torch.zeros(yn.shape[0], n, dtype=yn.dtype, device=yn.device)  # (batch, n)
    z = yn  # (batch, m)
    tiny = torch.finfo(yn.dtype).tiny
    for t in range(1, iters + 1):
        tau2 = torch.clamp((z**2).sum(-1, keepdim=True) / m, min=tiny)  # (batch, 1)
        r = x + z @ An  # (batch, n)
        x_prev = x
        if denoiser == "soft":
            theta = alpha * torch.sqrt(tau2)  # (batch, 1)
            x = soft_threshold(r, theta)
            onsager = (r.abs() > theta).to(r.dtype).mean(-1, keepdim=True)  # (batch, 1)
        else:
            x, deta = bg_mmse_denoiser(r, tau2, p, sigma_x2)
            onsager = deta.mean(-1, keepdim=True)  # (batch, 1)
        if damping is None:
            z = yn - x @ An.T + z * onsager / delta  # (batch, m)
        else:
            x = damping * x + (1 - damping) * x_prev
            z = damping * (yn - x @ An.T + z * onsager / delta) + (1 - damping) * z  # (batch, m)
        if track is not None:
            track(t, x)
    return x[0] if squeeze else x
