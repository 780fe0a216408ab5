"""A small multilayer perceptron: affine maps with an element-wise activation between them.

For widths (n_0, n_1, ..., n_L) the network computes, for l = 1..L,

    h_l = φ(W_l h_{l-1} + b_l),   W_l: (n_l, n_{l-1}),  b_l: (n_l,),  h_0 = x,

with the hidden activation φ on layers 1..L-1 and the output activation (identity if none) on layer
L. Course (lecture 1-2): "a layer is an affine map followed by an activation"; the gates lab uses the
2-2-1 network with sigmoid after both layers: ``MLP((2, 2, 1), "sigmoid", output_activation="sigmoid")``.

Parameters are initialised like ``torch.nn.Linear`` (W and b uniform in ±1/sqrt(n_{l-1})) but from an
explicit ``torch.Generator``, so a seed alone fixes the network.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
from torch import nn

from dlsm.algorithms.activations import ACTIVATIONS
from dlsm.errors import ConfigError
from dlsm.i18n import t


def make_activation(activation: str | nn.Module | None) -> nn.Module:
    """An activation module from a name in the registry :data:`dlsm.algorithms.activations.ACTIVATIONS`,
    a module (copied) or None (identity)."""
    if activation is None:
        return nn.Identity()
    if isinstance(activation, nn.Module):
        return copy.deepcopy(activation)
    if activation not in ACTIVATIONS:
        raise ConfigError(t("models.err.activation", activation=repr(activation), choices=", ".join(ACTIVATIONS)),
                          key="activation")
    return ACTIVATIONS[activation].module()


class MLP(nn.Module):
    """Fully connected network ``widths[0] -> widths[1] -> ... -> widths[-1]``.

    Args:
        widths: layer widths including input and output, e.g. ``(2, 2, 1)``; at least two, all >= 1.
        activation: hidden activation, a name from the registry (sigmoid, tanh, relu, softplus, identity) or an
            nn.Module.
        output_activation: activation after the last layer (same choices), or None for none.
        generator: draws the initial parameters; None uses PyTorch's global generator.

    ``forward`` maps x (batch, widths[0]) to (batch, widths[-1]). ``linears`` lists the nn.Linear
    layers, so ``net.linears[0].weight`` is W_1.
    """

    def __init__(self, widths: Sequence[int], activation: str | nn.Module = "sigmoid",
                 output_activation: str | nn.Module | None = None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) < 2 or min(widths) < 1:
            raise ConfigError(t("models.err.widths", widths=widths), key="widths")
        self.widths = widths
        layers: list[nn.Module] = []
        n_layers = len(widths) - 1
        for l, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers.append(nn.utils.skip_init(nn.Linear, n_in, n_out))
            last = l == n_layers - 1
            layers.append(make_activation(output_activation if last else activation))
        self.net = nn.Sequential(*layers)
        self.reset_parameters(generator)

    @property
    def linears(self) -> list[nn.Linear]:
        return [m for m in self.net if isinstance(m, nn.Linear)]

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """W_l, b_l ~ Uniform(-1/sqrt(n_in), 1/sqrt(n_in)), as torch.nn.Linear's default."""
        for layer in self.linears:
            bound = 1.0 / math.sqrt(layer.in_features)
            layer.weight.uniform_(-bound, bound, generator=generator)
            layer.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (batch, widths[-1])
