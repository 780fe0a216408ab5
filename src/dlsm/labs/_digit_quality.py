"""Quality of generated digits, judged by the lecture-3 CNN (shared by the ``diffusion data=digits`` and ``vae`` labs).

The judge is the course CNN (:class:`dlsm.models.classifiers.CNN`), trained here through the engine on the
embedded MNIST training images (input x − 0.5, Adam). For a set of images it gives

- ``confident_share``: the share classified with confidence max_k p(k | x) > 0.9;
- ``class_entropy``: the entropy (bits) of the histogram of predicted classes, log2 10 = 3.32 when all ten
  digits appear equally often, 0 when only one does;
- ``frechet``: the Fréchet distance between Gaussians fitted to the CNN's penultimate features (128) of the
  images and of held-out digits (the FID formula with a small MNIST classifier instead of Inception).

Trained judges are kept in memory for the process, keyed by their settings, so a notebook that runs both
labs trains one judge.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from dlsm.metrics import frechet_distance
from dlsm.models.classifiers import CNN
from dlsm.problems.images import ImageDataset
from dlsm.result import ProgressFn, Table, table_from_columns
from dlsm.seeds import generator as stream
from dlsm.training import EpochBatches, Trainer, make_optimizer

CONFIDENCE = 0.9
#: Row labels of the quality table (kept as in the run folders written before).
GENERATED_ROW, FLOOR_ROW, CEILING_ROW = "generated", "held-out digits (floor)", "noise (ceiling)"
_JUDGES: dict[tuple, CNN] = {}


def train_judge(train: ImageDataset, epochs: float, seed: int, device: torch.device,
                progress: ProgressFn | None = None, batch_size: int = 64, lr: float = 1e-3) -> CNN:
    """The course CNN trained for ``epochs`` passes over ``train``; returned in eval mode."""
    key = (len(train), epochs, seed, str(device), batch_size, lr)
    if key in _JUDGES:
        return _JUDGES[key]
    generator = stream(seed, "judge")
    with torch.random.fork_rng(devices=[]):  # nn.Conv2d's own init draws from the global generator; undo that
        model = CNN(train.image_shape, train.n_classes, generator=generator).to(device)
    X, y = train.X.to(device) - 0.5, train.y.to(device)  # (n, 1, 28, 28), (n,)
    batches = EpochBatches(len(X), batch_size, generator, device=device)
    steps = max(1, math.ceil(epochs * batches.per_epoch))
    trainer = Trainer(model, lambda m, idx: F.nll_loss(m(X[idx]), y[idx]), batches,
                      make_optimizer("adam", model.parameters(), lr), steps, name="judge",
                      generators={"judge": generator}, progress=progress)
    trainer.run()
    model.eval()
    _JUDGES[key] = model
    return model


@torch.no_grad()
def judge_images(model: CNN, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Class probabilities (n, 10) and penultimate features (n, 128) of images (n, 1, 28, 28) in [0, 1]."""
    device = next(model.parameters()).device
    probs, feats = [], []
    for chunk in images.split(500):
        h = model.features(chunk.to(device).clamp(0, 1) - 0.5)
        f = model.head[:-1](h)  # (b, 128): everything but the last linear layer
        probs.append(F.softmax(model.head[-1](f), dim=1).cpu())
        feats.append(f.cpu())
    return torch.cat(probs), torch.cat(feats)


def digit_quality(model: CNN, images: torch.Tensor, reference_feats: torch.Tensor,
                  asked: torch.Tensor | None = None) -> dict[str, float]:
    """confident_share, class_entropy (bits) and frechet (against ``reference_feats``) of ``images``; with the
    classes ``asked`` (n,) for them, also read_as_asked: the share the judge classifies as asked (one judging)."""
    probs, feats = judge_images(model, images)
    predicted = probs.argmax(1)
    hist = torch.bincount(predicted, minlength=probs.shape[1]).double() / len(probs)
    nz = hist[hist > 0]
    out = {"confident_share": float((probs.max(1).values > CONFIDENCE).double().mean()),
           "class_entropy": float(-(nz * nz.log2()).sum()) + 0.0,
           "frechet": frechet_distance(feats, reference_feats)}
    if asked is not None:
        out["read_as_asked"] = float((predicted == asked.cpu()).double().mean())
    return out


def quality_table_rows(model: CNN, generated: torch.Tensor, test: ImageDataset, n_reference: int,
                       generator: torch.Generator, others: dict[str, torch.Tensor] | None = None
                       ) -> tuple[dict[str, dict[str, float]], float]:
    """The three numbers for the generated images, for real held-out digits (floor) and for noise (ceiling).

    The first ``n_reference`` test digits are the reference the Fréchet distance is measured against (and
    give the judge's accuracy); the next ``len(generated)`` test digits are the floor. The ceiling is
    uniform noise images U(0, 1). ``others``: further named image sets, judged against the same reference,
    each a row under its name. Returns (rows, the judge's accuracy on the reference digits).
    """
    probs, ref_feats = judge_images(model, test.X[:n_reference])
    accuracy = float((probs.argmax(1) == test.y[:n_reference]).double().mean())
    floor = test.X[n_reference:n_reference + len(generated)]
    noise = torch.rand(floor.shape, generator=generator)
    return {GENERATED_ROW: digit_quality(model, generated, ref_feats),
            FLOOR_ROW: digit_quality(model, floor, ref_feats),
            CEILING_ROW: digit_quality(model, noise, ref_feats),
            **{name: digit_quality(model, images, ref_feats) for name, images in (others or {}).items()}}, accuracy


def quality_table(rows: dict[str, dict[str, float]]) -> Table:
    """The quality table: one row per set of :func:`quality_table_rows` (generated, floor, ceiling)."""
    return table_from_columns({
        "samples": list(rows), **{key: [rows[k][key] for k in rows]
                                  for key in ("confident_share", "class_entropy", "frechet")}})
