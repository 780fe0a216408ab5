"""Vector approximate message passing (VAMP) for y = A x + w with the Bernoulli-Gaussian MMSE denoiser.

Rangan, Schniter, Fletcher, "Vector approximate message passing", IEEE Trans. Inf. Theory 65(10), 2019,
Algorithm 1 (the SVD form, Algorithm 2). With w ~ N(0, σw² I), γw = 1/σw² and A = U diag(s) Vᵀ (one SVD,
computed once and shared by the whole batch), each iteration t = 1, 2, ... is an LMMSE stage then a denoiser:

    LMMSE:    x₂ = r₂ + V diag(γw s / (γw s² + γ₂)) (Uᵀ y − s ⊙ Vᵀ r₂)      (= (γw AᵀA + γ₂ I)⁻¹(γw Aᵀy + γ₂ r₂))
              α₂ = (γ₂ / n) [Σᵢ 1/(γw sᵢ² + γ₂) + (n − R)/γ₂],   η₂ = γ₂/α₂,  γ₁ = η₂ − γ₂,  r₁ = (η₂ x₂ − γ₂ r₂)/γ₁
    denoiser: x₁ = g₁(r₁, γ₁) = E[x | r₁ = x + N(0, 1/γ₁)],  α₁ = ⟨g₁'(r₁, γ₁)⟩,
              η₁ = γ₁/α₁,  γ₂ = η₁ − γ₁,  r₂ = (η₁ x₁ − γ₁ r₁)/γ₂

starting from r₂ = 0, γ₂ = 1/(p σx²) (the first LMMSE stage is then the Wiener filter of the prior). The
estimate after iteration t is x̂_t = x₁. Its MSE is predicted, for any right-rotationally invariant A, by the
state evolution of :mod:`dlsm.algorithms.vamp_se`.

Damping (the damped variant of the paper, for ill-conditioned A): with β ∈ (0, 1],
x₁ ← β g₁(r₁, γ₁) + (1 − β) x₁_prev and the denoiser's variance 1/η₁ ← β/η₁ + (1 − β)/η₁_prev.
Every precision is clipped to [γ_lo, γ_hi] = [1e-8, 1e12] / (p σx²), so no division by zero, no negative
precision (η − γ < 0 from rounding) and no nan; a signal whose new precision falls outside that range keeps its
previous message (r, γ).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlsm.algorithms.ista import TrackFn
from dlsm.algorithms.thresholding import bg_mmse_denoiser

#: Precisions are clipped to these multiples of 1/(p σx²) (the prior's precision).
GAMMA_CLIP = (1e-8, 1e12)


@dataclass(frozen=True)
class SVD:
    """A = U diag(s) Vᵀ (economy form, R = min(m, n) singular values), computed once for many y."""

    U: torch.Tensor  # (m, R)
    s: torch.Tensor  # (R,)
    V: torch.Tensor  # (n, R)

    @classmethod
    def of(cls, A: torch.Tensor) -> SVD:
        U, s, Vh = torch.linalg.svd(A, full_matrices=False)  # (m, R), (R,), (R, n)
        return cls(U, s, Vh.T)

    @property
    def n(self) -> int:
        return int(self.V.shape[0])


def lmmse_stage(svd: SVD, y: torch.Tensor, r2: torch.Tensor, gamma2: torch.Tensor,
                noise_var: float) -> tuple[torch.Tensor, torch.Tensor]:
    """x₂ = (γw AᵀA + γ₂ I)⁻¹ (γw Aᵀ y + γ₂ r₂) and α₂ = (γ₂/n) tr (γw AᵀA + γ₂ I)⁻¹, through the SVD.

    y (batch, m), r2 (batch, n), gamma2 (batch, 1); returns x₂ (batch, n) and α₂ (batch, 1).
    """
    gw = 1.0 / noise_var
    s = svd.s  # (R,)
    d = gw * s**2 + gamma2  # (batch, R)
    resid = y @ svd.U - (r2 @ svd.V) * s  # (batch, R): Uᵀy − s ⊙ Vᵀr₂
    x2 = r2 + (gw * s * resid / d) @ svd.V.T  # (batch, n)
    alpha2 = gamma2 / svd.n * ((1.0 / d).sum(-1, keepdim=True) + (svd.n - s.numel()) / gamma2)  # (batch, 1)
    return x2, alpha2


def extrinsic(eta: torch.Tensor, x: torch.Tensor, gamma: torch.Tensor, r: torch.Tensor,
               gamma_prev: torch.Tensor | None, r_prev: torch.Tensor | None, lo: float,
               hi: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The message to the other stage: γ' = η − γ, r' = (η x − γ r)/γ'. A signal whose γ' leaves (lo, hi) (η ≤ γ
    from rounding, or a precision past the ceiling) keeps its previous message; γ' is clipped to [lo, hi]."""
    new = eta - gamma  # (batch, 1)
    ok = (new > lo) & (new < hi)
    new = new.clamp(lo, hi)
    r_new = (eta * x - gamma * r) / new  # (batch, n)
    if gamma_prev is None:
        return new, r_new
    return torch.where(ok, new, gamma_prev), torch.where(ok, r_new, r_prev)


def vamp(A: torch.Tensor, y: torch.Tensor, iters: int, *, p: float, sigma_x2: float = 1.0, noise_var: float,
         damping: float | None = None, svd: SVD | None = None, track: TrackFn | None = None) -> torch.Tensor:
    """VAMP (module docstring) on every row of y (batch, m) or (m,); returns x̂ (batch, n) or (n,), float64.

    ``noise_var``: σw² > 0 in the units of the A given (any scale of A: VAMP needs no column normalisation; in
    float64 keep σw² ≳ 1e-9 E‖Ax‖²/m, an SNR up to 90 dB, below which rounding dominates after convergence);
    ``p``, ``sigma_x2``: the Bernoulli-Gaussian prior; ``damping``: β ∈ (0, 1] (None or 1: undamped);
    ``svd``: the SVD of A when already computed; ``track(t, x_t)`` after each iteration t = 1..iters.
    """
    if damping is not None and not 0 < damping <= 1:
        raise ValueError(f"damping must be in (0, 1], got {damping!r}")
    if noise_var <= 0:
        raise ValueError(f"noise_var must be > 0 for VAMP's LMMSE stage, got {noise_var!r}")
    beta = 1.0 if damping is None else float(damping)
    squeeze = y.ndim == 1
    y = (y.unsqueeze(0) if squeeze else y).double()  # (batch, m)
    svd = svd or SVD.of(A.double())
    n, batch = svd.n, y.shape[0]
    lo, hi = (c / (p * sigma_x2) for c in GAMMA_CLIP)
    r2 = torch.zeros(batch, n, dtype=y.dtype, device=y.device)  # (batch, n)
    gamma2 = torch.full((batch, 1), 1.0 / (p * sigma_x2), dtype=y.dtype, device=y.device)  # (batch, 1)
    x1 = v1 = gamma1 = r1 = None
    for t in range(1, iters + 1):
        x2, alpha2 = lmmse_stage(svd, y, r2, gamma2, noise_var)
        eta2 = gamma2 / alpha2.clamp(min=1e-300)  # (batch, 1)
        gamma1, r1 = extrinsic(eta2, x2, gamma2, r2, gamma1, r1, lo, hi)
        x1_new, deta = bg_mmse_denoiser(r1, 1.0 / gamma1, p, sigma_x2)
        v1_new = (deta.mean(-1, keepdim=True) / gamma1).clamp(1.0 / hi, 1.0 / lo)  # 1/η₁ = α₁/γ₁
        if x1 is None or beta == 1.0:
            x1, v1 = x1_new, v1_new
        else:
            x1, v1 = beta * x1_new + (1 - beta) * x1, beta * v1_new + (1 - beta) * v1
        gamma2, r2 = extrinsic(1.0 / v1, x1, gamma1, r1, gamma2, r2, lo, hi)
        if track is not None:
            track(t, x1)
    return x1[0] if squeeze else x1
