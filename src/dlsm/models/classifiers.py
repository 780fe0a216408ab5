"""The image classifiers of lecture 3: the course MLP, the course CNN, and a small CNN for image folders.

All map images x (N, C, H, W) to log-probabilities log p(k | x) (N, K) through a final log-softmax,
as the course does, so the loss is the negative log-likelihood -log p(y | x) (``F.nll_loss``).
Layer sizes follow the data (image size, channels, number of classes), so the same models serve
MNIST (1×28×28, 10 classes) and a folder of the user's own images (e.g. 3×32×32, cats and dogs).

The course CNN has 1.6 M parameters: a folder of a few hundred photos is memorised by it (100 % training
accuracy, chance on the test set). :class:`SmallCNN` is made for such folders: three conv blocks with
batch normalisation and global average pooling, about 24 k parameters (the all-convolutional design of
Lin et al. 2014, "Network in Network", and Springenberg et al. 2015, with Ioffe & Szegedy's batch norm).

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

from dlsm.models import mlp as mlp_module
from dlsm.models.mlp import make_activation


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
    """PyTorch's default init of every Linear/Conv2d, from ``generator``: W, b ~ U(±1/√fan_in).

    (Batch-norm layers start at their fixed γ = 1, β = 0.)"""
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

    The fully connected part is the shared :class:`dlsm.models.mlp.MLP` (flatten -> MLP -> log-softmax), its
    activation from :func:`dlsm.models.mlp.make_activation`; with dropout each hidden activation is followed by
    :class:`Dropout`. ``widths`` = (n_1, ..., n_L) are the hidden widths (empty: multinomial logistic
    regression). Checkpoints of the earlier layout (keys ``net.1.weight``, ``net.3.weight``, ...) still load:
    their keys are mapped by layer order (:meth:`_upgrade_keys`).
    """

    def __init__(self, in_shape: tuple[int, int, int], n_classes: int, widths: tuple[int, ...] = (784, 784),
                 activation: str = "sigmoid", dropout: float = 0.0,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.hparams: dict[str, Any] = {"in_shape": list(in_shape), "n_classes": n_classes,
                                        "widths": list(widths), "activation": activation, "dropout": dropout}
        hidden: nn.Module = make_activation(activation)
        if dropout > 0:
            hidden = nn.Sequential(hidden, Dropout(dropout))
        self.flatten = nn.Flatten()
        self.mlp = mlp_module.MLP((math.prod(in_shape), *widths, n_classes), hidden, output_activation=None,
                                  generator=generator)
        set_dropout_generator(self, generator)
        self.register_load_state_dict_pre_hook(MLP._upgrade_keys)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.mlp(self.flatten(x)), dim=1)  # (N, C, H, W) -> (N, K)

    @staticmethod
    def _upgrade_keys(module: nn.Module, state_dict: dict[str, Any], prefix: str, *_: Any) -> None:
        """Rename the earlier layout's ``net.{i}.weight/bias`` (Flatten at 0, Linear layers in order) to
        ``mlp.net.{2j}.weight/bias``, the j-th linear layer of the shared MLP, in place."""
        old = sorted({int(k[len(prefix):].split(".")[1]) for k in state_dict
                      if k.startswith(prefix + "net.") and k.count(".") - prefix.count(".") == 2},)
        for j, i in enumerate(old):
            for name in ("weight", "bias"):
                key = f"{prefix}net.{i}.{name}"
                if key in state_dict:
                    state_dict[f"{prefix}mlp.net.{2 * j}.{name}"] = state_dict.pop(key)


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


class SmallCNN(nn.Module):
    """A small CNN for folders of a few hundred images (see the module docstring):

        [conv 3×3 (same padding, no bias), batch norm, ReLU, max-pool 2×2] × len(channels),
        global average pooling, [dropout], fc (channels[-1] → K), log-softmax

    A block pools only while the feature map is at least 2×2, so any image of at least 1×1 works. On
    3×32×32 images with ``channels=(16, 32, 64)`` the maps are 16², 8², 4², and there are 23,826
    parameters for two classes. Global pooling makes the features independent of where the object is.
    """

    def __init__(self, in_shape: tuple[int, int, int], n_classes: int, channels: tuple[int, ...] = (16, 32, 64),
                 dropout: float = 0.0, generator: torch.Generator | None = None) -> None:
        super().__init__()
        c, h, w = in_shape
        self.hparams: dict[str, Any] = {"in_shape": list(in_shape), "n_classes": n_classes,
                                        "channels": list(channels), "dropout": dropout}
        layers: list[nn.Module] = []
        for c_out in channels:
            layers += [nn.Conv2d(c, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
            if min(h, w) >= 2:
                layers.append(nn.MaxPool2d(2))                # (N, c_out, ⌊h/2⌋, ⌊w/2⌋)
                h, w = h // 2, w // 2
            c = c_out
        self.features = nn.Sequential(*layers)                # (N, channels[-1], h, w)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),             # (N, channels[-1])
            *([Dropout(dropout, generator)] if dropout > 0 else []),
            nn.Linear(c, n_classes),                           # (N, K)
        )
        init_parameters(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.head(self.features(x)), dim=1)  # (N, C, H, W) -> (N, K)


#: Model classes by the name stored in configs and checkpoints.
CLASSIFIERS: dict[str, type[nn.Module]] = {"mlp": MLP, "cnn": CNN, "small_cnn": SmallCNN}

#: The hidden activation each model uses (the MLP's is configurable; the CNNs use ReLU).
FIXED_ACTIVATION: dict[str, str] = {"cnn": "relu", "small_cnn": "relu"}


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
