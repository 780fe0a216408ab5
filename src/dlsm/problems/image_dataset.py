"""A labelled image set: the type that every image source (embedded MNIST, IDX files, a folder) returns."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlsm.errors import DataError


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A labelled image set: ``X[i]`` is an image, ``y[i]`` its class index into ``classes``."""

    X: torch.Tensor  # (N, C, H, W) float32, pixel values in [0, 1]
    y: torch.Tensor  # (N,) int64 class indices
    classes: tuple[str, ...]  # class names, e.g. ("0", ..., "9") or ("cats", "dogs")
    name: str  # e.g. "mnist-5k"

    def __post_init__(self) -> None:
        if self.X.dim() != 4 or self.X.dtype != torch.float32:
            raise DataError(f"{self.name}: images must be (N, C, H, W) float32, got {tuple(self.X.shape)} "
                            f"{self.X.dtype}")
        if self.y.dim() != 1 or self.y.dtype != torch.int64 or len(self.y) != len(self.X):
            raise DataError(f"{self.name}: labels must be ({len(self.X)},) int64, got {tuple(self.y.shape)} "
                            f"{self.y.dtype}")
        if len(self.classes) < 1:
            raise DataError(f"{self.name}: no class names")
        if len(self.y) and (int(self.y.min()) < 0 or int(self.y.max()) >= len(self.classes)):
            raise DataError(f"{self.name}: labels outside 0..{len(self.classes) - 1}")

    def __len__(self) -> int:
        return len(self.y)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return tuple(self.X.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.classes)
