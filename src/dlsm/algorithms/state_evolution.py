"""State evolution (SE) of AMP: the scalar recursion that predicts AMP's MSE per iteration.

For A with i.i.d. N(0, 1/m) entries (columns of unit norm), δ = m/n, noise variance σw² (in those units)
and x_j ~ (1 − p) δ₀ + p N(0, σx²), AMP's estimate after t iterations behaves, as n, m → ∞ with δ fixed,
like the scalar denoiser applied to x + τ_t Z with Z ~ N(0, 1) (Donoho, Maleki, Montanari, PNAS 2009;
Bayati & Montanari, IEEE Trans. IT 2011):

    τ_t² = σw² + mse_t / δ,   mse_0 = E x² = p σx²,   mse_{t+1} = E[(η(X + τ_t Z; τ_t) − X)²].

The expectation is computed here by numerical integration (not a fitted formula), so the recursion holds
for any (δ, p, σx², σw²):

- soft threshold η(r) = η_soft(r; α τ): E over Z in closed form (Φ, φ), then a 1-D integral over X;
- Bayes (MMSE) denoiser: mse = E[Var(X | R)], a 1-D integral over R for each component of the prior.

The 1-D integrals use composite Gauss-Legendre rules on intervals that shrink geometrically towards 0
(from 12 standard deviations down to 1e-13), so features at any scale (a threshold near τ ≪ σx) are resolved.
The fixed point of SE with the MMSE denoiser is the NMSE that Bayes-optimal AMP reaches for i.i.d.
Gaussian A in the large-system limit.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Literal

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, ndtr

Denoiser = Literal["soft", "bg"]
_SQRT_2PI = math.sqrt(2 * math.pi)


@cache
def _half_normal_rule(n_nodes: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Nodes u ≥ 0 and weights w with Σ w g(u) ≈ E g(|U|), U ~ N(0, 1) (g even)."""
    edges = 12.0 * 2.0 ** (-np.arange(0, 95) / 2)  # 12 ... ~1e-13
    edges = np.concatenate([edges, [0.0]])[::-1]
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    a, b = edges[:-1, None], edges[1:, None]  # (intervals, 1)
    u = (a + b) / 2 + (b - a) / 2 * x  # (intervals, nodes)
    wu = (b - a) / 2 * w * 2 * np.exp(-(u**2) / 2) / _SQRT_2PI
    return u.ravel(), wu.ravel()


def _phi(x: np.ndarray) -> np.ndarray:
    return np.exp(-(x**2) / 2) / _SQRT_2PI


def soft_risk(mu: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """E[(η_soft(μ + Z; α) − μ)²] for Z ~ N(0, 1), in closed form:

        (1 + α²)[Φ(μ − α) ... ] = (1 + α²)[Q(α − μ) + Φ(−α − μ)] − (α + μ) φ(α − μ) − (α − μ) φ(α + μ)
                                  + μ² [Φ(α − μ) − Φ(−α − μ)].
    """
    a = alpha
    return ((1 + a * a) * (ndtr(mu - a) + ndtr(-a - mu)) - (a + mu) * _phi(a - mu) - (a - mu) * _phi(a + mu)
            + mu * mu * (ndtr(a - mu) - ndtr(-a - mu)))


def soft_mse(tau2: np.ndarray | float, alpha: np.ndarray | float, p: float, sigma_x2: float) -> np.ndarray:
    """E[(η_soft(X + τZ; α τ) − X)²] for the Bernoulli-Gaussian X (arrays broadcast)."""
    u, w = _half_normal_rule()
    tau2 = np.asarray(tau2, dtype=float)[..., None]
    alpha = np.asarray(alpha, dtype=float)[..., None]
    tau = np.sqrt(tau2)
    mu = math.sqrt(sigma_x2) * u / tau  # X / τ at the nodes
    zero = soft_risk(np.zeros(1), alpha)[..., 0]
    nonzero = (soft_risk(mu, alpha) * w).sum(-1)
    return tau2[..., 0] * ((1 - p) * zero + p * nonzero)


def bg_posterior_var(r: np.ndarray, tau2: np.ndarray | float, p: float, sigma_x2: float) -> np.ndarray:
    """Var(X | R = r) = π c τ² + π (1 − π) c² r² for r = X + N(0, τ²) (see ``bg_mmse_denoiser``)."""
    c = sigma_x2 / (sigma_x2 + tau2)
    if p >= 1:
        return c * tau2 * np.ones_like(r)
    q = np.minimum(r * r * sigma_x2 / (tau2 * (sigma_x2 + tau2)), 1e300)
    logit = math.log(p / (1 - p)) + 0.5 * np.log(tau2 / (sigma_x2 + tau2)) + 0.5 * q
    pi, one_minus_pi = expit(logit), expit(-logit)
    return pi * c * tau2 + pi * one_minus_pi * c * c * r * r


def bg_mse(tau2: np.ndarray | float, p: float, sigma_x2: float) -> np.ndarray:
    """MMSE E[Var(X | X + τZ)] of the Bernoulli-Gaussian X (R's two components integrated separately)."""
    u, w = _half_normal_rule()
    tau2 = np.maximum(np.asarray(tau2, dtype=float)[..., None], 1e-300)
    zero = (bg_posterior_var(np.sqrt(tau2) * u, tau2, p, sigma_x2) * w).sum(-1)
    nonzero = (bg_posterior_var(np.sqrt(sigma_x2 + tau2) * u, tau2, p, sigma_x2) * w).sum(-1)
    return (1 - p) * zero + p * nonzero


def _check(delta: float, p: float, sigma_x2: float, noise_var: float) -> None:
    if not (delta > 0 and 0 < p <= 1 and sigma_x2 > 0 and noise_var >= 0):
        raise ValueError(f"need delta > 0, 0 < p <= 1, sigma_x2 > 0, noise_var >= 0; got delta={delta}, p={p}, "
                         f"sigma_x2={sigma_x2}, noise_var={noise_var}")


def state_evolution(delta: float, p: float, sigma_x2: float, noise_var: float, iters: int,
                    denoiser: Denoiser = "bg", alpha: float | None = None) -> list[float]:
    """Predicted per-entry MSE E(x̂_t − x)² after t = 1..iters AMP iterations (list index t − 1).

    ``noise_var`` is σw² for A with unit-norm columns (N(0, 1/m)); for A ~ N(0, 1) pass σw²/m.
    NMSE_t = mse_t / (p σx²). ``alpha``: threshold multiplier of the soft denoiser (None: tuned by
    :func:`tuned_soft_alpha`); ignored by the Bayes denoiser.
    """
    _check(delta, p, sigma_x2, noise_var)
    if denoiser == "soft" and alpha is None:
        alpha = tuned_soft_alpha(delta, p, sigma_x2, noise_var)
    mse, out = p * sigma_x2, []
    for _ in range(iters):
        tau2 = noise_var + mse / delta
        mse = float(soft_mse(tau2, alpha, p, sigma_x2) if denoiser == "soft" else bg_mse(tau2, p, sigma_x2))
        out.append(mse)
    return out


def _fixed_point(delta: float, p: float, sigma_x2: float, noise_var: float, denoiser: Denoiser,
                 alpha: np.ndarray | float | None, max_iters: int, tol: float) -> np.ndarray:
    mse = np.full(np.shape(alpha) if alpha is not None else (), p * sigma_x2)
    for _ in range(max_iters):
        tau2 = noise_var + mse / delta
        new = soft_mse(tau2, alpha, p, sigma_x2) if denoiser == "soft" else bg_mse(tau2, p, sigma_x2)
        done = np.all(np.abs(new - mse) <= tol * np.abs(mse))
        mse = np.minimum(new, 1e6 * p * sigma_x2)  # a diverging soft threshold saturates instead of overflowing
        if done:
            break
    return mse


def _soft_fixed_point(delta: float, p: float, sigma_x2: float, noise_var: float, alpha: np.ndarray,
                      steps: int = 50) -> np.ndarray:
    """Fixed point of the soft-threshold SE for each α, by bisection on log τ² of g(τ²) = σw² + mse(τ²)/δ − τ².

    The SE map of the soft threshold is concave in τ² (DMM 2009), so g has one root in [σw², τ_0²] when the
    first iteration lowers the MSE; otherwise (α below the minimum that converges) the MSE does not fall and
    p σx² (the MSE of x̂ = 0) is returned.
    """
    lo = np.full(alpha.shape, math.log(max(noise_var, 1e-30 * p * sigma_x2)))
    hi = np.full(alpha.shape, math.log(noise_var + p * sigma_x2 / delta))

    def g(log_tau2: np.ndarray) -> np.ndarray:
        tau2 = np.exp(log_tau2)
        return noise_var + soft_mse(tau2, alpha, p, sigma_x2) / delta - tau2

    bad = g(hi) > 0
    for _ in range(steps):
        mid = (lo + hi) / 2
        up = g(mid) > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    mse = (np.exp((lo + hi) / 2) - noise_var) * delta
    return np.where(bad, p * sigma_x2, np.maximum(mse, 0.0))


def tuned_soft_alpha(delta: float, p: float, sigma_x2: float, noise_var: float) -> float:
    """The α that minimises the SE fixed-point MSE of AMP with the soft threshold α τ (grid, then refined)."""
    _check(delta, p, sigma_x2, noise_var)
    grid = np.linspace(0.2, 4.0, 20)
    mse = _soft_fixed_point(delta, p, sigma_x2, noise_var, grid)
    i = int(np.argmin(mse))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = minimize_scalar(lambda a: float(_soft_fixed_point(delta, p, sigma_x2, noise_var, np.array([a]))[0]),
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-3})
    return float(res.x)


def se_fixed_point_mse(delta: float, p: float, sigma_x2: float, noise_var: float, denoiser: Denoiser = "bg",
                       alpha: float | None = None, max_iters: int = 10_000, tol: float = 1e-10) -> float:
    """Per-entry MSE at the fixed point that SE reaches from mse_0 = p σx² (the point AMP converges to)."""
    _check(delta, p, sigma_x2, noise_var)
    if denoiser == "soft" and alpha is None:
        alpha = tuned_soft_alpha(delta, p, sigma_x2, noise_var)
    if denoiser == "soft":
        return float(_soft_fixed_point(delta, p, sigma_x2, noise_var, np.array([alpha]))[0])
    return float(_fixed_point(delta, p, sigma_x2, noise_var, denoiser, None, max_iters, tol))


def se_fixed_point_nmse_db(delta: float, p: float, sigma_x2: float, noise_var: float, denoiser: Denoiser = "bg",
                           alpha: float | None = None, max_iters: int = 10_000, tol: float = 1e-10) -> float:
    """10 log10(mse* / (p σx²)) at the SE fixed point (see :func:`se_fixed_point_mse`)."""
    mse = se_fixed_point_mse(delta, p, sigma_x2, noise_var, denoiser, alpha, max_iters, tol)
    return 10 * math.log10(mse / (p * sigma_x2)) if mse > 0 else -math.inf


def l1_phase_transition(delta: float | np.ndarray) -> np.ndarray:
    """ρ*(δ): the ℓ1 (basis pursuit) phase transition in ρ = k/m against δ = m/n, computed numerically.

    It is the Donoho-Tanner weak threshold of the cross-polytope, which equals the minimax soft-threshold
    state-evolution curve (Donoho, Maleki, Montanari, PNAS 2009, eq. (5)):

        ρ*(δ) = max_{z ≥ 0} [1 − (2/δ) ψ(z)] / [1 + z² − 2 ψ(z)],   ψ(z) = (1 + z²) Φ(−z) − z φ(z),

    maximised here by a bounded scalar search for each δ.
    """
    deltas = np.atleast_1d(np.asarray(delta, dtype=float))
    out = np.empty_like(deltas)
    for i, d in enumerate(deltas):
        if d >= 1:
            out[i] = 1.0
            continue

        def neg(z: float, d: float = d) -> float:
            psi = (1 + z * z) * ndtr(-z) - z * _phi(np.asarray(z))
            return -float((1 - 2 / d * psi) / (1 + z * z - 2 * psi))

        res = minimize_scalar(neg, bounds=(1e-6, 10.0), method="bounded", options={"xatol": 1e-10})
        out[i] = max(-res.fun, 0.0)
    return out if np.ndim(delta) else out[0]
