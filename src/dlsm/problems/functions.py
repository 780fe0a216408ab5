"""Functions to minimise in lecture 1: a few 1-D functions and 2-D quadratics, with exact derivatives.

Every function is written in torch so that its hand-derived derivative can be checked against
autograd; none evaluates user text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

Fn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Function1D:
    """f: R -> R with its first and second derivatives and its local minimisers."""

    name: str
    formula: str
    f: Fn
    df: Fn
    d2f: Fn
    minimisers: tuple[float, ...]

    def nearest_minimiser(self, s: float) -> float:
        return min(self.minimisers, key=lambda m: abs(m - s))


def _real_roots(coeffs: list[float], d2: Callable[[float], float]) -> tuple[float, ...]:
    """Real roots of a polynomial f' that are minimisers (f'' > 0), sorted."""
    roots = np.roots(coeffs)
    real = sorted(float(r.real) for r in roots if abs(r.imag) < 1e-12)
    return tuple(r for r in real if d2(r) > 0)


def _wavy_minimisers() -> tuple[float, ...]:
    """Minimisers of x²/8 + sin(2x): roots of x/4 + 2cos(2x) with f'' = 1/4 - 4 sin(2x) > 0 (bisection)."""
    from scipy.optimize import brentq

    def g(x: float) -> float:
        return x / 4 + 2 * np.cos(2 * x)

    grid = np.linspace(-10, 10, 4001)
    vals = g(grid)
    out = []
    for a, b, va, vb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:], strict=True):
        if va * vb < 0:
            r = brentq(g, a, b)
            if 0.25 - 4 * np.sin(2 * r) > 0:
                out.append(float(r))
    return tuple(out)


FUNCTIONS_1D: dict[str, Function1D] = {
    f.name: f
    for f in [
        Function1D("x2", "f(x) = x²", lambda x: x**2, lambda x: 2 * x, lambda x: 2 + 0 * x, (0.0,)),
        Function1D("x4", "f(x) = x⁴", lambda x: x**4, lambda x: 4 * x**3, lambda x: 12 * x**2, (0.0,)),
        Function1D(
            "double_well", "f(x) = x⁴ - 3x² + x",
            lambda x: x**4 - 3 * x**2 + x, lambda x: 4 * x**3 - 6 * x + 1, lambda x: 12 * x**2 - 6,
            _real_roots([4.0, 0.0, -6.0, 1.0], lambda r: 12 * r * r - 6),
        ),
        Function1D(
            "wavy", "f(x) = x²/8 + sin(2x)",
            lambda x: x**2 / 8 + torch.sin(2 * x), lambda x: x / 4 + 2 * torch.cos(2 * x),
            lambda x: 0.25 - 4 * torch.sin(2 * x), _wavy_minimisers(),
        ),
    ]
}


@dataclass(frozen=True)
class Quadratic:
    """f(x) = 1/2 xᵀ Q x with Q symmetric; ∇f(x) = Q x. Minimum 0 at x = 0 when Q is positive definite."""

    name: str
    formula: str
    Q: torch.Tensor  # (d, d) float64

    def f(self, x: torch.Tensor) -> torch.Tensor:
        """Works on one point (d,) or a grid (..., d)."""
        return 0.5 * torch.einsum("...i,ij,...j->...", x, self.Q, x)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.Q.T

    def minimiser_from(self, x0: torch.Tensor) -> torch.Tensor:
        """Where gradient descent from x0 ends when it converges: x0 projected on the null space of Q."""
        lam, U = torch.linalg.eigh(self.Q)
        null = U[:, lam.abs() < 1e-9 * max(1.0, float(lam.abs().max()))]
        return null @ (null.T @ x0)


def quadratic(name: str, Q: tuple[float, ...] | None = None) -> Quadratic:
    """The course's quadratics by name: ``course`` 1/2 x1² + 5 x2², ``sphere`` x1² + x2², or ``custom`` Q."""
    if name == "course":
        return Quadratic("course", "f(x) = 1/2 x1² + 5 x2²", torch.diag(torch.tensor([1.0, 10.0], dtype=torch.float64)))
    if name == "sphere":
        return Quadratic("sphere", "f(x) = x1² + x2²", torch.diag(torch.tensor([2.0, 2.0], dtype=torch.float64)))
    if name == "custom":
        if Q is None:
            raise ValueError("a custom quadratic needs Q")
        M = torch.tensor(Q, dtype=torch.float64).reshape(2, 2)
        formula = f"f(x) = 1/2 xᵀQx, Q = [[{Q[0]:g}, {Q[1]:g}], [{Q[2]:g}, {Q[3]:g}]]"
        return Quadratic("custom", formula, M)
    raise ValueError(f"unknown quadratic {name!r}")
