"""The one registry of activation functions: each φ next to its derivative φ', in PyTorch and in NumPy,
and the ``nn.Module`` that applies it inside a network.

σ(u) = 1 / (1 + e^{-u}),       σ'(u) = σ(u)(1 - σ(u))
tanh(u) = (e^u - e^{-u}) / (e^u + e^{-u}),   tanh'(u) = 1 - tanh(u)²
ReLU(u) = max(0, u),            ReLU'(u) = 1 if u > 0 else 0   (0 chosen at u = 0, as torch does)
softplus(u) = log(1 + e^u),     softplus'(u) = σ(u)   (a smooth ReLU; used in lecture 7)
identity(u) = u,                identity'(u) = 1      (the output layer of a regression network)

Users: the ``activations`` lab (the torch functions, checked against autograd), ``dlsm.models.mlp``
(the modules, for every network of the labs) and the NumPy network of ``dlsm.algorithms.backprop``
(the NumPy functions, for backpropagation written out by hand).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

Fn = Callable[[torch.Tensor], torch.Tensor]
NpFn = Callable[[np.ndarray], np.ndarray]


def _np_sigmoid(u: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-u))


@dataclass(frozen=True)
class Activation:
    """An element-wise φ: formula, φ and φ' on tensors, the same on NumPy arrays, and its nn.Module class."""

    name: str
    formula: str
    f: Fn
    df: Fn
    np_f: NpFn
    np_df: NpFn
    module: type[nn.Module]


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("sigmoid", "σ(u) = 1/(1+e^-u)", torch.sigmoid,
                   lambda u: torch.sigmoid(u) * (1 - torch.sigmoid(u)),
                   _np_sigmoid, lambda u: _np_sigmoid(u) * (1.0 - _np_sigmoid(u)), nn.Sigmoid),
        Activation("tanh", "tanh(u)", torch.tanh, lambda u: 1 - torch.tanh(u) ** 2,
                   np.tanh, lambda u: 1.0 - np.tanh(u) ** 2, nn.Tanh),
        Activation("relu", "ReLU(u) = max(0, u)", torch.relu, lambda u: (u > 0).to(u.dtype),
                   lambda u: np.maximum(u, 0.0), lambda u: (u > 0).astype(u.dtype), nn.ReLU),
        Activation("softplus", "softplus(u) = log(1+e^u)", torch.nn.functional.softplus, torch.sigmoid,
                   lambda u: np.logaddexp(0.0, u), _np_sigmoid, nn.Softplus),
        Activation("identity", "u", lambda u: u, torch.ones_like, lambda u: u, np.ones_like, nn.Identity),
    ]
}

#: The activations lecture 1 compares (the ``activations`` lab); identity is only an output layer.
LECTURE1 = ("sigmoid", "tanh", "relu", "softplus")
