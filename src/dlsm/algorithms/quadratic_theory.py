"""What theory predicts for gradient descent on a quadratic f(x) = 1/2 xᵀ Q x.

With Q = U diag(λ_i) Uᵀ, each eigen-coordinate evolves as z_{t+1} = (1 - α λ_i) z_t, so

- the iterates converge for every start iff |1 - α λ_i| < 1 for all λ_i > 0, i.e. 0 < α < 2 / λ_max;
- at α = 2 / λ_max the top coordinate flips sign for ever (1 - α λ_max = -1): a bounded oscillation;
- the error contracts per step by ρ(α) = max_i |1 - α λ_i|;
- the best fixed step is α* = 2 / (λ_min + λ_max), with ρ* = (κ - 1) / (κ + 1), κ = λ_max / λ_min.

(Standard; e.g. Nocedal & Wright, Numerical Optimization, §3.3; Boyd & Vandenberghe §9.3.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Relative tolerance under which |1 - α λ| is taken to equal 1 (the boundary cases).
BOUNDARY_TOL = 1e-9


@dataclass(frozen=True)
class GDTheory:
    """Theory of fixed-step gradient descent with step ``lr`` on f = 1/2 xᵀQx.

    ``regime`` is one of ``"converges"``, ``"oscillates"`` (bounded, never converges: some
    1 - αλ = -1), ``"stalls"`` (a direction with 1 - αλ = +1 never moves, only if λ = 0 there:
    the iterates still converge to a minimiser, just not to 0), ``"diverges"``.
    """

    eigenvalues: tuple[float, ...]
    lr: float
    factors: tuple[float, ...]  # 1 - α λ_i per eigen-direction
    rate: float                 # ρ = max |1 - α λ_i| over λ_i > 0 (inf if some λ < 0)
    lr_max: float               # 2 / λ_max: stability bound (exclusive)
    lr_opt: float               # 2 / (λ_min⁺ + λ_max)
    rate_opt: float             # ρ at lr_opt
    condition_number: float     # λ_max / λ_min⁺ (λ_min⁺: the smallest positive eigenvalue)
    regime: str


def gd_theory(Q: np.ndarray, lr: float) -> GDTheory:
    """Predict the behaviour of x_{t+1} = x_t - α Q x_t for a symmetric Q."""
    lam = np.linalg.eigvalsh(np.asarray(Q, dtype=float))
    scale = max(1.0, float(np.abs(lam).max()))
    tol = BOUNDARY_TOL * scale
    lam = np.where(np.abs(lam) < tol, 0.0, lam)
    positive = lam[lam > 0]
    factors = 1.0 - lr * lam
    lam_max = float(lam.max())
    lam_min_pos = float(positive.min()) if positive.size else math.nan
    lr_max = 2.0 / lam_max if lam_max > 0 else math.inf
    lr_opt = 2.0 / (lam_min_pos + lam_max) if positive.size else math.nan
    kappa = lam_max / lam_min_pos if positive.size else math.inf
    rate_opt = (kappa - 1.0) / (kappa + 1.0) if positive.size else math.nan
    if (lam < 0).any():
        regime, rate = "diverges", math.inf
    else:
        moving = np.abs(factors[lam > 0])
        rate = float(moving.max()) if moving.size else 1.0
        if rate > 1.0 + BOUNDARY_TOL:
            regime = "diverges"
        elif abs(rate - 1.0) <= BOUNDARY_TOL:
            regime = "oscillates" if (factors[lam > 0] < 0).any() else "stalls"
        else:
            regime = "stalls" if (lam == 0).any() else "converges"
    return GDTheory(
        eigenvalues=tuple(float(v) for v in lam), lr=float(lr), factors=tuple(float(f) for f in factors),
        rate=rate, lr_max=lr_max, lr_opt=lr_opt, rate_opt=rate_opt, condition_number=kappa, regime=regime,
    )


def momentum_rate(eigenvalues: tuple[float, ...] | np.ndarray, lr: float, mu: float, nesterov: bool = False) -> float:
    """Asymptotic rate (spectral radius) of heavy-ball or Nesterov momentum on f = 1/2 xᵀQx.

    In the torch.optim convention v' = μ v + λ z, each eigen-coordinate z of Q evolves linearly:
    heavy ball  z' = (1 - αλ) z - αμ v;  Nesterov  z' = (1 - αλ(1 + μ)) z - αμ² v.
    The rate is the largest modulus of the eigenvalues of these 2x2 iteration matrices over all λ;
    a rate above 1 means divergence (e.g. Polyak 1964; Sutskever et al. 2013).
    """
    rate = 0.0
    for lam in np.asarray(eigenvalues, dtype=float):
        if nesterov:
            M = np.array([[1 - lr * lam * (1 + mu), -lr * mu * mu], [lam, mu]])
        else:
            M = np.array([[1 - lr * lam, -lr * mu], [lam, mu]])
        rate = max(rate, float(np.abs(np.linalg.eigvals(M)).max()))
    return rate
