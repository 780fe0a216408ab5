"""State evolution (SE) of VAMP (:mod:`dlsm.algorithms.vamp`) for any singular-value spectrum of A.

Rangan, Schniter, Fletcher, "Vector approximate message passing", IEEE Trans. Inf. Theory 65(10), 2019,
Theorem 1 with MMSE (matched) denoisers: for right-rotationally invariant A (i.i.d. Gaussian, or
U diag(s) Vᵀ with Haar V and any s), as n → ∞ the input of each stage is x + Gaussian noise of the precision
the algorithm computes, and with

    E₁(γ) = E[Var(X | X + Z/√γ)]                      (the scalar Bernoulli-Gaussian MMSE, ``bg_mse``)
    E₂(γ) = (1/n) [Σᵢ 1/(γw sᵢ² + γ) + (n − R)/γ]      (the LMMSE stage's MSE, an average over A's sᵢ²)

the precisions follow, from γ₂ = 1/(p σx²):

    γ₁ = 1/E₂(γ₂) − γ₂,   mse_t = E₁(γ₁),   γ₂ = 1/mse_t − γ₁,

and mse_t is the predicted per-entry MSE of x̂_t. E₂ uses the squared singular values given (those of the
drawn A, or of a model spectrum), so the same recursion covers the condition-number-15 matrices of the LAMP
paper (Borgerding, Schniter, Rangan, IEEE Trans. SP 2017).
"""

from __future__ import annotations

import math

import numpy as np

from dlsm.algorithms.state_evolution import bg_mse
from dlsm.algorithms.vamp import GAMMA_CLIP


def lmmse_mse(gamma: float, s2: np.ndarray, n: int, noise_var: float) -> float:
    """E₂(γ) = (1/n) [Σᵢ 1/(sᵢ²/σw² + γ) + (n − R)/γ] for the squared singular values s2 (R,) of A (m, n)."""
    s2 = np.asarray(s2, dtype=float)
    return float((np.sum(1.0 / (s2 / noise_var + gamma)) + (n - s2.size) / gamma) / n)


def vamp_state_evolution(s2: np.ndarray, n: int, p: float, sigma_x2: float, noise_var: float,
                         iters: int) -> list[float]:
    """Predicted per-entry MSE of VAMP's x̂_t for t = 1..iters (list index t − 1); NMSE_t = mse_t / (p σx²).

    ``s2``: the squared singular values of A (in the units of the A given, like ``noise_var`` = σw²).
    """
    if not (0 < p <= 1 and sigma_x2 > 0 and noise_var > 0 and n >= np.size(s2)):
        raise ValueError(f"need 0 < p <= 1, sigma_x2 > 0, noise_var > 0, n >= len(s2); got p={p}, "
                         f"sigma_x2={sigma_x2}, noise_var={noise_var}, n={n}, len(s2)={np.size(s2)}")
    lo, hi = (c / (p * sigma_x2) for c in GAMMA_CLIP)
    gamma2, out = 1.0 / (p * sigma_x2), []
    for _ in range(iters):
        gamma1 = min(max(1.0 / lmmse_mse(gamma2, s2, n, noise_var) - gamma2, lo), hi)
        mse = float(bg_mse(1.0 / gamma1, p, sigma_x2))
        out.append(mse)
        gamma2 = min(max(1.0 / mse - gamma1, lo), hi)
    return out


def vamp_se_nmse_db(s2: np.ndarray, n: int, p: float, sigma_x2: float, noise_var: float, iters: int) -> list[float]:
    """:func:`vamp_state_evolution` as NMSE in dB, 10 log10(mse_t / (p σx²))."""
    return [10 * math.log10(v / (p * sigma_x2)) for v in vamp_state_evolution(s2, n, p, sigma_x2, noise_var, iters)]
