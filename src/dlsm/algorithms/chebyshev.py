"""Step-size schedules for T steps of gradient descent on a quadratic f(x) = ½ xᵀQx.

After T steps x_T = p(Q) x_0 with the residual polynomial p(λ) = Π_t (1 - β_t λ), p(0) = 1; its roots are
the reciprocal steps 1/β_t. Choosing a schedule is choosing a polynomial:

- best constant step: β = 2/(λmin + λmax) minimises max_i |1 - β λ_i| (rate (κ-1)/(κ+1) per step);
- Chebyshev steps (Takabe & Wadayama, "Chebyshev periodical successive over-relaxation", 2020; the classical
  Richardson/Chebyshev iteration, Young 1954): 1/β_t = the roots of the Chebyshev polynomial T_T shifted to
  [λmin, λmax], c + r cos((2t+1)π / 2T), c = (λmax+λmin)/2, r = (λmax-λmin)/2. They minimise the worst
  case max_{λ ∈ [λmin, λmax]} |p(λ)| when only the interval is known;
- the optimal T-step schedule for the known spectrum: minimise the average error ratio
  E‖x_T‖²/E‖x_0‖² = Σ_i w_i p(λ_i)² (w_i = 1/n for an isotropic x_0). Writing p(λ) = 1 - λ q(λ), optimality
  says Σ_i w_i λ_i p(λ_i) r(λ_i) = 0 for every r of degree < T: p is the degree-T orthogonal polynomial of
  the discrete measure Σ_i w_i λ_i δ(λ - λ_i), so its roots are the eigenvalues of that measure's T×T Jacobi
  matrix (Lanczos). For a Q with only k ≤ T distinct eigenvalues, the steps 1/λ_1..1/λ_k reach the minimum
  exactly (course: f = x1² + 8x2², Q = diag(2, 16), steps 1/2 and 1/16).
"""

from __future__ import annotations

import math

import numpy as np


def best_constant_step(lam_min: float, lam_max: float) -> float:
    """β* = 2/(λmin + λmax): the fixed step that minimises max_i |1 - β λ_i|."""
    return 2.0 / (lam_min + lam_max)


def chebyshev_steps(lam_min: float, lam_max: float, T: int) -> np.ndarray:
    """Chebyshev steps β_t = 1 / (c + r cos((2t+1)π/(2T))), t = 0..T-1 (large λ first); (T,)."""
    if T < 1 or not 0 < lam_min <= lam_max:
        raise ValueError(f"need T >= 1 and 0 < lam_min <= lam_max, got T={T}, [{lam_min}, {lam_max}]")
    c, r = (lam_max + lam_min) / 2, (lam_max - lam_min) / 2
    nodes = c + r * np.cos((2 * np.arange(T) + 1) * math.pi / (2 * T))  # (T,) roots of the shifted T_T
    return 1.0 / nodes


def optimal_steps(eigenvalues: np.ndarray, T: int, weights: np.ndarray | None = None) -> np.ndarray:
    """The T steps minimising Σ_i w_i Π_t (1 - β_t λ_i)² (see the module docstring); (T,), large λ first.

    Lanczos (with full reorthogonalisation, float64) on diag(λ) from the start vector √(w λ). When the
    spectrum has k < T distinct points, the first k steps are 1/λ (exact zero) and the rest the best constant step.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64).ravel()  # (n,)
    w = np.full(lam.shape, 1.0 / lam.size) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if T < 1 or (lam <= 0).any():
        raise ValueError("need T >= 1 and positive eigenvalues")
    v = np.sqrt(w * lam)  # (n,)
    v /= np.linalg.norm(v)
    basis = [v]
    alpha, beta = [], []
    for k in range(T):
        u = lam * basis[k]  # (n,) = diag(λ) v_k
        alpha.append(float(basis[k] @ u))
        for b in basis:  # full reorthogonalisation
            u -= (b @ u) * b
        nrm = float(np.linalg.norm(u))
        if k == T - 1:
            break
        if nrm < 1e-12 * lam.max():  # the measure has only k+1 support points: invariant subspace
            break
        beta.append(nrm)
        basis.append(u / nrm)
    if len(alpha) < T or np.unique(lam).size <= T:  # <= T support points: roots = eigenvalues
        roots = np.unique(lam)[::-1]  # (k,)
    else:
        J = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)  # (T, T) Jacobi matrix
        roots = np.sort(np.linalg.eigvalsh(J))[::-1]  # (T,)
    steps = 1.0 / roots
    if roots.size < T:
        fill = best_constant_step(float(lam.min()), float(lam.max()))
        steps = np.concatenate([steps, np.full(T - roots.size, fill)])
    return steps


def error_ratio(eigenvalues: np.ndarray, steps: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Average error ratio Σ_i w_i Π_{s<t} (1 - β_s λ_i)² after t = 0..T steps (exact, float64); (T+1,)."""
    lam = np.asarray(eigenvalues, dtype=np.float64).ravel()  # (n,)
    w = np.full(lam.shape, 1.0 / lam.size) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    p = np.ones_like(lam)  # (n,) p_t(λ_i)
    out = [float(w @ p**2)]
    for b in np.asarray(steps, dtype=np.float64):
        p = p * (1.0 - b * lam)
        out.append(float(w @ p**2))
    return np.asarray(out)
