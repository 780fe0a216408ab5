"""The two image classifiers of lecture 3: the course MLP and the course CNN.

Both map images x (N, C, H, W) to log-probabilities log p(k | x) (N, K) through a final log-softmax,
as the course does, so the loss is the negative log-likelihood -log p(y | x) (``F.nll_loss``).
Layer sizes follow the data (image size, channels, number of classes), so the same models serve
MNIST (1×28×28, 10 classes) and a folder of the user's own images (e.g. 3×32×32, cats and dogs).

Parameters are initialised from an explicit ``torch.Generator`` with PyTorch's default distribution
(weights and biases uniform in ±1/√fan_in), and dropout draws its masks from a generator too, so a
seed fixes the whole run without touching the global random state.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

#: Hidden activations by name (the course uses sigmoid; exercise 3-2 replaces it by ReLU).
ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


class Dropout(nn.Module):
    """Inverted dropout h ↦ h ⊙ m / (1 - p), m_i ~ Bernoulli(1 - p), drawn from ``self.generator``.

    Same as ``nn.Dropout`` except that the masks come from an explicit generator (which must live
    on the input's device); with ``generator=None`` the global generator is used.
    """

    def __init__(self, p: float, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.generator = generator

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return h
        u = torch.rand(h.shape, generator=self.generator, device=h.device, dtype=h.dtype)
        return h * (u >= self.p) / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def init_parameters(model: nn.Module, generator: torch.Generator | None) -> None:
    """PyTorch's default init of every Linear/Conv2d, from ``generator``: W, b ~ U(±1/√fan_in)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                bound = 1.0 / math.sqrt(m.weight[0].numel())  # fan_in = in_features (× kernel area)
                m.weight.uniform_(-bound, bound, generator=generator)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=generator)


def set_dropout_generator(model: nn.Module, generator: torch.Generator | None) -> None:
    """Make every :class:`Dropout` of ``model`` draw from ``generator`` (e.g. one on the GPU)."""
    for m in model.modules():
        if isinstance(m, Dropout):
            m.generator = generator


class MLP(nn.Module):
    """Multilayer perceptron on flattened images (course: 784-784-784-10, sigmoid):

        h_0 = vec(x),  h_l = σ(W_l h_{l-1} + b_l)  (l = 1..L),  log p = log_softmax(W h_L + b)

    ``widths`` = (n_1, ..., n_L) are the hidden widths (empty: multinomial logistic regression).
    """

    def __init__(self, in_shape: tuple[int, int, int], n_classes: int, widths: tuple[int, ...] = (784, 784),
                 activation: str = "sigmoid", dropout: float = 0.0,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        self.hparams: dict[str, Any] = {"in_shape": list(in_shape), "n_classes": n_classes,
                                        "widths": list(widths), "activation": activation, "dropout": dropout}
        layers: list[nn.Module] = [nn.Flatten()]
        n_in = math.prod(in_shape)
        for n_out in widths:
            layers += [nn.Linear(n_in, n_out), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(Dropout(dropout, generator))
            n_in = n_out
        layers.append(nn.Linear(n_in, n_classes))
        self.net = nn.Sequential(*layers)
        init_parameters(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.net(x), dim=1)  # (N, C, H, W) -> (N, K)


class CNN(nn.Module):
    """The course CNN (the PyTorch MNIST example), sized from the input:

        conv 3×3 (C→32), ReLU, conv 3×3 (32→64), ReLU, max-pool 2×2, [dropout],
        fc (64·⌊(H-4)/2⌋·⌊(W-4)/2⌋ → 128), ReLU, [dropout], fc (128 → K), log-softmax

    On 1×28×28 MNIST the first fully connected layer is 9216 → 128, as in the course.
    """

    def __init__(self, in_shape: tuple[int, int, int], n_classes: int, channels: tuple[int, int] = (32, 64),
                 hidden: int = 128, dropout: float = 0.0, generator: torch.Generator | None = None) -> None:
        super().__init__()
        c, h, w = in_shape
        h_out, w_out = (h - 4) // 2, (w - 4) // 2  # two valid 3×3 convolutions, then 2×2 pooling
        if h_out < 1 or w_out < 1:
            raise ValueError(f"the CNN needs images of at least 6×6 pixels, got {h}×{w}")
        self.hparams: dict[str, Any] = {"in_shape": list(in_shape), "n_classes": n_classes,
                                        "channels": list(channels), "hidden": hidden, "dropout": dropout}
        c1, c2 = channels

        def drop() -> list[nn.Module]:
            return [Dropout(dropout, generator)] if dropout > 0 else []

        self.features = nn.Sequential(
            nn.Conv2d(c, c1, 3), nn.ReLU(),            # (N, c1, H-2, W-2)
            nn.Conv2d(c1, c2, 3), nn.ReLU(),           # (N, c2, H-4, W-4)
            nn.MaxPool2d(2), *drop(),                    # (N, c2, h_out, w_out)
        )
        self.head = nn.Sequential(
            nn.Flatten(),                              # (N, c2 * h_out * w_out)
            nn.Linear(c2 * h_out * w_out, hidden), nn.ReLU(), *drop(),
            nn.Linear(hidden, n_classes),              # (N, K)
        )
        init_parameters(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.head(self.features(x)), dim=1)  # (N, C, H, W) -> (N, K)


#: Model classes by the name stored in configs and checkpoints.
CLASSIFIERS: dict[str, type[nn.Module]] = {"mlp": MLP, "cnn": CNN}


def build_classifier(kind: str, hparams: dict[str, Any], generator: torch.Generator | None = None) -> nn.Module:
    """Rebuild a model from its name and ``hparams`` (as stored in a checkpoint)."""
    if kind not in CLASSIFIERS:
        raise ValueError(f"unknown model {kind!r}; known: {', '.join(CLASSIFIERS)}")
    args = dict(hparams)
    args["in_shape"] = tuple(args["in_shape"])
    for key in ("widths", "channels"):
        if key in args:
            args[key] = tuple(args[key])
    return CLASSIFIERS[kind](**args, generator=generator)
