"""The user's own images: a folder with one sub-folder per class, e.g. ``pets/cats/``, ``pets/dogs/``.

This is lecture 1's motivating example, a classifier f: R^n -> {0, 1} (cat or dog) learned from
examples. Layout and preprocessing:

- Classes are the sub-folders of the root, sorted by name (hidden folders and ``__MACOSX`` are
  skipped); a class's images are all files under its folder, recursively, with an extension Pillow
  can open (PNG, JPEG, GIF, BMP, TIFF, WebP, ...). Other files are ignored, but listed in the error
  when a class has no image at all.
- Each image is decoded, turned upright (EXIF orientation), its transparency composited onto white,
  converted to RGB, centre-cropped to the target aspect ratio and resized (bicubic, antialiased) to
  ``image_size = (H, W)``: the crop keeps the proportions instead of stretching them.
- ``channels=1`` keeps the luma L = (299 R + 587 G + 114 B) / 1000 (ITU-R 601, exactly Pillow's
  ``convert("L")``), ``channels=3`` RGB; ``channels=None`` picks 1 when every image is grey (R = G = B
  everywhere after decoding) and 3 otherwise. Pixels are float32 in [0, 1].
- Split: within each class a random ``test_fraction`` (at least one image) goes to the test set,
  drawn from ``np.random.default_rng(seed)``; the same folder and seed give the same split.

Bad layouts raise ``DataError`` with what was found and what to do: a missing root, no sub-folders,
one class only, a class without images, a ``train/``/``test/`` level above the classes. An image that
cannot be decoded is an error too, not a silent skip: the message lists every such file at once, so
that the data set the user trains on is exactly the one in the folder.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps

from dlsm.errors import ConfigError, DataError
from dlsm.i18n import t
from dlsm.problems.image_dataset import ImageDataset

#: Side of the square images when the caller names no size (small enough for CPU training).
DEFAULT_IMAGE_SIZE = 32
_SKIPPED_DIRS = {"__MACOSX"}
_SPLIT_NAMES = {"train", "training", "test", "testing", "val", "valid", "validation"}
_MAX_LISTED = 10


@functools.cache
def image_extensions() -> frozenset[str]:
    """File extensions (lower case, with the dot) of the formats this Pillow can open."""
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)


def scan_image_folder(root: str | Path) -> dict[str, list[Path]]:
    """Class name -> sorted image paths, checking the layout (see the module docstring)."""
    root = Path(root).expanduser()
    if not root.exists():
        raise DataError(t("data.err.folder_missing", root=root))
    if not root.is_dir():
        raise DataError(t("data.err.folder_is_file", root=root))
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not _hidden(p.name))
    if not subdirs:
        loose = [p for p in root.iterdir() if p.is_file() and p.suffix.lower() in image_extensions()]
        examples = {"root": root, "cats": root / "cats", "dogs": root / "dogs"}
        raise DataError(t("data.err.loose_images", n=len(loose), **examples) if loose
                        else t("data.err.no_subfolders", **examples))
    if {d.name.lower() for d in subdirs} <= _SPLIT_NAMES:
        raise DataError(t("data.err.split_folders", root=root, found=", ".join(d.name + "/" for d in subdirs),
                          first=subdirs[0]))
    if len(subdirs) == 1:
        raise DataError(t("data.err.one_class", root=root, name=subdirs[0].name, cats=root / "cats",
                          dogs=root / "dogs"))
    classes = {}
    for d in subdirs:
        files = sorted(p for p in d.rglob("*") if p.is_file()
                       and not any(_hidden(part) for part in p.relative_to(d).parts))
        images = [p for p in files if p.suffix.lower() in image_extensions()]
        if not images:
            ignored = _listing([str(p.relative_to(d)) for p in files])
            raise DataError(t("data.err.class_no_images_ignored", folder=d, ignored=ignored) if files
                            else t("data.err.class_no_images", folder=d))
        classes[d.name] = images
    return classes


def load_image_folder(
    root: str | Path,
    *,
    image_size: tuple[int, int] = (DEFAULT_IMAGE_SIZE, DEFAULT_IMAGE_SIZE),
    channels: int | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[ImageDataset, ImageDataset]:
    """(train, test) from a folder with one sub-folder per class (see the module docstring)."""
    _check_size_channels(image_size, channels, allow_auto=True)
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, int | float) \
            or not 0 < test_fraction < 1:
        raise ConfigError(t("data.err.test_fraction", value=repr(test_fraction)),
                          key="test_fraction")
    root = Path(root).expanduser()
    by_class = scan_image_folder(root)
    for name, files in by_class.items():
        if len(files) < 2:
            raise DataError(t("data.err.class_too_few", folder=root / name, n=len(files)))
    paths = [p for files in by_class.values() for p in files]
    labels = np.concatenate([np.full(len(files), k) for k, files in enumerate(by_class.values())])  # (N,)
    rgb = _read_all(paths, image_size, root)  # (N, H, W, 3) uint8
    if channels is None:
        channels = 1 if np.all(rgb == rgb[..., :1]) else 3
    X = _to_tensor(rgb, channels)  # (N, C, H, W)
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for k in range(len(by_class)):
        idx = rng.permutation(np.flatnonzero(labels == k))
        n_test = min(len(idx) - 1, max(1, round(test_fraction * len(idx))))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    y = torch.from_numpy(labels.astype(np.int64))  # (N,)
    classes, name = tuple(by_class), f"folder-{root.name}"
    return (ImageDataset(X=X[train_idx], y=y[train_idx], classes=classes, name=name),
            ImageDataset(X=X[test_idx], y=y[test_idx], classes=classes, name=name))


def load_image_files(
    paths: Sequence[str | Path], image_size: tuple[int, int], channels: int, *, invert: bool = False
) -> torch.Tensor:
    """Image files -> ``(N, C, H, W)`` float32 in [0, 1], preprocessed as in ``load_image_folder``.

    For classifying the user's own files with a trained model. ``invert=True`` returns 1 - x, e.g. for
    dark digits on white paper given to a model trained on MNIST's white digits on black.
    """
    _check_size_channels(image_size, channels, allow_auto=False)
    if not paths:
        raise DataError(t("data.err.no_image_files_given"))
    paths = [Path(p).expanduser() for p in paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DataError(t("data.err.no_such_image", files=_listing(missing)))
    X = _to_tensor(_read_all(paths, image_size, None), channels)  # (N, C, H, W)
    return 1.0 - X if invert else X


#: MNIST's geometry (LeCun et al. 1998): each digit fitted in a 20×20 box, keeping its aspect ratio, then
#: placed in a 28×28 field so that its centre of mass is at the centre.
MNIST_FIELD, MNIST_BOX = 28, 20


def read_grey(path: str | Path) -> np.ndarray:
    """One image decoded, upright, on white, as luma ``(H, W)`` float32 in [0, 1] (its own size).

    Raises whatever Pillow raises for a file it cannot decode."""
    with Image.open(path) as img:
        img.draft("L", (4 * MNIST_FIELD, 4 * MNIST_FIELD))  # JPEG: decode at a reduced scale
        img = ImageOps.exif_transpose(img)
        img = _on_white(_to_8bit(img)).convert("RGB")
        return luma(np.asarray(img, dtype=np.uint8)).astype(np.float32) / 255.0  # (H, W)


def mnist_style(grey: np.ndarray) -> np.ndarray:
    """A photo or scan of one digit as MNIST shows digits: ``(H, W)`` in [0, 1] -> ``(28, 28)`` float32.

    1. Invert a light background (MNIST: white ink on black), judged by the median of the border pixels.
    2. Remove the background level and the noise: subtract the border median, median-filter 3×3, and scale
       so that the ink's 99th percentile is 1.
    3. Crop to the ink: the rows and columns where pixels above half the ink level lie.
    4. Fit the crop into 20×20 keeping the aspect ratio (antialiased), and place it in 28×28 so that its
       centre of mass (intensity-weighted) is at the centre (14, 14), as MNIST's preparation did.
    """
    x = np.asarray(grey, dtype=np.float32)
    border = np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])
    background = float(np.median(border))
    if background > 0.5:
        x, background = 1.0 - x, 1.0 - background
    x = np.clip(x - background, 0.0, None)
    smooth = np.asarray(Image.fromarray(x, mode="F").filter(ImageFilter.MedianFilter(3)), dtype=np.float32)
    level = float(np.percentile(smooth[smooth > 0], 99)) if (smooth > 0).any() else 0.0
    field = np.zeros((MNIST_FIELD, MNIST_FIELD), dtype=np.float32)
    if level <= 0:
        return field  # a blank image
    x = np.clip(smooth / level, 0.0, 1.0)
    rows, cols = np.flatnonzero((x > 0.5).any(axis=1)), np.flatnonzero((x > 0.5).any(axis=0))
    crop = x[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]                        # (h, w)
    h, w = crop.shape
    scale = MNIST_BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))                 # PIL: (width, height)
    digit = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    digit = np.clip(digit, 0.0, 1.0)                                            # (h', w') with max side 20
    mass = digit.sum()
    r_c = (digit.sum(axis=1) @ np.arange(digit.shape[0])) / mass               # centre of mass in the crop
    c_c = (digit.sum(axis=0) @ np.arange(digit.shape[1])) / mass
    top = int(np.clip(round((MNIST_FIELD - 1) / 2 - r_c), 0, MNIST_FIELD - digit.shape[0]))
    left = int(np.clip(round((MNIST_FIELD - 1) / 2 - c_c), 0, MNIST_FIELD - digit.shape[1]))
    field[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return field


def read_image(path: str | Path, image_size: tuple[int, int]) -> np.ndarray:
    """One image decoded, upright, on white, RGB, centre-cropped and resized: ``(H, W, 3)`` uint8.

    Raises whatever Pillow raises for a file it cannot decode.
    """
    height, width = image_size
    with Image.open(path) as img:
        side = max(width, height)  # square: the EXIF rotation below may swap width and height
        img.draft("RGB", (side, side))  # JPEG: decode at a reduced scale, still >= the target size
        img = ImageOps.exif_transpose(img)
        img = _on_white(_to_8bit(img)).convert("RGB")
        return np.asarray(_crop_resize(img, width, height), dtype=np.uint8).copy()  # (H, W, 3)


def _crop_resize(img: Image.Image, width: int, height: int) -> Image.Image:
    """The centred crop with the aspect ratio width : height, resized to (width, height), bicubic."""
    src_w, src_h = img.size
    if src_w * height > src_h * width:  # too wide: cut left and right
        crop_w = max(1, round(src_h * width / height))
        left = (src_w - crop_w) // 2
        box = (left, 0, left + crop_w, src_h)
    else:  # too tall (or exact): cut top and bottom
        crop_h = max(1, round(src_w * height / width))
        top = (src_h - crop_h) // 2
        box = (0, top, src_w, top + crop_h)
    return img.crop(box).resize((width, height), Image.Resampling.BICUBIC)


def luma(rgb: np.ndarray) -> np.ndarray:
    """L = (299 R + 587 G + 114 B) / 1000 on uint8 ``(..., 3)``, rounded as Pillow's ``convert("L")``."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)  # 16-bit fixed point


def _read_all(paths: Sequence[Path], image_size: tuple[int, int], root: Path | None) -> np.ndarray:
    """All images as ``(N, H, W, 3)`` uint8; one DataError listing every file that cannot be read."""
    out = np.empty((len(paths), *image_size, 3), dtype=np.uint8)
    bad = []
    for i, path in enumerate(paths):
        try:
            out[i] = read_image(path, image_size)
        except Exception as exc:  # noqa: BLE001  Pillow's decoders raise many types for a broken file
            shown = path.relative_to(root) if root is not None else path
            bad.append(f"{shown} ({type(exc).__name__}: {exc})")
    if bad:
        where = t("data.err.in_folder", root=root) if root is not None else ""
        raise DataError(t("data.err.unreadable_images", n=len(bad), where=where, files=_listing(bad)))
    return out


def _to_tensor(rgb: np.ndarray, channels: int) -> torch.Tensor:
    """``(N, H, W, 3)`` uint8 -> ``(N, C, H, W)`` float32 / 255 with C = ``channels`` (1: luma)."""
    pixels = luma(rgb)[..., None] if channels == 1 else rgb  # (N, H, W, C)
    return torch.from_numpy(pixels.astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and 32-bit grey images (mode I;16, I, F) as 8-bit L, scaled by 65535 when above 255."""
    if img.mode not in ("I", "F") and not img.mode.startswith("I;16"):
        return img
    values = np.asarray(img, dtype=np.float64)
    scale = 255.0 / 65535.0 if values.max(initial=0) > 255 else 1.0
    return Image.fromarray(np.clip(np.rint(values * scale), 0, 255).astype(np.uint8), mode="L")


def _on_white(img: Image.Image) -> Image.Image:
    """Transparent pixels composited onto a white background; opaque images unchanged."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return img


def _check_size_channels(image_size: tuple[int, int], channels: int | None, allow_auto: bool) -> None:
    if (not isinstance(image_size, tuple | list) or len(image_size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in image_size)):
        raise ConfigError(t("data.err.folder_image_size", value=repr(image_size)),
                          key="image_size")
    allowed = (None, 1, 3) if allow_auto else (1, 3)
    if channels not in allowed or isinstance(channels, bool):
        raise ConfigError(t("data.err.channels_auto" if allow_auto else "data.err.channels", value=repr(channels)),
                          key="channels")


def _hidden(name: str) -> bool:
    return name.startswith(".") or name in _SKIPPED_DIRS


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")
