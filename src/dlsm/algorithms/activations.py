"""Activation functions of lecture 1 and their derivatives, in closed form.

σ(u) = 1 / (1 + e^{-u}),       σ'(u) = σ(u)(1 - σ(u))
tanh(u) = (e^u - e^{-u}) / (e^u + e^{-u}),   tanh'(u) = 1 - tanh(u)²
ReLU(u) = max(0, u),            ReLU'(u) = 1 if u > 0 else 0   (0 chosen at u = 0, as torch does)
softplus(u) = log(1 + e^u),     softplus'(u) = σ(u)   (a smooth ReLU; used in lecture 7)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Fn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Activation:
    name: str
    formula: str
    f: Fn
    df: Fn


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("sigmoid", "σ(u) = 1/(1+e^-u)", torch.sigmoid,
                   lambda u: torch.sigmoid(u) * (1 - torch.sigmoid(u))),
        Activation("tanh", "tanh(u)", torch.tanh, lambda u: 1 - torch.tanh(u) ** 2),
        Activation("relu", "ReLU(u) = max(0, u)", torch.relu, lambda u: (u > 0).to(u.dtype)),
        Activation("softplus", "softplus(u) = log(1+e^u)", torch.nn.functional.softplus, torch.sigmoid),
    ]
}
