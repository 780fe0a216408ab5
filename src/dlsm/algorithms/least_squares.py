"""Linear least squares with an intercept, and the curvature that limits gradient descent on it.

Model ŷ = X w + b for inputs X (n, d); loss the mean squared error

    L(w, b) = 1/n Σ_i (x_iᵀ w + b - y_i)² = 1/n ||A θ - y||²,   A = [X 1] (n, d+1),  θ = (w, b).

Closed form (normal equations on centred data): with x̄, ȳ the means and X_c = X - x̄, y_c = y - ȳ,

    w* = (X_cᵀ X_c)⁻¹ X_cᵀ y_c,   b* = ȳ - x̄ᵀ w*.

L is a quadratic with constant Hessian H = (2/n) AᵀA, so gradient descent θ ← θ - α ∇L moves the error
θ - θ* by (I - α H): it converges iff α < 2/λmax(H), and the slowest direction contracts only by
1 - α λmin(H); the condition number κ = λmax/λmin says how slow that is at the largest stable α
(see :mod:`dlsm.algorithms.quadratic_theory`). Standardising the inputs, z = (x - μ)/σ, makes the
columns comparable and κ small.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlsm.errors import DataError
from dlsm.i18n import t


def with_intercept(X: torch.Tensor) -> torch.Tensor:
    """A = [X 1]: the design matrix whose last column multiplies the intercept b."""
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype)], dim=1)  # (n, d+1)


def predict(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """ŷ = X w + b."""
    return X @ w + b  # (n,)


def mse(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """L(w, b) = 1/n Σ_i (x_iᵀ w + b - y_i)², the course's loss (differentiable in w and b)."""
    r = predict(X, w, b) - y  # (n,)
    return (r * r).mean()


@dataclass(frozen=True)
class LinearFit:
    """Weights w (d,) and intercept b (a 0-d tensor) of ŷ = X w + b."""

    w: torch.Tensor
    b: torch.Tensor

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        return predict(X, self.w, self.b)


def least_squares(X: torch.Tensor, y: torch.Tensor) -> LinearFit:
    """The minimiser of the MSE with an intercept, by the normal equations on centred data."""
    n, d = X.shape
    x_bar, y_bar = X.mean(dim=0), y.mean()  # (d,), ()
    Xc, yc = X - x_bar, y - y_bar  # (n, d), (n,)
    G = Xc.T @ Xc  # (d, d)
    if n <= d or torch.linalg.matrix_rank(G) < d:
        raise DataError(t("models.err.rank", d=d, n=n, rank=int(torch.linalg.matrix_rank(G))))
    w = torch.linalg.solve(G, Xc.T @ yc)  # (d,)
    return LinearFit(w=w, b=y_bar - x_bar @ w)


def mse_hessian(X: torch.Tensor) -> torch.Tensor:
    """H = ∇²L = (2/n) AᵀA with A = [X 1]; the same for every target y and every θ."""
    A = with_intercept(X)  # (n, d+1)
    return 2.0 / X.shape[0] * A.T @ A  # (d+1, d+1)


@dataclass(frozen=True)
class Standardizer:
    """z = (x - μ) / σ per input column, μ and σ (population std) from the training inputs."""

    mean: torch.Tensor  # (d,)
    std: torch.Tensor  # (d,)

    @classmethod
    def fit(cls, X: torch.Tensor) -> Standardizer:
        std = X.std(dim=0, correction=0)  # (d,)
        if bool((std == 0).any()):
            raise DataError(t("models.err.constant_column"))
        return cls(mean=X.mean(dim=0), std=std)

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        return (X - self.mean) / self.std  # (n, d)

    def to_raw(self, w: torch.Tensor, b: torch.Tensor) -> LinearFit:
        """Weights on z back in the raw units: zᵀw + b = xᵀ(w/σ) + (b - Σ_j w_j μ_j / σ_j)."""
        w_raw = w / self.std  # (d,)
        return LinearFit(w=w_raw, b=b - (self.mean * w_raw).sum())


def gd_excess_loss(H: torch.Tensor, e0: torch.Tensor, lr: float, steps: torch.Tensor) -> torch.Tensor:
    """L(θ_t) - L* for gradient descent from θ_0 = θ* + e0, predicted without running it.

    In the eigenbasis H = Σ λ_i u_i u_iᵀ the error's coordinates are z_i(t) = (1 - α λ_i)^t u_iᵀ e0, so

        L(θ_t) - L* = 1/2 Σ_i λ_i z_i(0)² (1 - α λ_i)^(2t).
    """
    lam, U = torch.linalg.eigh(H)  # (p,), (p, p)
    z0 = U.T @ e0  # (p,)
    t = steps.to(H.dtype).unsqueeze(1)  # (T, 1)
    factors = (1 - lr * lam) ** 2  # (p,)
    return 0.5 * (lam * z0**2 * factors**t).sum(dim=1)  # (T,)
