"""Regression data: the course's crop-yield table and noisy samples of a 1-D function.

Lecture 4, multiple linear regression: yield of apples (and oranges) in five regions from the
temperature (°F), rainfall (mm) and humidity (%) there. The table is the one of the course, which took
it from the public tutorial "PyTorch: Zero to GANs, part 2: linear regression" (Aakash N S, jovian.ai).

Lecture 4, nonlinear regression: y = f(x) + ε with ε ~ N(0, σ²), x uniform on [-1, 1], split at random
into a training set (to fit) and a test set (to estimate the error on unseen inputs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import torch

from dlsm.errors import ConfigError
from dlsm.i18n import t

# ----- the course's crop-yield table ----------------------------------------------------------------
#: Names of the three inputs, in column order.
FEATURES: tuple[str, ...] = ("temperature (F)", "rainfall (mm)", "humidity (%)")

#: Inputs of the five regions: (temperature, rainfall, humidity).
CROP_INPUTS: tuple[tuple[float, float, float], ...] = (
    (73, 67, 43),
    (91, 88, 64),
    (87, 134, 58),
    (102, 43, 37),
    (69, 96, 70),
)

Crop = Literal["apples", "oranges"]
CROPS: tuple[str, ...] = get_args(Crop)

#: Yield of each crop in the five regions (the course uses apples; the source also has oranges).
CROP_YIELDS: dict[str, tuple[float, ...]] = {
    "apples": (56, 81, 119, 22, 103),
    "oranges": (70, 101, 133, 37, 119),
}


def crop_yields(target: str = "apples", dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """The course's table as tensors: inputs X (5, 3) and the yields y (5,) of ``target``."""
    if target not in CROP_YIELDS:
        raise ConfigError.not_one_of("target", target, CROPS)
    X = torch.tensor(CROP_INPUTS, dtype=dtype)  # (5, 3)
    y = torch.tensor(CROP_YIELDS[target], dtype=dtype)  # (5,)
    return X, y


# ----- noisy samples of a 1-D function ---------------------------------------------------------------
@dataclass(frozen=True)
class Function1D:
    """A target function f: [-1, 1] -> R for nonlinear regression."""

    name: str
    formula: str
    f: Callable[[torch.Tensor], torch.Tensor]


TargetName = Literal["sin", "abs", "cubic"]

TARGETS: dict[str, Function1D] = {
    "sin": Function1D("sin", "sin(2πx)", lambda x: torch.sin(2 * math.pi * x)),
    "abs": Function1D("abs", "|x|", torch.abs),
    "cubic": Function1D("cubic", "4x³ - 3x", lambda x: 4 * x**3 - 3 * x),
}


@dataclass(frozen=True)
class RegressionData:
    """A train/test split of noisy samples: inputs (n, 1) and targets (n, 1) of each part."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def sample_noisy_function(fn: Function1D, n: int, noise_std: float, generator: torch.Generator,
                          dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """n pairs (x_i, y_i) with x_i ~ U[-1, 1] and y_i = f(x_i) + σ ε_i, ε_i ~ N(0, 1)."""
    x = 2 * torch.rand(n, 1, generator=generator, dtype=dtype) - 1  # (n, 1)
    eps = torch.randn(n, 1, generator=generator, dtype=dtype)  # (n, 1)
    return x, fn.f(x) + noise_std * eps


def train_test_split(x: torch.Tensor, y: torch.Tensor, n_test: int,
                     generator: torch.Generator) -> RegressionData:
    """Split the rows of (x, y) by a random permutation: the last ``n_test`` rows go to the test set."""
    n = x.shape[0]
    if not 0 < n_test < n:
        raise ConfigError(t("data.err.n_test", n_test=n_test, n=n),
                          key="n_test")
    perm = torch.randperm(n, generator=generator)  # (n,)
    train, test = perm[: n - n_test], perm[n - n_test:]
    return RegressionData(x[train], y[train], x[test], y[test])


def noisy_regression_data(target: str, n_train: int, n_test: int, noise_std: float,
                          generator: torch.Generator) -> RegressionData:
    """Sample n_train + n_test noisy points of ``TARGETS[target]`` and split them at random."""
    if target not in TARGETS:
        raise ConfigError.not_one_of("function", target, TARGETS)
    x, y = sample_noisy_function(TARGETS[target], n_train + n_test, noise_std, generator)
    return train_test_split(x, y, n_test, generator)
