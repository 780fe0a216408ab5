"""Your own photos (lecture 1's "cat or dog"): the classify lab's folder recipe on generated image folders.

Two tasks, each a folder with one sub-folder per class, drawn here from a seed (64×64 RGB PNG files):

- shapes: circles vs squares at a random position, size and colour on a noisy background of another colour;
- outline: filled vs outlined shapes (a circle, square or triangle of random kind, place, size and colour,
  on a noisy background): the class is in the stroke, not in the shape or the colour.

The README's recipe, ``dlsm run classify data=folder:PATH``, trains on each folder (the 80 % training share;
15 % of it is the validation split of early stopping); the test accuracy is over the held-out 20 %, and
``dlsm predict``'s reading of files is measured on unseen images generated with another seed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from _common import BenchSection, timed
from dlsm.checkpoints import Checkpoint
from dlsm.labs import classify
from dlsm.predict import predict_files
from dlsm.result import Table

SIDE = 64
TARGET_ACC, TARGET_S, TARGET_PREDICT = 0.90, 60.0, 0.90


def _colour(rng: np.random.Generator, avoid: np.ndarray | None = None) -> np.ndarray:
    while True:
        c = rng.integers(0, 256, 3)
        if avoid is None or np.abs(c - avoid).sum() > 180:  # the shape stands out from the background
            return c


def draw_shape(kind: str, filled: bool, rng: np.random.Generator) -> Image.Image:
    """One 64×64 RGB image: a shape ("circle", "square", "triangle") on a noisy background."""
    background = _colour(rng)
    noisy = background + rng.normal(0, 20, (SIDE, SIDE, 3))
    img = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), mode="RGB")
    draw = ImageDraw.Draw(img)
    r = int(rng.integers(9, 22))
    cx, cy = (int(rng.integers(r + 1, SIDE - r - 1)) for _ in range(2))
    fill = tuple(int(v) for v in _colour(rng, background))
    box = (cx - r, cy - r, cx + r, cy + r)
    style = {"fill": fill} if filled else {"outline": fill, "width": 3}
    if kind == "circle":
        draw.ellipse(box, **style)
    elif kind == "square":
        draw.rectangle(box, **style)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], **style)
    return img


def _label_draw(task: str, label: str, rng: np.random.Generator) -> Image.Image:
    if task == "shapes":
        return draw_shape(label.rstrip("s"), True, rng)
    kind = ("circle", "square", "triangle")[int(rng.integers(0, 3))]
    return draw_shape(kind, label == "filled", rng)


CLASSES = {"shapes": ("circles", "squares"), "outline": ("filled", "outlined")}


def make_folder(task: str, root: Path, per_class: int, seed: int) -> Path:
    """Write ``per_class`` images of each class of ``task`` under ``root/<class>/``; return root."""
    rng = np.random.default_rng(seed)
    for label in CLASSES[task]:
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            _label_draw(task, label, rng).save(root / label / f"{i:03d}.png")
    return root


def _measure(task: str, work: Path, per_class: int, n_unseen: int, quick: bool) -> list:
    folder = make_folder(task, work / task, per_class, seed=0)
    unseen = make_folder(task, work / f"{task}-unseen", n_unseen, seed=1)
    config = classify.Config.make("quick" if quick else "course", data=f"folder:{folder}", device="cpu")
    result, seconds = timed(lambda: classify.run(config))
    m = result.metrics
    ckpt = Checkpoint.from_payload(result.artifacts["checkpoint"])
    files = [(p, k) for k, label in enumerate(CLASSES[task]) for p in sorted((unseen / label).iterdir())]
    preds, bad = predict_files(ckpt, [p for p, _ in files])
    right = sum(pred.top(1)[0][0] == k for pred, (_, k) in zip(preds, files, strict=True)) if not bad else 0
    share = right / len(files)
    met = "" if quick else ("yes" if m["test_accuracy"] >= TARGET_ACC and seconds <= TARGET_S
                            and share >= TARGET_PREDICT else "no")
    return [task, f"{per_class} per class", m["n_train"], m["n_val"], m["n_test"], m["n_params"], m["steps"],
            round(100 * m["test_accuracy"], 1), f"{right}/{len(files)}", round(seconds, 1),
            f">= {100 * TARGET_ACC:.0f} % in <= {TARGET_S:.0f} s; predict >= {100 * TARGET_PREDICT:.0f} %", met]


def run(quick: bool = False) -> list[BenchSection]:
    per_class, n_unseen = (30, 5) if quick else (150, 20)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [_measure(task, Path(tmp), per_class, n_unseen, quick) for task in CLASSES]
    columns = ["task", "images", "train", "val", "test", "params", "updates", "test accuracy %",
               "predict right on unseen", "time_s", "target", "met"]
    recipe = ", ".join(f"{k}={v}" for k, v in classify.FOLDER.items())
    return [BenchSection(
        "classify: your own photos (generated folders), the folder recipe, CPU",
        Table(columns, rows),
        ["Each folder is generated by this benchmark from seed 0 (64×64 RGB PNG files, read at 32×32); the unseen "
         "images for `dlsm predict` from seed 1. shapes: circles vs squares, random position, size and colours, "
         "noisy background; outline: filled vs outlined circles, squares and triangles.",
         f"Command: `dlsm run classify data=folder:PATH` (the recipe: {recipe}); seed 0; test accuracy over the "
         "held-out 20 % of each class.",
         f"time_s = wall-clock of the whole lab run (reading the folder, training, evaluation) on the CPU with "
         f"torch's {torch.get_num_threads()} threads; the 1-minute load average when the benchmark started was "
         f"{load:.1f} (other work on the machine slows the runs)."])]


if __name__ == "__main__":
    import sys

    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.table.to_markdown()}\n")
        print("\n".join(f"- {n}" for n in section.notes) + "\n")
