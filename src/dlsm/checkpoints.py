"""Checkpoints of trained classifiers: everything needed to classify new images, and nothing executable.

A checkpoint is a plain dictionary of tensors, strings and numbers::

    {"format": "dlsm-classifier", "version": 1,
     "model": "mlp" | "cnn", "hparams": {...},          # how to rebuild the nn.Module
     "state_dict": {name: tensor},                      # the trained parameters
     "classes": [...], "channels": C, "image_size": [H, W],
     "normalization": {"mean": m, "std": s},            # model input = (pixel/255 - m) / s
     "config": {...}, "metrics": {...},                 # the run that produced it
     "pixel_mean": p}                                   # mean training pixel (dark background?)

The ``classify`` lab returns it as ``result.artifacts["checkpoint"]``, so a run folder's
``artifacts.pt`` holds it. :func:`load_checkpoint` reads with ``torch.load(weights_only=True)``: the
unpickler accepts only tensors and plain containers, so loading a file never executes code from it.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dlsm.errors import DataError, InputError
from dlsm.i18n import t
from dlsm.models.classifiers import CLASSIFIERS, build_classifier

FORMAT = "dlsm-classifier"
VERSION = 1
#: File names looked for when a folder (e.g. a run folder) is given instead of a file.
FILE_NAMES = ("artifacts.pt", "checkpoint.pt")


@dataclass
class Checkpoint:
    """A trained classifier with what it needs to read new images (see the module docstring)."""

    model: str
    hparams: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    classes: tuple[str, ...]
    channels: int
    image_size: tuple[int, int]
    mean: float
    std: float
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    pixel_mean: float | None = None  # mean training pixel in [0, 1] (MNIST: 0.13, a dark background)

    def to_payload(self) -> dict[str, Any]:
        """The plain dictionary that is saved (loadable with ``weights_only=True``)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "model": self.model,
            "hparams": self.hparams,
            "state_dict": self.state_dict,
            "classes": list(self.classes),
            "channels": self.channels,
            "image_size": list(self.image_size),
            "normalization": {"mean": self.mean, "std": self.std},
            "config": self.config,
            "metrics": self.metrics,
            "pixel_mean": self.pixel_mean,
        }

    @classmethod
    def from_payload(cls, payload: Any, source: str = "checkpoint") -> Checkpoint:
        """Validate a loaded dictionary; DataError naming ``source`` and the problem otherwise."""
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise DataError(t("runs.err.not_classifier_checkpoint", source=source))
        if payload.get("version") != VERSION:
            raise DataError(t("runs.err.checkpoint_version", source=source, version=repr(payload.get("version")),
                              supported=VERSION))
        try:
            norm = payload["normalization"]
            ckpt = cls(
                model=str(payload["model"]),
                hparams=dict(payload["hparams"]),
                state_dict=dict(payload["state_dict"]),
                classes=tuple(str(c) for c in payload["classes"]),
                channels=int(payload["channels"]),
                image_size=(int(payload["image_size"][0]), int(payload["image_size"][1])),
                mean=float(norm["mean"]),
                std=float(norm["std"]),
                config=dict(payload.get("config", {})),
                metrics=dict(payload.get("metrics", {})),
                pixel_mean=None if payload.get("pixel_mean") is None else float(payload["pixel_mean"]),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DataError(t("runs.err.checkpoint_malformed", source=source, error=repr(exc))) from exc
        if ckpt.model not in CLASSIFIERS:
            raise DataError(t("runs.err.checkpoint_unknown_model", source=source, model=repr(ckpt.model),
                              known=", ".join(CLASSIFIERS)))
        if not all(isinstance(v, torch.Tensor) for v in ckpt.state_dict.values()):
            raise DataError(t("runs.err.checkpoint_not_tensors", source=source))
        return ckpt

    def build_model(self) -> nn.Module:
        """The trained model on the CPU, in evaluation mode."""
        try:
            model = build_classifier(self.model, self.hparams)
            model.load_state_dict(self.state_dict)
        except (TypeError, ValueError, RuntimeError, KeyError) as exc:
            raise DataError(t("runs.err.weights_do_not_fit", model=self.model, error=exc)) from exc
        return model.eval()

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Model input from images in [0, 1]: (x - mean) / std."""
        return (x - self.mean) / self.std


def save_checkpoint(checkpoint: Checkpoint, path: str | Path) -> Path:
    """Write ``checkpoint`` to ``path`` with ``torch.save``; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint.to_payload(), path)
    return path


def how_to_get_one() -> str:
    """What works when a folder or file holds no classifier: the commands that make one (current language)."""
    return t("runs.err.how_to_get_one")


def run_lab(folder: Path) -> str | None:
    """The lab named in a run folder's ``config.json`` (None when there is none or it cannot be read)."""
    try:
        lab = json.loads((folder / "config.json").read_text()).get("lab")
    except (OSError, ValueError, AttributeError):
        return None
    return lab if isinstance(lab, str) else None


def _not_a_classifier(where: Path, folder: Path) -> DataError | None:
    """The error for a run folder of another lab, or of classify run without a checkpoint (else None)."""
    lab = run_lab(folder)
    if lab is None:
        return None
    if lab != "classify":
        return DataError(t("runs.err.not_classifier_lab", where=where, lab=lab, how=how_to_get_one()))
    if not (folder / "artifacts.pt").is_file():
        return DataError(t("runs.err.classify_unfinished", where=where, folder=folder))
    return DataError(t("runs.err.classify_no_checkpoint", where=where))


def resolve_path(path: str | Path) -> Path:
    """The checkpoint file meant by ``path``: the file itself, or ``artifacts.pt`` in a run folder."""
    path = Path(path)
    if path.is_dir():
        if run_lab(path) not in (None, "classify"):
            raise _not_a_classifier(path, path)  # type: ignore[misc]
        for name in FILE_NAMES:
            if (path / name).is_file():
                return path / name
        problem = _not_a_classifier(path, path)
        raise problem or DataError(t("runs.err.folder_without_checkpoint", path=path,
                                     names=t("runs.err.word_or").join(FILE_NAMES), how=how_to_get_one()))
    if not path.is_file():
        raise DataError(t("runs.err.checkpoint_not_found", path=path))
    return path


def load_plain(file: Path) -> Any:
    """``torch.load(file, weights_only=True)`` on the CPU, with plain messages.

    A file that the weights-only unpickler refuses (it names a Python global: a class, or a function such as
    ``os.system`` that a malicious pickle would call) is not a plain weights file and is not loaded
    (:class:`~dlsm.errors.InputError`, exit status 2); any other failure is a truncated or corrupt file
    (DataError)."""
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        text = str(exc)
        what = re.search(r"GLOBAL (\S+)", text)  # a pickle naming a Python global; random bytes name none
        if isinstance(exc, pickle.UnpicklingError) and what and ("weights_only" in text or "Weights only" in text):
            raise InputError(t("cli.err.not_plain_weights", path=file, what=what.group(1))) from None
        raise DataError(t("runs.err.checkpoint_corrupt", file=file)) from None


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint from a file, a run's ``artifacts.pt`` or a run folder, never executing code.

    Raises DataError for a missing, truncated or corrupt file, for a file holding anything other than
    tensors and plain data, and for an ``artifacts.pt`` saved without a checkpoint.
    """
    file = resolve_path(path)
    payload = load_plain(file)
    if isinstance(payload, dict) and payload.get("format") != FORMAT and "checkpoint" in payload:
        payload = payload["checkpoint"]  # a run folder's artifacts.pt
    elif isinstance(payload, dict) and payload.get("format") != FORMAT:
        problem = _not_a_classifier(file, file.parent)
        if problem is not None:
            raise problem
        if "state_dict" in payload:
            raise DataError(t("runs.err.model_without_checkpoint", file=file, how=how_to_get_one()))
    return Checkpoint.from_payload(payload, source=str(file))
