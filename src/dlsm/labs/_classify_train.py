"""The classify lab's training: data, model, the engine's loss and evaluation, early stopping.

:func:`train` loads the images, builds the model and trains it with the shared engine
(:class:`dlsm.training.Trainer`, one step = one update). It returns what the lab reports from
(:class:`Trained`); the lab (:mod:`dlsm.labs.classify`) turns that into metrics, tables and notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlsm import seeds
from dlsm.device import resolve_device
from dlsm.errors import DataError
from dlsm.i18n import t
from dlsm.metrics import accuracy
from dlsm.models.classifiers import CNN, MLP, SmallCNN, set_dropout_generator
from dlsm.problems.augment import Augment
from dlsm.problems.images import ImageDataset, load_dataset
from dlsm.result import ProgressFn
from dlsm.status import Status
from dlsm.training import EpochBatches, Trainer, make_optimizer, make_schedule

if TYPE_CHECKING:
    from dlsm.labs.classify import Config

#: The course's input normalisation (pixel/255 - 0.5) / 1.0, applied to images in [0, 1].
MEAN, STD = 0.5, 1.0
EVAL_BATCH = 1000  # evaluation batch size (any value gives the same numbers)


def normalize(x: torch.Tensor) -> torch.Tensor:
    """The course's input normalisation: (x - 0.5) / 1.0 for pixels x in [0, 1]."""
    return (x - MEAN) / STD


def make_model(config: Config, in_shape: tuple[int, int, int], n_classes: int,
               generator: torch.Generator) -> nn.Module:
    """The network that ``config.model`` names (mlp, cnn or small_cnn)."""
    if config.model == "cnn":
        return CNN(in_shape, n_classes, dropout=config.dropout, generator=generator)
    if config.model == "small_cnn":
        return SmallCNN(in_shape, n_classes, dropout=config.dropout, generator=generator)
    if config.model == "mlp":
        return MLP(in_shape, n_classes, widths=(config.width,) * config.depth, activation=config.activation,
                   dropout=config.dropout, generator=generator)
    raise ValueError(f"model: got {config.model!r}; allowed: mlp, cnn, small_cnn")


def augmentation(config: Config) -> Augment:
    return Augment(shift=config.shift, rotate=config.rotate, flip=config.flip, crop=config.crop,
                   jitter=config.jitter)


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, torch.Tensor]:
    """Mean loss -(1/N) Σ log p(y_i | x_i) over all N images, and the predicted classes (N,)."""
    was_training = model.training
    model.eval()
    total, preds = 0.0, []
    for start in range(0, len(X), EVAL_BATCH):
        log_p = model(normalize(X[start:start + EVAL_BATCH]))                  # (b, K)
        total += float(F.nll_loss(log_p, y[start:start + EVAL_BATCH], reduction="sum"))
        preds.append(log_p.argmax(dim=1))
    model.train(was_training)
    return total / len(X), torch.cat(preds)


def _prefix(data: ImageDataset, n: int | None) -> ImageDataset:
    if n is None or n >= len(data):
        return data
    return ImageDataset(X=data.X[:n], y=data.y[:n], classes=data.classes, name=data.name)


def split_validation(data: ImageDataset, fraction: float, seed: int) -> tuple[ImageDataset, ImageDataset | None]:
    """(train, validation): within each class a random ``fraction`` (at least one image, and at least one
    left to train on) is held out, drawn from ``np.random.default_rng([seed, 1])``; (data, None) for 0."""
    if fraction <= 0:
        return data, None
    rng = np.random.default_rng([seed, 1])  # its own stream: the test split of a folder uses default_rng(seed)
    y = data.y.numpy()
    keep, held = [], []
    for k in range(data.n_classes):
        idx = rng.permutation(np.flatnonzero(y == k))
        if len(idx) < 2:
            keep.append(idx)
            continue
        n_val = min(len(idx) - 1, max(1, round(fraction * len(idx))))
        held.append(idx[:n_val])
        keep.append(idx[n_val:])
    if not held:
        raise DataError(t("classify.err.val_split", fraction=fraction))
    keep_idx, held_idx = np.sort(np.concatenate(keep)), np.sort(np.concatenate(held))

    def subset(idx: np.ndarray) -> ImageDataset:
        t = torch.from_numpy(idx)
        return ImageDataset(X=data.X[t], y=data.y[t], classes=data.classes, name=data.name)

    return subset(keep_idx), subset(held_idx)


class RunningStats:
    """Training loss and accuracy summed over the updates since the last evaluation (checkpointed)."""

    def __init__(self) -> None:
        self.loss, self.correct, self.count = 0.0, 0, 0

    def add(self, loss: float, correct: int, count: int) -> None:
        self.loss += loss * count
        self.correct += correct
        self.count += count

    def take(self) -> dict[str, float]:
        out = ({"train_loss": self.loss / self.count, "train_accuracy": self.correct / self.count} if self.count
               else {"train_loss": math.nan, "train_accuracy": math.nan})
        self.loss, self.correct, self.count = 0.0, 0, 0
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"loss": self.loss, "correct": self.correct, "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.loss, self.correct, self.count = float(state["loss"]), int(state["correct"]), int(state["count"])


@dataclass
class Trained:
    """What training left: the model (in eval mode, the kept one), the data sets, the test predictions and
    the trainer (its logs, its best evaluation)."""

    model: nn.Module
    train: ImageDataset
    val: ImageDataset | None
    test: ImageDataset
    y_pred: torch.Tensor    # (N_test,) predicted classes of the kept model, on the CPU
    test_loss: float
    trainer: Trainer
    per_epoch: int          # updates per epoch
    device: torch.device
    restored: bool          # early stopping put back an earlier model (the lowest validation loss)


def train(config: Config, progress: ProgressFn | None = None) -> Trained:
    """Load the data, build the model and train it; evaluate on the test set after every ``eval_every``
    updates (once per epoch by default) and at the end."""
    device = resolve_device(config.device)
    train_set, test = load_dataset(config.data, image_size=config.image_size, test_fraction=config.test_fraction,
                                   seed=config.seed)
    train_set, test = _prefix(train_set, config.n_train), _prefix(test, config.n_test)
    train_set, val = split_validation(train_set, config.val_fraction, config.seed)
    K = train_set.n_classes
    g = seeds.generator(config.seed, "main")  # init, shuffles, augmentation (and dropout on the CPU)
    model = make_model(config, train_set.image_shape, K, g).to(device)
    if device.type == "cuda":
        set_dropout_generator(model, seeds.generator(config.seed, "main", device=device))
    X_train, y_train = train_set.X.to(device), train_set.y.to(device)         # (N, C, H, W), (N,)
    X_test, y_test = test.X.to(device), test.y.to(device)
    X_val, y_val = (val.X.to(device), val.y.to(device)) if val is not None else (None, None)

    batches = EpochBatches(len(train_set), config.batch_size, g, device=device)
    per_epoch = batches.per_epoch
    total = config.steps or config.epochs * per_epoch
    opt = make_optimizer(config.optimizer, model.parameters(), config.lr)
    sched = make_schedule(config.schedule, opt, total)
    augment, stats, last = augmentation(config), RunningStats(), {}

    def loss_fn(m: nn.Module, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        xb, yb = X_train[idx], y_train[idx]                                    # (b, C, H, W), (b,)
        if augment.active:
            xb = augment(xb, g)
        log_p = m(normalize(xb))                                               # (b, K)
        loss = F.nll_loss(log_p, yb)
        correct = int((log_p.argmax(dim=1) == yb).sum())
        stats.add(float(loss.detach()), correct, len(yb))
        return loss, {"accuracy": correct / len(yb), "epoch": batches.epoch_of(trainer.log.steps_done) + 1}

    def evaluate_fn(m: nn.Module) -> dict[str, float]:
        test_loss, pred = evaluate(m, X_test, y_test)
        last["pred"] = pred
        out = {**stats.take(), "test_loss": test_loss, "test_accuracy": accuracy(pred, y_test)}
        if X_val is not None:
            val_loss, val_pred = evaluate(m, X_val, y_val)
            out.update(val_loss=val_loss, val_accuracy=accuracy(val_pred, y_val))
        return out

    trainer = Trainer(model, loss_fn, batches, opt, total, name="classify", scheduler=sched,
                      evaluate=evaluate_fn, eval_every=config.eval_every or per_epoch,
                      monitor="val_loss" if val is not None else None, patience=config.patience,
                      generators={"data": g}, stateful={"train_stats": stats}, progress=progress)
    log = trainer.run()
    evals = trainer.eval_log
    restored = val is not None and log.status != Status.DIVERGED and trainer.best is not None \
        and trainer.best["step"] != log.steps_done and trainer.restore_best()
    model.eval()
    if "pred" in last and evals.steps_done == log.steps_done and not restored:
        test_loss, y_pred = evals.history["test_loss"][-1], last["pred"]  # the model is unchanged since then
    else:
        test_loss, y_pred = evaluate(model, X_test, y_test)
    return Trained(model=model, train=train_set, val=val, test=test, y_pred=y_pred.cpu(), test_loss=test_loss,
                   trainer=trainer, per_epoch=per_epoch, device=device, restored=bool(restored))
