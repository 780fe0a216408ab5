"""Noisy samples of a quadratic y = a x² + b x + c + w, the parametric model of lecture 1."""

from __future__ import annotations

import torch


def features(x: torch.Tensor) -> torch.Tensor:
    """Φ(x) = [x², x, 1] per sample: (n,) -> (n, 3), so that f_Θ(x) = Φ(x) Θ with Θ = (a, b, c)."""
    return torch.stack([x * x, x, torch.ones_like(x)], dim=1)


def sample_quadratic(n: int, theta: tuple[float, float, float], noise_std: float, x_min: float, x_max: float,
                     generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x ~ U[x_min, x_max], y = a x² + b x + c + w, w ~ N(0, noise_std²); float64 tensors (n,), (n,)."""
    x = x_min + (x_max - x_min) * torch.rand(n, generator=generator, dtype=torch.float64)
    w = noise_std * torch.randn(n, generator=generator, dtype=torch.float64)
    y = features(x) @ torch.tensor(theta, dtype=torch.float64) + w
    return x, y
