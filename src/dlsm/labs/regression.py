"""Lecture 4: nonlinear regression of a noisy 1-D function with an MLP; under- and over-fitting.

Data y = f(x) + ε, ε ~ N(0, σ²), x ~ U[-1, 1] (default f(x) = sin(2πx)), split at random into a small
training set and a larger test set. An MLP 1 - width - ... - width - 1 (``depth`` hidden layers) is fit to
the training set by minimising the mean squared error with Adam, one full-batch step per epoch by
default (an engine step is one update; with ``batch_size`` an epoch has ⌈n_train / batch_size⌉ of
them). No model can bring the expected test MSE below σ² (the noise cannot be predicted), so:

- training and test loss both far above σ²: underfitting (too small a network, or too few epochs);
- training loss well below σ² while the test loss rises: overfitting (the network fits the noise of
  the few training points: a large network trained for long).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm import outcome, seeds
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.models.mlp import MLP
from dlsm.outcome import Notes, metric
from dlsm.plotting.regression import plot_fit_1d, plot_train_test
from dlsm.problems.regression import TARGETS, noisy_regression_data
from dlsm.result import Curve, ProgressFn
from dlsm.status import Status
from dlsm.training import EpochBatches, FitLog, Trainer, count_parameters, make_optimizer


@dataclass(frozen=True)
class Config(LabConfig):
    """An MLP fit to noisy samples of f on [-1, 1]; width, depth and epochs move it from under- to over-fitting."""

    function: Literal["sin", "abs", "cubic"] = param("sin", "target f: sin(2πx), |x| or 4x³ - 3x on [-1, 1]")
    n_train: int = param(40, "training points: few, so that a large network can fit their noise", ge=2,
                         le=100_000)
    n_test: int = param(200, "test points, to estimate the error on unseen inputs", ge=1, le=100_000)
    noise_std: float = param(0.2, "standard deviation σ of the noise added to f(x)", ge=0)
    width: int = param(32, "units per hidden layer", ge=1, le=4096)
    depth: int = param(2, "hidden layers (0: a straight line ŷ = w x + b)", ge=0, le=16)
    activation: Literal["tanh", "relu", "sigmoid"] = param("tanh", "hidden activation")
    epochs: int = param(1000, "passes over the training set", ge=1, le=1_000_000)
    lr: float = param(0.01, "Adam step size (lecture 2 uses Adam)", gt=0)
    batch_size: int | None = param(None, "mini-batch size; none: the whole training set (one step per epoch)",
                                   ge=1)
    weight_decay: float = param(0.0, "L2 penalty coefficient of Adam (0: none)", ge=0)
    device: DeviceName = device_param()

    quick = {"epochs": 200, "n_test": 100}
    full = {"n_test": 1000}


def mse_loss(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1/n Σ_i (net(x_i) - y_i)²."""
    return ((net(x) - y) ** 2).mean()


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """Training and test loss of the MLP against the noise that no model can predict."""

    train_loss: float = metric("loss", headline=True)
    test_loss: float = metric("loss", headline=True)
    best_test_loss: float = metric("loss", headline=True)
    best_epoch: int = metric("epochs", headline=True)
    noise_var: float = metric()
    test_floor: float = metric("loss", headline=True)
    fit_error: float = metric()
    n_params: int = metric("parameters")
    epochs: int = metric("epochs")
    steps: int = metric("steps")
    diverged: bool = metric()


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    device = resolve_device(config.device)
    generator = seeds.generator(config.seed, "main")
    fn = TARGETS[config.function]
    data = noisy_regression_data(config.function, config.n_train, config.n_test, config.noise_std, generator)
    x_tr, y_tr = data.x_train.float().to(device), data.y_train.float().to(device)  # (n_train, 1) each
    x_te, y_te = data.x_test.float().to(device), data.y_test.float().to(device)  # (n_test, 1) each

    widths = (1, *([config.width] * config.depth), 1)
    net = MLP(widths, config.activation, output_activation=None, generator=generator).to(device)
    optimizer = make_optimizer("adam", net.parameters(), config.lr, weight_decay=config.weight_decay)
    batch = config.batch_size or config.n_train
    batches = EpochBatches(config.n_train, batch, generator, shuffle=batch < config.n_train, device=device)
    log_every = max(1, config.epochs // 1000)  # epochs between evaluations (at most about 1000 points)
    trainer = Trainer(net, lambda m, idx: mse_loss(m, x_tr[idx], y_tr[idx]), batches, optimizer,
                      config.epochs * batches.per_epoch,
                      evaluate=lambda m: {"train_loss": mse_loss(m, x_tr, y_tr), "test_loss": mse_loss(m, x_te, y_te)},
                      eval_every=log_every * batches.per_epoch, log_every=batches.per_epoch,
                      generators={"data": generator}, progress=progress)
    log = trainer.run()
    epochs_done = log.steps_done // batches.per_epoch

    evals = trainer.eval_log
    epochs = np.asarray(evals.steps, dtype=float) // batches.per_epoch + 1  # losses after epoch k
    train = np.asarray(evals.history.get("train_loss", []))
    test = np.asarray(evals.history.get("test_loss", []))
    with torch.no_grad():
        floor = float(((fn.f(x_te) - y_te) ** 2).mean())  # test MSE of the true f: the noise alone
        grid = torch.linspace(-1, 1, 400, device=device).unsqueeze(1)  # (400, 1)
        y_grid = net(grid)  # (400, 1)
        train_final = float(mse_loss(net, x_tr, y_tr))
        test_final = float(mse_loss(net, x_te, y_te))
        fit_error = float(((y_grid - fn.f(grid)) ** 2).mean())  # distance of the fit from f on [-1, 1]
        shown = {name: values[:, 0].cpu().numpy() for name, values in
                 {"grid": grid, "f_grid": fn.f(grid), "y_grid": y_grid, "x_train": x_tr, "y_train": y_tr,
                  "x_test": x_te, "y_test": y_te}.items()}

    finite = np.isfinite(test)
    best = int(np.argmin(np.where(finite, test, np.inf))) if finite.any() else 0
    diverged = log.status == Status.DIVERGED
    artifacts = {"model": {k: v.cpu() for k, v in net.state_dict().items()},
                 **{k: v.cpu() for k, v in {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te}.items()}}
    return Outcome(
        train_loss=train_final,
        test_loss=test_final,
        best_test_loss=float(test[best]) if len(test) else math.nan,
        best_epoch=int(epochs[best]) if len(epochs) else 0,
        noise_var=config.noise_std**2,
        test_floor=floor,
        fit_error=fit_error,
        n_params=count_parameters(net),
        epochs=epochs_done,
        steps=log.steps_done,
        diverged=diverged,
        status=log.status,
        curves={"loss": Curve(epochs, train, t("common.label.epoch"), t("regression.label.training_mse"), log_y=True),
                "test_loss": Curve(epochs, test, t("common.label.epoch"), t("regression.label.test_mse"), log_y=True)},
        artifacts=artifacts,
        data={**shown, "widths": widths, "per_epoch": batches.per_epoch, "divergence": _divergence(log)},
    )


def _divergence(log: FitLog) -> dict[str, float] | None:
    """Where the loss blew up (the step, its loss and the first loss), or None when it did not."""
    if log.status != Status.DIVERGED or not log.losses:
        return None
    return {"step": log.steps[-1] + 1, "loss": log.losses[-1], "first": log.losses[0]}


def notes(config: Config, out: Outcome) -> Notes:
    """The losses against the noise variance σ² (measured) and what they say about under- and over-fitting."""
    found = Notes()
    if out.status == Status.INTERRUPTED:
        found.measured.append(t("regression.note.interrupted", epochs=out.epochs, total=config.epochs))
    if out.diverged:
        where = out.data["divergence"] or {"step": out.steps, "loss": math.nan, "first": math.nan}
        found.measured.append(t("regression.note.diverged", loss=where["loss"], step=where["step"],
                                first=where["first"]))
        found.explanations.append(t("regression.note.diverged_why"))
        return found
    reading_notes(found, out)
    return found


def reading_notes(found: Notes, out: Outcome) -> None:
    """How to read the numbers: the losses against the noise variance σ², the floor of the test MSE."""
    s2 = out.noise_var
    found.measured.append(t("regression.note.losses", train=out.train_loss, test=out.test_loss, s2=s2,
                            floor=out.test_floor, best=out.best_test_loss, best_epoch=out.best_epoch))
    found.explanations.append(t("regression.note.floor_why"))
    if s2 == 0:
        return
    if out.train_loss > 2 * s2:
        found.measured.append(t("regression.note.train_high", train=out.train_loss, s2=s2))
        found.explanations.append(t("regression.note.underfitting"))
    elif out.train_loss < 0.5 * s2:
        found.measured.append(t("regression.note.train_low", train=out.train_loss, half=0.5 * s2,
                                ratio=out.test_loss / out.train_loss))
        found.explanations.append(t("regression.note.overfitting"))
    else:
        found.measured.append(t("regression.note.train_near", train=out.train_loss, s2=s2))
        found.explanations.append(t("regression.note.good_fit"))
    if out.test_loss > 1.2 * out.best_test_loss:
        found.measured.append(t("regression.note.test_rose", percent=100 * (out.test_loss / out.best_test_loss - 1),
                                best_epoch=out.best_epoch))
        found.explanations.append(t("regression.note.early_stopping"))


def figures(config: Config, out: Outcome) -> dict:
    """The fitted curve with the data, and the training and test loss per epoch."""
    d = out.data
    shape = "-".join(str(w) for w in d["widths"])
    fn = TARGETS[config.function]
    drawn = {"fit": plot_fit_1d(d["grid"], d["f_grid"], d["y_grid"], d["x_train"], d["y_train"], d["x_test"],
                                d["y_test"], t("regression.title.fit", shape=shape, activation=config.activation,
                                                   epochs=out.epochs),
                                true_label=f"f(x) = {fn.formula}")}
    train, test = out.curves["loss"], out.curves["test_loss"]
    if len(train.y):
        drawn["loss"] = plot_train_test(train.x, train.y, test.y, out.noise_var,
                                        t("regression.title.loss", shape=shape))
    return drawn


LAB = Lab(
    name="regression",
    lecture=4,
    description="nonlinear regression of a noisy 1-D function with an MLP: train/test loss, under/over-fitting",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
