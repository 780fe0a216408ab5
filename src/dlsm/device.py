"""Where tensors live: the one place that turns a config's ``device`` (auto | cpu | cuda) into a torch.device.

Every lab that trains a network has the shared config field :data:`DEVICE` and calls :func:`resolve_device`
once; its data and model are moved there once, before training.
"""

from __future__ import annotations

from typing import Literal

import torch

from dlsm.config import param
from dlsm.errors import ConfigError
from dlsm.i18n import t

DeviceName = Literal["auto", "cpu", "cuda"]


def device_param() -> DeviceName:
    """The ``device`` field of a lab's Config (the same text and default in every lab)."""
    return param("auto", "where to train: auto = CUDA when a GPU is present, else the CPU")


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without CUDA -> ConfigError (exit status 2)."""
    if name not in ("auto", "cpu", "cuda"):
        raise ConfigError.not_one_of("device", name, ("auto", "cpu", "cuda"))
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(t("runs.err.no_cuda", version=torch.__version__), key="device")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)
