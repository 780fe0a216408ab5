"""``dlsm predict CHECKPOINT IMAGE... [--top K]``: classify image files with a trained classifier.

CHECKPOINT is a run folder of the ``classify`` lab, its ``artifacts.pt``, or a checkpoint file (see
:mod:`dlsm.checkpoints`). The model's class probabilities p(k | x) = exp(log p(k | x)) are printed.

How an image is read depends on what the model was trained on:

- a model trained on MNIST (data ``mnist-5k``, ``mnist`` or ``idx:``) gets MNIST's own preparation
  (:func:`dlsm.problems.image_folder.mnist_style`): a light background is inverted (MNIST digits are
  white on black), the image is cropped to the ink, fitted into 20×20 keeping its aspect ratio and
  centred by its centre of mass in 28×28. A photo of a digit on paper then looks like the training digits.
  An image already in that format (the model's size, dark background) is used as it is.
- any other model (your own folder) reads the file exactly like its training images: centre-cropped to
  the aspect ratio and resized, grey or colour.

A file that cannot be read is reported and the other files are still classified (exit status 1).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dlsm.checkpoints import Checkpoint, load_checkpoint
from dlsm.errors import ConfigError, DataError
from dlsm.i18n import t


@dataclass
class Prediction:
    """The classifier's answer for one image."""

    path: Path
    probabilities: torch.Tensor  # (K,) p(k | x), sums to 1
    inverted: bool  # the image was inverted (a light background for a model trained on dark images)

    def top(self, k: int) -> list[tuple[int, float]]:
        """The ``k`` most probable classes as (class index, probability), most probable first."""
        p, idx = torch.topk(self.probabilities, min(k, len(self.probabilities)))
        return [(int(i), float(q)) for i, q in zip(idx, p, strict=True)]


@dataclass
class Unreadable:
    """A file that could not be classified, and why."""

    path: Path
    reason: str


def trained_on_mnist(checkpoint: Checkpoint) -> bool:
    """Did this model learn from MNIST-style digits (white on black, 20×20 box, centred by mass)?"""
    data = str(checkpoint.config.get("data", ""))
    return checkpoint.channels == 1 and (data in ("mnist-5k", "mnist") or data.startswith("idx:"))


def predict_images(checkpoint: Checkpoint, X: torch.Tensor) -> torch.Tensor:
    """Class probabilities (N, K) of images X (N, C, H, W) in [0, 1] of the checkpoint's size."""
    model = checkpoint.build_model()
    with torch.no_grad():
        return model(checkpoint.normalize(X)).exp()  # (N, K)


def read_for(checkpoint: Checkpoint, path: Path) -> tuple[torch.Tensor, bool]:
    """One file as the checkpoint's input (C, H, W) in [0, 1], and whether it was inverted.

    Raises DataError (missing file) or what Pillow raises for a file it cannot decode."""
    from dlsm.problems.image_folder import load_image_files, mnist_style, read_grey

    if not path.is_file():
        raise DataError(t("runs.err.no_image_file"))
    if not trained_on_mnist(checkpoint):
        return load_image_files([path], checkpoint.image_size, checkpoint.channels)[0], False
    grey = read_grey(path)                                                      # (H, W)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if grey.shape == checkpoint.image_size and np.median(border) <= 0.5:
        return torch.from_numpy(grey)[None], False  # already in the training format (e.g. an MNIST test image)
    x = torch.from_numpy(mnist_style(grey))[None, None]                         # (1, 1, 28, 28)
    if tuple(x.shape[-2:]) != checkpoint.image_size:
        x = F.interpolate(x, size=checkpoint.image_size, mode="bilinear", align_corners=False,
                          antialias=True).clamp(0, 1)
    return x[0], bool(np.median(border) > 0.5)


def predict_files(checkpoint: Checkpoint, paths: Sequence[str | Path]) -> tuple[list[Prediction], list[Unreadable]]:
    """Read, preprocess and classify image files; a file that cannot be read is returned in the second list."""
    if not paths:
        raise DataError(t("runs.err.no_images"))
    images, read, bad = [], [], []
    for p in paths:
        path = Path(p).expanduser()
        try:
            x, inverted = read_for(checkpoint, path)
        except Exception as exc:  # noqa: BLE001  Pillow's decoders raise many types for a broken file
            reason = str(exc) if isinstance(exc, DataError) else f"cannot read it ({type(exc).__name__}: {exc})"
            bad.append(Unreadable(path, reason))
            continue
        images.append(x)
        read.append((path, inverted))
    if not images:
        return [], bad
    probs = predict_images(checkpoint, torch.stack(images))                    # (N, K)
    return [Prediction(path, probs[i], inverted) for i, (path, inverted) in enumerate(read)], bad


def describe(checkpoint: Checkpoint, source: str) -> str:
    """One line on what the checkpoint is."""
    h, w = checkpoint.image_size
    colour = "grey" if checkpoint.channels == 1 else "colour"
    text = (f"checkpoint {source}: {checkpoint.model.upper()}, {len(checkpoint.classes)} classes, "
            f"{h}x{w} {colour} images")
    acc = checkpoint.metrics.get("test_accuracy")
    if isinstance(acc, float):
        text += f", test accuracy {100 * acc:.1f} % on {checkpoint.metrics.get('n_test', '?')} images"
    if trained_on_mnist(checkpoint):
        text += "; images prepared like MNIST (ink cropped, fitted in 20x20, centred by mass)"
    return text


def format_prediction(pred: Prediction, classes: Sequence[str], top: int) -> list[str]:
    best, p_best = pred.top(1)[0]
    note = "  (inverted: a light background)" if pred.inverted else ""
    lines = [f"{pred.path}: {classes[best]}  (p = {p_best:.4f}){note}"]
    width = max(len(c) for c in classes)
    lines += [f"    {classes[k]:<{width}}  {p:.4f}" for k, p in pred.top(top)]
    return lines


def cli_predict(args: argparse.Namespace) -> int:
    """The ``predict`` command: ``args.checkpoint``, ``args.images`` (paths) and ``args.top``.

    Exit status 0 when every image was classified, 1 when some could not be read (the others are printed)."""
    if args.top < 1:
        raise ConfigError(t("runs.err.top", top=args.top), key="top")
    checkpoint = load_checkpoint(args.checkpoint)
    predictions, bad = predict_files(checkpoint, args.images)
    print(describe(checkpoint, str(args.checkpoint)))
    for pred in predictions:
        print("\n".join(format_prediction(pred, checkpoint.classes, args.top)))
    for item in bad:
        print(f"error: {item.path}: {item.reason}", file=sys.stderr)
    if bad:
        print(f"error: {len(bad)} of {len(bad) + len(predictions)} image files could not be classified "
              "(see above); give PNG or JPEG files", file=sys.stderr)
    return 1 if bad else 0
