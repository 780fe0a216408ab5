"""Trainable gradient descent (TGD): T steps of gradient descent on f(x) = ½ xᵀQx with a learned step per step.

    x_{t+1} = x_t - β_t ∇f(x_t),   ∇f(x) = Q x,   t = 0..T-1,

with β_t the only trainable parameters (deep unfolding of gradient descent; Takabe & Wadayama, "Theoretical
interpretation of learned step size in deep-unfolded gradient descent", 2021). The gradient is exact (the
closed form Qx), so autograd differentiates the unrolled iterations exactly; the course computed it by
finite differences in float32.

Two parameterisations of β_t:

- ``"raw"``: β_t itself is the parameter (the course: init 0.01, Adam lr 0.001);
- ``"log"``: β_t = exp(θ_t) / L with L = λmax(Q): positive by construction and in units of 1/L, so one
  learning rate suits steps that span orders of magnitude (the random quadratic, κ ≈ 100).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

Parameterization = Literal["raw", "log"]


class TrainableGD(nn.Module):
    """T unrolled gradient steps on ½ xᵀQx; ``forward(x0, layers)`` returns x after ``layers`` steps.

    Args:
        Q: symmetric positive definite matrix (n, n) (a buffer, not trained).
        T: number of steps (layers), >= 1.
        beta_init: initial step β_t (every t), in absolute units.
        parameterization: "raw" (β_t trained directly) or "log" (β_t = exp(θ_t)/L).
    """

    def __init__(self, Q: torch.Tensor, T: int, beta_init: float, parameterization: Parameterization = "raw") -> None:
        super().__init__()
        if T < 1:
            raise ValueError(f"T must be >= 1, got {T}")
        self.register_buffer("Q", Q.clone())
        self.parameterization = parameterization
        self.L = float(torch.linalg.eigvalsh(Q.double()).max())
        if parameterization == "raw":
            init = torch.full((T,), float(beta_init), dtype=Q.dtype)
        else:
            init = torch.full((T,), math.log(beta_init * self.L), dtype=Q.dtype)
        self.theta = nn.Parameter(init)  # (T,)

    @property
    def T(self) -> int:
        return self.theta.numel()

    @property
    def beta(self) -> torch.Tensor:
        """The steps β_t (T,) in absolute units."""
        return self.theta if self.parameterization == "raw" else torch.exp(self.theta) / self.L

    def trajectory(self, x0: torch.Tensor, layers: int | None = None) -> list[torch.Tensor]:
        """[x_0, x_1, ..., x_layers], each (batch, n)."""
        beta = self.beta
        xs = [x0]
        for t in range(self.T if layers is None else layers):
            xs.append(xs[-1] - beta[t] * xs[-1] @ self.Q)  # (batch, n); Q symmetric, so x Q = (Q x)ᵀ
        return xs

    def forward(self, x0: torch.Tensor, layers: int | None = None) -> torch.Tensor:
        return self.trajectory(x0, layers)[-1]


def fixed_steps_trajectory(Q: torch.Tensor, x0: torch.Tensor, steps: torch.Tensor) -> list[torch.Tensor]:
    """Plain gradient descent with the given step per iteration (no learning): [x_0, ..., x_T], (batch, n) each."""
    xs = [x0]
    for b in steps:
        xs.append(xs[-1] - b * xs[-1] @ Q)  # (batch, n)
    return xs
