"""Lecture 3: handwritten digits (or your own images) classified by the course MLP or CNN, or a small CNN.

The model outputs log-probabilities log p(k | x) and is trained by mini-batch SGD (or Adam) on the
negative log-likelihood L = -(1/B) Σ_i log p(y_i | x_i), as in the course, with the shared training engine
(:class:`dlsm.training.Trainer`; one step = one update). Evaluation is over the whole test set:
accuracy = #correct / N_test (the course's notebook divided by batches × batch size), loss and accuracy
curves (one point per evaluation, once per epoch by default), the confusion matrix and the misclassified
test images.

Your own photos (``data=folder:<path>``): ``Config.make`` then starts from :data:`FOLDER`, a recipe made for
a few hundred images: the small CNN with batch norm and global pooling (:class:`~dlsm.models.classifiers.
SmallCNN`), Adam, a budget counted in updates, flips, crops and colour jitter, and early stopping on a
validation split (the model with the lowest validation loss is kept). ``model=mlp`` or ``model=cnn`` still
choose the course models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlsm.checkpoints import Checkpoint
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.errors import ConfigError, DataError
from dlsm.labs import Lab
from dlsm.metrics import accuracy, confusion_matrix
from dlsm.models.classifiers import CNN, FIXED_ACTIVATION, MLP, SmallCNN, set_dropout_generator
from dlsm.problems.augment import Augment
from dlsm.problems.images import ImageDataset, load_dataset
from dlsm.result import Curve, ProgressFn, Result, Table, table_from_columns
from dlsm.status import Status
from dlsm.training import (
    EpochBatches,
    FitLog,
    OptimizerName,
    ScheduleName,
    Trainer,
    carry_status,
    count_parameters,
    make_optimizer,
    make_schedule,
    want_figures,
)

#: The course's input normalisation (pixel/255 - 0.5) / 1.0, applied to images in [0, 1].
MEAN, STD = 0.5, 1.0
EVAL_BATCH = 1000  # evaluation batch size (any value gives the same numbers)
#: The CNN's part of the ``full`` preset (the rest is ``Config.full``), tuned on the embedded split:
#: test accuracy 98.2, 97.7, 98.2 % for seeds 0, 1, 2 on the CPU (the MLP's full settings: 97.1 % for seed 0).
FULL_CNN = {"lr": 0.003, "batch_size": 32, "epochs": 10}
#: The recipe for ``data=folder:<path>`` (a few hundred of your own images), applied by ``Config.make``
#: under your own overrides. Measured in benchmarks/bench_folder.py.
FOLDER = {"model": "small_cnn", "activation": "relu", "optimizer": "adam", "lr": 0.003, "batch_size": 32,
          "steps": 600, "schedule": "constant", "flip": True, "crop": 3, "jitter": 0.2, "val_fraction": 0.15,
          "patience": 10, "eval_every": 25, "shift": 0, "rotate": 0.0, "dropout": 0.0}
FOLDER_QUICK = {"steps": 100}


@dataclass(frozen=True)
class Config(LabConfig):
    """Train an MLP or CNN image classifier and evaluate it on the test set.

    Sizes (``Config.make(size)``, ``dlsm run classify [--quick | --full]``):

    - ``course`` (the field defaults): the course notebook, i.e. the sigmoid MLP 784-784-784-10,
      plain SGD with lr 0.1, batch 200, 3 epochs, on the embedded 4,000 / 1,000 MNIST split. On this
      small set that is only 60 updates and the sigmoid network stays near chance (the lab says so).
      ``model=cnn`` gives the course CNN (ReLU) with the same training settings.
    - ``quick``: 1,000 / 500 images, 3 epochs of ReLU + Adam (about a second; tour, tests and CI). It
      learns (about 80 %), unlike the course settings at that size, which stay at chance.
    - ``full``: the tuned settings of the benchmark (measured on the embedded split: MLP 97 %, CNN
      98 %, each in under a minute on 2 CPU cores): ReLU, Adam with a one-cycle schedule, ±2-pixel
      random shifts; for the MLP lr 0.002, batch 100, 40 epochs; with ``model=cnn`` lr 0.003, batch
      32, 10 epochs (``FULL_CNN``).
    - ``data=folder:<path>`` at any size: the folder recipe ``FOLDER`` (small CNN, Adam, 600 updates,
      flips, crops, colour jitter, early stopping on a 15 % validation split), under your overrides.
    """

    data: str = param("mnist-5k", 'image source: "mnist-5k" (embedded, offline), "mnist" (full MNIST, '
                      'downloaded once), "idx:<folder>" or "folder:<path>" (your images, a sub-folder per '
                      "class; Config.make then applies the folder recipe FOLDER)")
    image_size: int | None = param(None, "resize images to this side in pixels (None: 28 for MNIST, 32 "
                                   "for a folder)", ge=6, le=512)
    test_fraction: float = param(0.2, "share of each class held out for testing (folder data only)",
                                 gt=0, lt=1)
    n_train: int | None = param(None, "use the first n training images (None: all; the embedded set is "
                                "ordered so that a prefix stays balanced)", ge=1)
    n_test: int | None = param(None, "use the first n test images (None: all)", ge=1)
    model: Literal["mlp", "cnn", "small_cnn"] = param(
        "mlp", "the course MLP, the course CNN (with --full, model=cnn also sets lr=0.003, batch_size=32, "
        "epochs=10), or small_cnn: 3 conv blocks with batch norm and global pooling (~24 k parameters; "
        "the default for folder data)")
    activation: Literal["sigmoid", "relu", "tanh"] = param(
        "sigmoid", "hidden activation of the MLP (course: sigmoid; exercise 3-2: relu); the CNNs use relu "
        "(Config.make sets it for them)")
    width: int = param(784, "units per hidden layer of the MLP (course: 784)", ge=1, le=100_000)
    depth: int = param(2, "hidden layers of the MLP (course: 2, i.e. 784-784-784-10; 0 = logistic "
                       "regression)", ge=0, le=50)
    dropout: float = param(0.0, "dropout probability after hidden layers (CNN: after pooling and fc1); "
                           "course: none", ge=0, lt=1)
    optimizer: OptimizerName = param("sgd", "plain SGD as in the course, SGD with momentum 0.9, or Adam")
    lr: float = param(0.1, "learning rate (course: 0.1 with SGD); the peak lr with schedule=onecycle",
                      gt=0, le=100)
    batch_size: int = param(200, "mini-batch size B (course: 200)", ge=1)
    epochs: int = param(3, "passes over the training set (course: 3; exercise 3-3 tries 1, 3, 5); "
                        "ignored when steps is set", ge=1, le=10_000)
    steps: int | None = param(None, "optimizer updates in all (None: epochs × batches per epoch)", ge=1,
                              le=10_000_000)
    schedule: ScheduleName = param(
        "constant", "learning-rate schedule per update: constant (course), cosine, onecycle (warm up to lr, "
        "then anneal) or step")
    shift: int = param(0, "augmentation: move each training image by a random whole number of pixels in "
                       "[-shift, shift] along each axis, zeros outside (0: off, as in the course)", ge=0, le=8)
    rotate: float = param(0.0, "augmentation: rotate each training image by a random angle in [-rotate, rotate] "
                          "degrees (0: off, as in the course)", ge=0, le=180)
    flip: bool = param(False, "augmentation: mirror each training image left-right with probability 1/2 "
                       "(photos; not for digits)")
    crop: int = param(0, "augmentation: pad by this many pixels (mirrored border) and cut a random window of "
                      "the image's size (0: off)", ge=0, le=16)
    jitter: float = param(0.0, "augmentation: random brightness, contrast and saturation factors in "
                          "[1 - jitter, 1 + jitter] (0: off)", ge=0, le=1)
    val_fraction: float = param(0.0, "share of the training images held out for validation: the model with "
                                "the lowest validation loss is kept (0: none, as in the course)", ge=0, lt=1)
    patience: int | None = param(None, "early stopping: stop after this many evaluations without a lower "
                                 "validation loss (needs val_fraction > 0; None: train all steps)", ge=1)
    eval_every: int | None = param(None, "updates between evaluations (None: once per epoch)", ge=1)
    device: DeviceName = device_param()
    save_checkpoint: bool = param(True, "return a checkpoint (weights, classes, image size) in the "
                                  "artifacts, so that `dlsm predict RUN_FOLDER IMAGE...` works")

    quick = {"n_train": 1000, "n_test": 500, "epochs": 3, "activation": "relu", "optimizer": "adam", "lr": 0.002,
             "batch_size": 50}
    full = {"activation": "relu", "optimizer": "adam", "schedule": "onecycle", "shift": 2,
            "lr": 0.002, "batch_size": 100, "epochs": 40}

    @classmethod
    def make(cls, size: Literal["course", "quick", "full"] = "course", **overrides) -> Config:
        """As :meth:`LabConfig.make`, plus: folder data starts from the recipe ``FOLDER``; at ``full`` size
        ``model=cnn`` takes the CNN's tuned lr, batch, epochs; the CNNs get activation relu (what they use)."""
        if str(overrides.get("data", "")).startswith("folder:"):
            overrides = {**FOLDER, **(FOLDER_QUICK if size == "quick" else {}), **overrides}
        elif size == "full" and overrides.get("model") == "cnn":
            overrides = {**FULL_CNN, **overrides}
        if overrides.get("model") in FIXED_ACTIVATION and "activation" not in overrides:
            overrides = {**overrides, "activation": FIXED_ACTIVATION[overrides["model"]]}
        return super().make(size, **overrides)

    def check(self) -> None:
        kind, sep, arg = self.data.partition(":")
        if not (self.data in ("mnist-5k", "mnist") or (sep and kind in ("idx", "folder") and arg.strip())):
            raise ConfigError(f"data: got {self.data!r}; allowed: mnist-5k, mnist, idx:<folder>, "
                              "folder:<path>", key="data")
        if self.model == "cnn" and self.image_size is not None and self.image_size < 6:
            raise ConfigError(f"image_size: got {self.image_size}; the CNN needs at least 6", key="image_size")
        if self.model in FIXED_ACTIVATION and self.activation != FIXED_ACTIVATION[self.model]:
            raise ConfigError(f"activation: got {self.activation!r} with model={self.model}; the {self.model} "
                              f"uses {FIXED_ACTIVATION[self.model]} (activation applies to model=mlp)",
                              key="activation")
        if self.patience is not None and self.val_fraction == 0:
            raise ConfigError(f"patience: got {self.patience} but val_fraction is 0; early stopping watches "
                              "the validation loss: set val_fraction (e.g. 0.15) or patience=none",
                              key="patience")


# ----- pieces ---------------------------------------------------------------------------------------
def normalize(x: torch.Tensor) -> torch.Tensor:
    """The course's input normalisation: (x - 0.5) / 1.0 for pixels x in [0, 1]."""
    return (x - MEAN) / STD


def make_model(config: Config, in_shape: tuple[int, int, int], n_classes: int,
               generator: torch.Generator) -> nn.Module:
    if config.model == "cnn":
        return CNN(in_shape, n_classes, dropout=config.dropout, generator=generator)
    if config.model == "small_cnn":
        return SmallCNN(in_shape, n_classes, dropout=config.dropout, generator=generator)
    return MLP(in_shape, n_classes, widths=(config.width,) * config.depth, activation=config.activation,
               dropout=config.dropout, generator=generator)


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
    left to train on) is held out, drawn from ``np.random.default_rng(seed)``; (data, None) for 0."""
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
        raise DataError(f"val_fraction={fraction}: no class has two training images to split")
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


# ----- the lab ----------------------------------------------------------------------------------------
def run(config: Config, progress: ProgressFn | None = None) -> Result:
    device = resolve_device(config.device)
    train, test = load_dataset(config.data, image_size=config.image_size, test_fraction=config.test_fraction,
                               seed=config.seed)
    train, test = _prefix(train, config.n_train), _prefix(test, config.n_test)
    train, val = split_validation(train, config.val_fraction, config.seed)
    K = train.n_classes
    g = torch.Generator().manual_seed(config.seed)  # init, shuffles, augmentation (and dropout on the CPU)
    model = make_model(config, train.image_shape, K, g).to(device)
    if device.type == "cuda":
        set_dropout_generator(model, torch.Generator(device).manual_seed(config.seed))
    X_train, y_train = train.X.to(device), train.y.to(device)                 # (N, C, H, W), (N,)
    X_test, y_test = test.X.to(device), test.y.to(device)
    X_val, y_val = (val.X.to(device), val.y.to(device)) if val is not None else (None, None)

    batches = EpochBatches(len(train), config.batch_size, g, device=device)
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
    result = build_result(config, model, train, val, test, y_pred.cpu(), test_loss, trainer, per_epoch, device,
                          restored)
    return result


def build_result(config: Config, model: nn.Module, train: ImageDataset, val: ImageDataset | None,
                 test: ImageDataset, y_pred: torch.Tensor, test_loss: float, trainer: Trainer, per_epoch: int,
                 device: torch.device, restored: bool) -> Result:
    """Metrics, tables, curves, figures, artifacts and notes from the (possibly partial) training."""
    log, evals = trainer.log, trainer.eval_log
    K, classes = train.n_classes, train.classes
    y_true = test.y
    acc = accuracy(y_pred, y_true)
    counts = confusion_matrix(y_true, y_pred, K)                              # (K, K)
    wrong = torch.nonzero(y_pred != y_true).flatten()
    hist = {k: np.asarray(evals.history.get(k, []), dtype=float)
            for k in ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "val_loss", "val_accuracy")}
    x_epochs = (np.asarray(evals.steps, dtype=float) + 1) / per_epoch           # (evaluations,)
    n_evals = len(x_epochs)
    best_step = trainer.best["step"] if restored else log.steps_done

    def last_of(name: str) -> float | None:
        return float(hist[name][-1]) if n_evals else None

    result = Result()
    result.metrics = {
        "test_accuracy": acc,
        "test_loss": test_loss,
        "test_errors": len(wrong),
        "train_accuracy": last_of("train_accuracy"),
        "train_loss": last_of("train_loss"),
        "epochs": round(log.steps_done / per_epoch, 3),
        "steps": log.steps_done,
        "n_train": len(train),
        "n_val": len(val) if val is not None else 0,
        "n_test": len(test),
        "n_classes": K,
        "n_params": count_parameters(model),
        "model": config.model,
        "activation": config.activation,
        "augmentation": augmentation(config).describe(),
        "device": device.type,
        "best_step": best_step,
        "stopped_early": log.status == Status.COMPLETED and log.steps_done < trainer.steps,
    }
    if val is not None:
        result.metrics["val_loss"] = float(trainer.best["value"]) if restored else last_of("val_loss")
    carry_status(log, result)
    if not n_evals:
        result.notes.append("train_accuracy and train_loss are none: training stopped before the first "
                            "evaluation.")
    names = [k for k in hist if len(hist[k]) == n_evals and n_evals]
    labels = {"train_loss": "training loss", "test_loss": "test loss", "train_accuracy": "training accuracy",
              "test_accuracy": "test accuracy", "val_loss": "validation loss", "val_accuracy": "validation accuracy"}
    for name in names:
        result.curves[name] = Curve(x_epochs, hist[name], "epoch", labels[name])
    result.tables["epochs"] = table_from_columns({"epoch": np.round(x_epochs, 3),
                                                  "step": np.asarray(evals.steps, dtype=int) + 1,
                                                  **{k: hist[k] for k in names}})
    result.tables["confusion"] = Table(columns=["true \\ predicted", *classes],
                                       rows=[[classes[i], *counts[i].tolist()] for i in range(K)])
    support = counts.sum(axis=1)
    result.tables["per_class"] = table_from_columns({
        "class": list(classes), "test_images": support, "correct": np.diag(counts),
        "accuracy": np.where(support > 0, np.diag(counts) / np.maximum(support, 1), np.nan)})
    if want_figures():
        _figures(result, config, train, test, hist, x_epochs, counts, wrong, y_pred, acc)

    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    result.artifacts["state_dict"] = state
    if config.save_checkpoint:
        result.artifacts["checkpoint"] = Checkpoint(
            model=config.model, hparams=model.hparams, state_dict=state, classes=classes,
            channels=train.image_shape[0], image_size=train.image_shape[1:], mean=MEAN, std=STD,
            config=config.to_dict(), metrics={"test_accuracy": acc, "n_test": len(test)},
            pixel_mean=float(train.X.mean())).to_payload()

    result.notes += advice(config, result.metrics, log, trainer.steps, per_epoch,
                           interrupted=result.status == Status.INTERRUPTED)
    if restored:
        result.notes.append(f"Early stopping kept the model of update {best_step} (lowest validation loss "
                            f"{trainer.best['value']:.4g} on {len(val)} held-out training images); the test "
                            "metrics are those of that model.")
    if config.save_checkpoint:
        result.notes.append("The trained model is saved in the run folder's artifacts.pt; classify your own "
                            "images with: dlsm predict RUN_FOLDER IMAGE...")
    return result


def _figures(result: Result, config: Config, train: ImageDataset, test: ImageDataset, hist: dict[str, np.ndarray],
             x_epochs: np.ndarray, counts: np.ndarray, wrong: torch.Tensor, y_pred: torch.Tensor, acc: float) -> None:
    from dlsm.plotting.classify import (
        plot_confusion_matrix,
        plot_image_grid,
        plot_learning_curves,
        plot_misclassified,
    )

    classes = train.classes
    what = {"mlp": f"MLP ({config.activation})", "cnn": "CNN", "small_cnn": "small CNN"}[config.model]
    result.figures["curves"] = plot_learning_curves(
        x_epochs, hist["train_loss"], hist["test_loss"], hist["train_accuracy"], hist["test_accuracy"],
        title=f"{what}, {config.optimizer} lr {config.lr:g}",
        val_loss=hist["val_loss"] if len(hist["val_loss"]) else None,
        val_accuracy=hist["val_accuracy"] if len(hist["val_accuracy"]) else None)
    result.figures["confusion"] = plot_confusion_matrix(
        counts, classes, f"confusion matrix: accuracy {100 * acc:.1f} % of {len(test)} test images")
    shown = wrong[:32]
    result.figures["misclassified"] = plot_misclassified(
        test.X[shown].numpy(), test.y[shown].numpy(), y_pred[shown].numpy(), classes, len(wrong))
    sample = torch.arange(min(16, len(train)))
    result.figures["samples"] = plot_image_grid(
        train.X[sample].numpy(), [f"label {classes[int(c)]}" for c in train.y[sample]],
        f"training images ({train.name}, {len(train)} in all)")


# ----- advice from what ran -----------------------------------------------------------------------------
ENOUGH_UPDATES = 500  # below this, a network near chance has simply not trained long enough


def near_chance(acc: float | None, K: int) -> bool:
    """Within 15 % of the way from chance (1/K) to perfect: 23.5 % for 10 classes, 57.5 % for 2."""
    return acc is not None and acc < 1 / K + 0.15 * (1 - 1 / K)


def _full_used(config: Config) -> bool:
    full = Config.make("full", model=config.model, data=config.data)
    return all(getattr(config, k) == getattr(full, k)
               for k in ("optimizer", "lr", "schedule", "batch_size", "epochs", "steps", "shift"))


def advice(config: Config, m: dict[str, Any], log: FitLog, planned: int, per_epoch: int,
           interrupted: bool) -> list[str]:
    """What the numbers say, diagnosed from what ran: too few updates, over-fitting (train ≫ test), a
    diverged loss, or data at chance level. Suggests only settings that this run did not already use."""
    K, steps, acc, train_acc = m["n_classes"], m["steps"], m["test_accuracy"], m["train_accuracy"]
    notes = []
    if interrupted:
        notes.append(f"Interrupted after {steps} of {planned} updates ({m['epochs']:g} epochs); the metrics are "
                     "those of the model at that point.")
    if log.status == Status.DIVERGED:
        tries = [f"a smaller learning rate (e.g. lr={config.lr / 10:g})"]
        if config.optimizer != "adam":
            tries.append("optimizer=adam")
        if config.schedule == "constant":
            tries.append("schedule=onecycle (it warms up from a small lr)")
        return [*notes, f"Diverged after {steps} updates with lr {config.lr:g} ({config.optimizer}): a step "
                "larger than about 2/(largest curvature of the loss) makes gradient descent overshoot and grow. "
                "Try " + ", ".join(tries) + "."]
    if interrupted:
        return notes
    chance = f"chance (1/{K} = {100 / K:.0f} %)"
    if train_acc is not None and train_acc - acc >= 0.2:
        notes.append(_overfitting(config, m))
    elif near_chance(acc, K) and steps < ENOUGH_UPDATES:
        why = ""
        if config.model == "mlp" and config.activation == "sigmoid" and config.optimizer == "sgd":
            why = (" The sigmoid's slope is at most 1/4, so each sigmoid layer shrinks the gradient passed "
                   "back through it, and its outputs are all positive (about 0.5), which slows plain gradient "
                   f"descent: with lr {config.lr:g} this network needs far more updates (the course's 60,000 "
                   "MNIST images give 900 in 3 epochs).")
        tries = [f"more updates (e.g. steps={max(ENOUGH_UPDATES, 5 * steps)}, or epochs="
                 f"{math.ceil(max(ENOUGH_UPDATES, 5 * steps) / per_epoch)})"]
        if config.model == "mlp" and config.activation == "sigmoid":
            tries.append("activation=relu (exercise 3-2)")
        if config.optimizer != "adam":
            tries.append("optimizer=adam")
        if not config.data.startswith("folder:") and not _full_used(config):
            tries.append("the tuned --full settings")
        notes.append(f"Test accuracy {100 * acc:.1f} % is near {chance} after only {steps} updates "
                     f"({m['epochs']:g} epochs of {per_epoch} batches): too few updates.{why} Try "
                     + ", ".join(tries) + ".")
    elif near_chance(acc, K):
        train = "" if train_acc is None else f" (training accuracy {100 * train_acc:.1f} %)"
        notes.append(f"Test accuracy {100 * acc:.1f} % is near {chance} after {steps} updates, and the model "
                     f"does not fit even its training images{train}: the data look like chance level to it. "
                     "Check that each class holds its own kind of images (a label that does not depend on the "
                     f"image cannot be learned), and that {m['n_train']} training images at image size "
                     f"{config.image_size or 'default'} keep what tells the classes apart."
                     + ("" if config.lr <= 1e-4 else f" If they do, try a smaller lr (now {config.lr:g}).")
                     + ("" if config.model == "small_cnn" else " or model=small_cnn."))
    elif train_acc is not None and train_acc - acc >= 0.1 and acc < 0.9:
        notes.append(_overfitting(config, m))
    return notes


def _overfitting(config: Config, m: dict[str, Any]) -> str:
    tries = []
    if config.model == "cnn":
        tries.append("model=small_cnn (about 24 k parameters instead of the course CNN's "
                     f"{m['n_params']:,})")
    if config.data.startswith("folder:"):
        tries += [t for t, used in (("flip=true", config.flip), ("crop=4", config.crop),
                                    ("jitter=0.2", config.jitter)) if not used]
    else:
        tries += [t for t, used in (("shift=2", config.shift), ("rotate=10", config.rotate)) if not used]
    if config.dropout == 0:
        tries.append("dropout=0.3")
    if config.val_fraction == 0:
        tries.append("val_fraction=0.15 patience=10 (early stopping)")
    tries.append("more images per class")
    return (f"Over-fitting: training accuracy {100 * m['train_accuracy']:.1f} % but test accuracy "
            f"{100 * m['test_accuracy']:.1f} %: the model ({m['n_params']:,} parameters) has memorised its "
            f"{m['n_train']} training images rather than learned what tells the classes apart. Try "
            + ", ".join(tries) + ".")


LAB = Lab(
    name="classify",
    lecture=3,
    description="MNIST (or your own images) classified by the course MLP or CNN, or a small CNN for folders",
    config=Config,
    run=run,
    headline=("test_accuracy", "test_loss", "train_accuracy", "steps"),
)
