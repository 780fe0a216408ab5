"""``dlsm predict CHECKPOINT IMAGE... [--top K]``: classify image files with a trained classifier.

CHECKPOINT is a run folder of the ``classify`` lab, its ``artifacts.pt``, or a checkpoint file (see
:mod:`dlsm.checkpoints`). Each image is read like the training images (resized to the checkpoint's
size, grey or colour), and the model's class probabilities p(k | x) = exp(log p) are printed.

Images for an MNIST model are white digits on black. A photo or drawing of a dark digit on light
paper is the opposite, so when the model was trained on dark images (mean pixel below 0.3) and an
image is mostly light (mean above 0.5), it is inverted (x ↦ 1 - x) first, and the output says so.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from dlsm.checkpoints import Checkpoint, load_checkpoint
from dlsm.errors import ConfigError

DARK_TRAINING_MEAN = 0.3  # a training set darker than this has a dark background (MNIST: 0.13)
LIGHT_IMAGE_MEAN = 0.5  # an image lighter than this has a light background


@dataclass
class Prediction:
    """The classifier's answer for one image."""

    path: Path
    probabilities: torch.Tensor  # (K,) p(k | x), sums to 1
    inverted: bool  # the image was inverted to match a dark-background training set

    def top(self, k: int) -> list[tuple[int, float]]:
        """The ``k`` most probable classes as (class index, probability), most probable first."""
        p, idx = torch.topk(self.probabilities, min(k, len(self.probabilities)))
        return [(int(i), float(q)) for i, q in zip(idx, p, strict=True)]


def predict_images(checkpoint: Checkpoint, X: torch.Tensor) -> torch.Tensor:
    """Class probabilities (N, K) of images X (N, C, H, W) in [0, 1] of the checkpoint's size."""
    model = checkpoint.build_model()
    with torch.no_grad():
        return model(checkpoint.normalize(X)).exp()  # (N, K)


def predict_files(checkpoint: Checkpoint, paths: Sequence[str | Path]) -> list[Prediction]:
    """Read, preprocess and classify image files; DataError for a missing or unreadable file."""
    from dlsm.problems.images import load_image_files

    X = load_image_files(list(paths), checkpoint.image_size, checkpoint.channels)  # (N, C, H, W)
    means = X.mean(dim=(1, 2, 3))                                                # (N,)
    dark_training = checkpoint.pixel_mean is not None and checkpoint.pixel_mean < DARK_TRAINING_MEAN
    inverted = (means > LIGHT_IMAGE_MEAN) & dark_training                      # (N,)
    X = torch.where(inverted[:, None, None, None], 1.0 - X, X)
    probs = predict_images(checkpoint, X)
    return [Prediction(Path(p), probs[i], bool(inverted[i])) for i, p in enumerate(paths)]


def describe(checkpoint: Checkpoint, source: str) -> str:
    """One line on what the checkpoint is."""
    h, w = checkpoint.image_size
    colour = "grey" if checkpoint.channels == 1 else "colour"
    text = (f"checkpoint {source}: {checkpoint.model.upper()}, {len(checkpoint.classes)} classes, "
            f"{h}x{w} {colour} images")
    acc = checkpoint.metrics.get("test_accuracy")
    if isinstance(acc, float):
        text += f", test accuracy {100 * acc:.1f} % on {checkpoint.metrics.get('n_test', '?')} images"
    return text


def format_prediction(pred: Prediction, classes: Sequence[str], top: int) -> list[str]:
    best, p_best = pred.top(1)[0]
    note = "  (inverted: a light background)" if pred.inverted else ""
    lines = [f"{pred.path}: {classes[best]}  (p = {p_best:.4f}){note}"]
    width = max(len(c) for c in classes)
    lines += [f"    {classes[k]:<{width}}  {p:.4f}" for k, p in pred.top(top)]
    return lines


def cli_predict(args: argparse.Namespace) -> int:
    """The ``predict`` command: ``args.checkpoint``, ``args.images`` (paths) and ``args.top``."""
    if args.top < 1:
        raise ConfigError(f"--top: got {args.top}; allowed: an integer >= 1", key="top")
    checkpoint = load_checkpoint(args.checkpoint)
    predictions = predict_files(checkpoint, args.images)
    print(describe(checkpoint, str(args.checkpoint)))
    for pred in predictions:
        print("\n".join(format_prediction(pred, checkpoint.classes, args.top)))
    return 0
