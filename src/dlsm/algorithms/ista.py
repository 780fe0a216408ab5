"""ISTA and FISTA for the LASSO  min_x ½‖y − A x‖² + λ‖x‖₁  (batched over the rows of y).

ISTA (iterative shrinkage-thresholding; Daubechies, Defrise, De Mol, CPAM 2004):

    x_{t+1} = η_soft(x_t + β Aᵀ(y − A x_t); β λ),   β = 1/L,  L = λ_max(AᵀA),

converges at rate O(1/t) in the objective. FISTA (Beck & Teboulle, SIAM J. Imaging Sci. 2009) adds
Nesterov momentum and reaches O(1/t²):

    x_{t+1} = η_soft(s_t + β Aᵀ(y − A s_t); β λ),
    q_{t+1} = (1 + √(1 + 4 q_t²)) / 2,   s_{t+1} = x_{t+1} + ((q_t − 1)/q_{t+1}) (x_{t+1} − x_t).

Units: λ multiplies ‖x‖₁ against ½‖y − A x‖² with A as given (no rescaling). scikit-learn's ``Lasso(alpha)``
minimises (1/(2 m))‖y − A x‖² + α‖x‖₁, so λ = m α.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from dlsm.algorithms.thresholding import soft_threshold

TrackFn = Callable[[int, torch.Tensor], None]


def lipschitz(A: torch.Tensor, exact: bool = True, iters: int = 100) -> float:
    """L = λ_max(AᵀA) = σ_max(A)², the Lipschitz constant of the gradient Aᵀ(A x − y).

    ``exact``: from the singular values; otherwise ``iters`` steps of power iteration v ← AᵀA v / ‖AᵀA v‖
    from a fixed start (a slight underestimate when iters is small).
    """
    if exact:
        return float(torch.linalg.matrix_norm(A.double(), ord=2)) ** 2
    g = torch.Generator().manual_seed(0)
    v = torch.randn(A.shape[1], generator=g, dtype=torch.float64).to(A.device)  # (n,)
    Ad = A.double()
    lam = 0.0
    for _ in range(iters):
        w = Ad.T @ (Ad @ v)  # (n,)
        lam = float(w.norm())
        if lam == 0.0:
            return 0.0
        v = w / lam
    return float(v @ (Ad.T @ (Ad @ v)))  # Rayleigh quotient of the final unit vector


def _prepare(A: torch.Tensor, y: torch.Tensor, x0: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, bool]:
    squeeze = y.ndim == 1
    y2 = y.unsqueeze(0) if squeeze else y  # (batch, m)
    if x0 is None:
        x = torch.zeros(y2.shape[0], A.shape[1], dtype=y2.dtype, device=y2.device)  # (batch, n)
    else:
        x = (x0.unsqueeze(0) if x0.ndim == 1 else x0).to(y2.dtype).expand(y2.shape[0], -1).clone()
    return y2, x, squeeze


def _lam(lam: float | torch.Tensor, y: torch.Tensor) -> float | torch.Tensor:
    if isinstance(lam, torch.Tensor):
        if bool((lam < 0).any()):
            raise ValueError(f"lam must be >= 0, got {lam}")
        return lam.to(y.dtype).reshape(-1, 1) if lam.ndim == 1 else lam.to(y.dtype)
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    return lam


def _settled(x_new: torch.Tensor, x: torch.Tensor, tol: float) -> bool:
    """max over rows of ‖x_{t+1} − x_t‖ / ‖x_{t+1}‖ <= tol (the relative-change stopping rule)."""
    change = (x_new - x).norm(dim=-1) / x_new.norm(dim=-1).clamp(min=torch.finfo(x.dtype).tiny)
    return bool((change <= tol).all())


def ista(A: torch.Tensor, y: torch.Tensor, lam: float | torch.Tensor, iters: int, *, step: float | None = None,
         x0: torch.Tensor | None = None, track: TrackFn | None = None, tol: float = 0.0) -> torch.Tensor:
    """ISTA for ½‖y − A x‖² + λ‖x‖₁. y (batch, m) or (m,) -> x̂ of the same leading shape with n columns.

    ``lam``: a scalar, or a tensor (batch,) / (batch, 1) giving each row its own λ (a λ sweep in one call).
    ``step``: β, default 1/L. ``track(t, x_t)`` is called after every iteration t = 1..iters. ``tol`` > 0 stops
    early once every row's relative change ‖x_{t+1} − x_t‖ / ‖x_{t+1}‖ is at most tol (0: run all iters). For
    a fast solver to a tolerance see :func:`dlsm.algorithms.fast_lasso.fista_solve`.
    """
    y2, x, squeeze = _prepare(A, y, x0)
    lam = _lam(lam, y2)
    beta = step if step is not None else 1.0 / lipschitz(A)
    for t in range(1, iters + 1):
        r = x + beta * (y2 - x @ A.T) @ A  # (batch, n)
        x_prev, x = x, soft_threshold(r, beta * lam)  # (batch, n)
        if track is not None:
            track(t, x)
        if tol > 0 and _settled(x, x_prev, tol):
            break
    return x[0] if squeeze else x


def fista(A: torch.Tensor, y: torch.Tensor, lam: float | torch.Tensor, iters: int, *, step: float | None = None,
          x0: torch.Tensor | None = None, track: TrackFn | None = None, tol: float = 0.0) -> torch.Tensor:
    """FISTA (ISTA with Nesterov momentum); same arguments and shapes as :func:`ista`."""
    y2, x, squeeze = _prepare(A, y, x0)
    lam = _lam(lam, y2)
    beta = step if step is not None else 1.0 / lipschitz(A)
    s, q = x, 1.0
    for t in range(1, iters + 1):
        x_new = soft_threshold(s + beta * (y2 - s @ A.T) @ A, beta * lam)  # (batch, n)
        q_new = (1 + (1 + 4 * q * q) ** 0.5) / 2
        s = x_new + ((q - 1) / q_new) * (x_new - x)  # (batch, n)
        x_prev, x, q = x, x_new, q_new
        if track is not None:
            track(t, x)
        if tol > 0 and _settled(x, x_prev, tol):
            break
    return x[0] if squeeze else x


def lasso_objective(A: torch.Tensor, y: torch.Tensor, x: torch.Tensor, lam: float | torch.Tensor) -> torch.Tensor:
    """½‖y − A x‖² + λ‖x‖₁ for every row: y (batch, m), x (batch, n) -> (batch,)."""
    lam_t = lam.reshape(-1) if isinstance(lam, torch.Tensor) else lam
    return 0.5 * ((y - x @ A.T) ** 2).sum(-1) + lam_t * x.abs().sum(-1)
