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

from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.labs import Lab
from dlsm.models.mlp import MLP
from dlsm.plotting.regression import plot_fit_1d, plot_train_test
from dlsm.problems.regression import TARGETS, noisy_regression_data
from dlsm.result import Curve, ProgressFn, Result
from dlsm.status import Status
from dlsm.training import EpochBatches, Trainer, carry_status, count_parameters, make_optimizer, want_figures


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


def run(config: Config, progress: ProgressFn | None = None) -> Result:
    device = resolve_device(config.device)
    generator = torch.Generator().manual_seed(config.seed)
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

    result = Result()
    finite = np.isfinite(test)
    best = int(np.argmin(np.where(finite, test, np.inf))) if finite.any() else 0
    diverged = log.status == Status.DIVERGED
    result.metrics = {
        "train_loss": train_final,
        "test_loss": test_final,
        "best_test_loss": float(test[best]) if len(test) else math.nan,
        "best_epoch": int(epochs[best]) if len(epochs) else 0,
        "noise_var": config.noise_std**2,
        "test_floor": floor,
        "fit_error": fit_error,
        "n_params": count_parameters(net),
        "epochs": epochs_done,
        "steps": log.steps_done,
        "diverged": diverged,
    }
    result.curves["loss"] = Curve(epochs, train, "epoch", "training MSE", log_y=True)
    result.curves["test_loss"] = Curve(epochs, test, "epoch", "test MSE", log_y=True)
    shape = "-".join(str(w) for w in widths)
    if want_figures():
        cpu = [t[:, 0].cpu().numpy() for t in (grid, fn.f(grid), y_grid, x_tr, y_tr, x_te, y_te)]
        result.figures["fit"] = plot_fit_1d(*cpu, f"MLP {shape} ({config.activation}), {epochs_done} epochs",
                                            true_label=f"f(x) = {fn.formula}")
        if len(train):
            result.figures["loss"] = plot_train_test(epochs, train, test, config.noise_std**2,
                                                     f"MLP {shape}: training and test loss")
    result.artifacts["model"] = {k: v.cpu() for k, v in net.state_dict().items()}
    result.artifacts.update({k: v.cpu() for k, v in
                             {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te}.items()})
    result.notes += reading_notes(result.metrics, config, log.message if diverged else "")
    if log.status == Status.INTERRUPTED:
        result.notes.insert(0, log.message)
    return carry_status(log, result)


def reading_notes(m: dict, config: Config, diverged_message: str) -> list[str]:
    """How to read the numbers: the losses against the noise variance σ², the floor of the test MSE."""
    if diverged_message:
        return [f"Diverged: {diverged_message}. Lower lr."]
    s2 = m["noise_var"]
    notes = [f"Training loss {m['train_loss']:.4g}, test loss {m['test_loss']:.4g}; noise variance σ² = {s2:.4g} "
             f"(the true f scores {m['test_floor']:.4g} on this test set, the floor of any model). "
             f"Lowest test loss {m['best_test_loss']:.4g} at epoch {m['best_epoch']}."]
    if s2 == 0:
        return notes
    if m["train_loss"] > 2 * s2:
        notes.append("The training loss is far above σ²: the model does not even fit the training data "
                     "(underfitting). More width, depth or epochs help.")
    elif m["train_loss"] < 0.5 * s2:
        notes.append(f"The training loss is below σ²/2: a model that knew f exactly would score about σ² on the "
                     f"training points, so this network has fit part of their noise (overfitting); its test loss "
                     f"is {m['test_loss'] / m['train_loss']:.3g} times its training loss. Fewer epochs, a smaller "
                     "network, more training points or weight_decay help.")
    else:
        notes.append("The training loss is within a factor 2 of σ²: the network follows f without fitting much "
                     "of the noise.")
    if m["test_loss"] > 1.2 * m["best_test_loss"]:
        notes.append(f"The test loss rose {100 * (m['test_loss'] / m['best_test_loss'] - 1):.3g} % above its "
                     f"lowest value (epoch {m['best_epoch']}): stopping there (early stopping) would have been better.")
    return notes


LAB = Lab(
    name="regression",
    lecture=4,
    description="nonlinear regression of a noisy 1-D function with an MLP: train/test loss, under/over-fitting",
    config=Config,
    run=run,
    headline=("train_loss", "test_loss", "best_test_loss", "best_epoch", "test_floor"),
)
