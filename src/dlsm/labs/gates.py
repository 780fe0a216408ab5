"""Lab ``gates`` (lecture 2): a small network learns a logic gate from random mini-batches.

Course setting (exercise 2-1): AND(a, b) learned by a 2-2-1 network with a sigmoid after both layers,
squared-error loss (MSELoss), Adam with lr 0.1, mini-batches of 5 random inputs in {0,1}² (each bit
Bernoulli(0.5)), 1000 steps; then the outputs at the four inputs and the learned W1, b1, W2, b2.
Exercises 2-2 (iterations), 2-3 (learning rate), 2-4 (OR) and 2-5 (XOR) change one knob each.

The network is ŷ = σ(W2 φ(W1 x + b1) + b2) with W1 (hidden, 2), W2 (1, hidden). Its output is
always a sigmoid, so ŷ ∈ (0, 1); the gate is *learned* when all four outputs lie on the right side of
0.5 (ŷ > 0.5 where the gate is 1, ŷ < 0.5 where it is 0).

XOR is not linearly separable: the hidden units must draw two lines. With 2 hidden units, training
from some initialisations stalls in a poor local minimum; ``seeds=N`` trains N seeds (seed, seed+1,
..., seed+N-1), each exactly as a single run with that seed, and reports the success rate, which a
wider hidden layer raises (``hidden=8``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.labs import Lab
from dlsm.models.mlp import MLP
from dlsm.plotting.gates import (
    plot_decision_surface,
    plot_gate_losses,
    plot_loss_seeds,
    plot_surfaces_grid,
)
from dlsm.problems.gates import INPUTS, LINEARLY_SEPARABLE, GateName, sample_batch, truth_table
from dlsm.result import Curve, ProgressFn, Result, Table, table_from_columns
from dlsm.status import Status
from dlsm.training import FitLog, Trainer, count_parameters, make_optimizer, offset_progress, want_figures

GRID_POINTS = 101  # resolution of the decision-surface heat map over [0,1]²


@dataclass(frozen=True)
class Config(LabConfig):
    gate: GateName = param("and", "gate to learn (course: AND in 2-1, OR in 2-4, XOR in 2-5)")
    hidden: int = param(2, "hidden width (course: the 2-2-1 network)", ge=1)
    activation: Literal["sigmoid", "tanh", "relu"] = param(
        "sigmoid", "hidden activation (course: sigmoid; the output is always a sigmoid)")
    loss: Literal["mse", "bce"] = param("mse", "loss: mean squared error (course: MSELoss) or binary cross-entropy")
    optimizer: Literal["sgd", "momentum", "adam"] = param("adam", "optimizer (course: Adam)")
    lr: float = param(0.1, "learning rate (course: 0.1)", gt=0)
    momentum: float = param(0.9, "momentum coefficient, used only by optimizer=momentum", ge=0, lt=1)
    batch_size: int = param(5, "random inputs per mini-batch, bits i.i.d. Bernoulli(0.5) (course: 5)", ge=1)
    steps: int = param(1000, "optimisation steps (course: 1000; exercise 2-2 varies it)", ge=1)
    seeds: int = param(1, "train seeds seed..seed+seeds-1 and report the success rate (XOR: try 20)", ge=1)
    device: DeviceName = device_param()

    quick = {"steps": 500}


@dataclass
class GateRun:
    """One trained network: its seed, the training log and the outputs at the four inputs."""

    seed: int
    net: MLP
    log: FitLog
    outputs: np.ndarray  # (4,) ŷ at INPUTS
    targets: np.ndarray  # (4,) gate values at INPUTS
    table_loss: float  # the configured loss over the four inputs after training

    @property
    def learned(self) -> bool:
        """All four outputs on the right side of 0.5."""
        return bool(np.all(np.where(self.targets > 0.5, self.outputs > 0.5, self.outputs < 0.5)))


def loss_function(name: str):
    """The loss L(ŷ, y), averaged over the batch: MSE (the course's nn.MSELoss) or binary cross-entropy."""
    return F.mse_loss if name == "mse" else F.binary_cross_entropy


def train_gate(config: Config, seed: int, progress: ProgressFn | None = None) -> GateRun:
    """Train one network with ``seed`` (its initial parameters and its mini-batches come from it).

    One engine step = one mini-batch update; ``table_loss`` (the loss on the four inputs) is evaluated after
    every update.
    """
    device = resolve_device(config.device)
    generator = torch.Generator().manual_seed(seed)
    net = MLP((2, config.hidden, 1), config.activation, output_activation="sigmoid", generator=generator).to(device)
    optimizer = make_optimizer(config.optimizer, net.parameters(), config.lr, momentum=config.momentum)
    loss_fn = loss_function(config.loss)
    X_all, y_all = (t.to(device) for t in truth_table(config.gate))  # (4, 2), (4, 1)

    def batch(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        X, y = sample_batch(config.gate, config.batch_size, generator)  # (batch, 2), (batch, 1)
        return X.to(device), y.to(device)

    trainer = Trainer(net, lambda m, b: loss_fn(m(b[0]), b[1]), batch, optimizer, config.steps, name=f"seed{seed}",
                      evaluate=lambda m: {"table_loss": loss_fn(m(X_all), y_all)}, eval_every=1,
                      generators={"data": generator}, progress=progress)
    log = trainer.run()
    with torch.no_grad():
        outputs = net(X_all).cpu()  # (4, 1)
        table_loss = float(loss_fn(outputs, y_all.cpu()))
    return GateRun(seed, net.cpu(), log, outputs[:, 0].numpy().astype(float),
                   y_all[:, 0].cpu().numpy().astype(float), table_loss)


def decision_surface(net: MLP, n: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """ŷ on an n x n grid over [0,1]²: returns grid (n,) and Z (n, n) with Z[i, j] = ŷ(grid[j], grid[i])."""
    grid = np.linspace(0.0, 1.0, n)
    a, b = np.meshgrid(grid, grid)  # (n, n) each
    X = torch.tensor(np.column_stack([a.ravel(), b.ravel()]), dtype=torch.float32)  # (n*n, 2)
    with torch.no_grad():
        Z = net(X)[:, 0].numpy().reshape(n, n)  # (n, n)
    return grid, Z.astype(float)


def parameters_table(net: MLP) -> Table:
    """W1, b1, W2, b2 entry by entry: name, index, value."""
    rows = []
    for l, layer in enumerate(net.linears, start=1):
        for name, p in ((f"W{l}", layer.weight), (f"b{l}", layer.bias)):
            values = p.detach().numpy()
            for index in np.ndindex(values.shape):
                rows.append([name, "[" + ",".join(str(i) for i in index) + "]", float(values[index])])
    return Table(columns=["parameter", "index", "value"], rows=rows)


def train_seeds(config: Config, progress: ProgressFn | None = None) -> list[GateRun]:
    """Train seeds ``config.seed``, ``config.seed + 1``, ... (``config.seeds`` of them); stop at Ctrl-C."""
    total = config.seeds * config.steps
    runs: list[GateRun] = []
    for i in range(config.seeds):
        seed = config.seed + i
        runs.append(train_gate(config, seed, offset_progress(progress, i * config.steps, total, {"seed": seed})))
        if runs[-1].log.status == "interrupted":
            break
    return runs


def finished(runs: Sequence[GateRun]) -> list[GateRun]:
    """The runs the success rate counts: all but an interrupted one (unless nothing else was trained)."""
    return [r for r in runs if r.log.status != "interrupted"] or list(runs)


def run(config: Config, progress: ProgressFn | None = None) -> Result:
    runs = train_seeds(config, progress)
    first = runs[0]
    trained = finished(runs)
    n_success = sum(r.learned for r in trained)
    gate = config.gate.upper()
    result = Result()
    result.metrics = {
        "success_rate": n_success / len(trained),
        "n_success": n_success,
        "n_seeds": len(trained),
        "table_loss": first.table_loss,
        "max_abs_error": float(np.max(np.abs(first.outputs - first.targets))),
        "final_batch_loss": first.log.losses[-1] if first.log.losses else float("nan"),
        "learned": first.learned,
        "steps": first.log.steps_done,
        "n_params": count_parameters(first.net),
        "diverged": any(r.log.status == Status.DIVERGED for r in runs),
    }
    if len(trained) > 1:
        result.metrics["median_table_loss"] = float(np.median([r.table_loss for r in trained]))

    a, b = np.array(INPUTS).T
    result.tables["truth_table"] = table_from_columns({
        "a": a, "b": b, "target": first.targets.astype(int), "output": first.outputs,
        "correct": np.where(first.targets > 0.5, first.outputs > 0.5, first.outputs < 0.5),
    })
    result.tables["parameters"] = parameters_table(first.net)

    steps = np.array(first.log.steps)
    result.curves["loss"] = Curve(steps, first.log.losses, "step", f"{config.loss} (mini-batch)", log_y=True)
    result.curves["table_loss"] = Curve(steps, first.log.history.get("table_loss", []), "step",
                                        f"{config.loss} on the 4 inputs", log_y=True)
    label = f"{gate}, 2-{config.hidden}-1 {config.activation}, {config.optimizer} lr={config.lr:g}"
    if want_figures():
        result.figures["loss"] = plot_gate_losses(steps, np.array(first.log.losses),
                                                  np.array(first.log.history.get("table_loss", [])),
                                                  ylabel=config.loss, title=f"{label}, seed {first.seed}")
        grid, Z = decision_surface(first.net)
        W1, b1 = (p.detach().numpy() for p in (first.net.linears[0].weight, first.net.linears[0].bias))
        result.figures["decision_surface"] = plot_decision_surface(
            grid, Z, first.targets, first.outputs, W1, b1, title=f"{label}, seed {first.seed}")

    if len(runs) > 1:
        result.tables["seeds"] = table_from_columns({
            "seed": [r.seed for r in runs],
            "status": [r.log.status.value for r in runs],
            **{f"output_{x}{y}": [float(r.outputs[j]) for r in runs] for j, (x, y) in enumerate(INPUTS)},
            "table_loss": [r.table_loss for r in runs],
            "learned": [r.learned for r in runs],
        })
        labels = [f"seed {r.seed}" for r in runs]
    if len(runs) > 1 and want_figures():
        result.figures["loss_seeds"] = plot_loss_seeds(
            [np.array(r.log.steps) for r in runs], [np.array(r.log.history["table_loss"]) for r in runs],
            labels, [r.learned for r in runs], ylabel=f"{config.loss} on the 4 inputs",
            title=f"{label}: {n_success}/{len(trained)} seeds learned")
        result.figures["surfaces_seeds"] = plot_surfaces_grid(
            grid, [decision_surface(r.net)[1] for r in runs], labels, [r.learned for r in runs],
            first.targets, title=f"{label}: output over [0,1]² per seed")

    layer1, layer2 = first.net.linears
    result.artifacts = {
        "state_dict": first.net.state_dict(),
        "W1": layer1.weight.detach().clone(), "b1": layer1.bias.detach().clone(),
        "W2": layer2.weight.detach().clone(), "b2": layer2.bias.detach().clone(),
    }
    if len(runs) > 1:
        result.artifacts["state_dicts"] = {r.seed: r.net.state_dict() for r in runs}

    result.notes += _notes(config, runs, trained, n_success)
    if any(r.log.status == Status.INTERRUPTED for r in runs):
        result.status = Status.INTERRUPTED
    return result


def _notes(config: Config, runs: Sequence[GateRun], trained: Sequence[GateRun], n_success: int) -> list[str]:
    notes = []
    if len(trained) > 1:
        notes.append(f"{n_success} of {len(trained)} seeds learned {config.gate.upper()} (all four outputs on "
                     "the right side of 0.5); the tables and figures of one network are those of seed "
                     f"{runs[0].seed}.")
    interrupted = [r for r in runs if r.log.status == "interrupted"]
    if interrupted:
        notes.append(f"{interrupted[0].log.message} (seed {interrupted[0].seed}); "
                     + ("the success rate counts the seeds trained before it."
                        if len(trained) < len(runs) else "the results are those of the partly trained network."))
    diverged = [r for r in runs if r.log.status == "diverged"]
    if diverged:
        notes.append(f"seeds {', '.join(str(r.seed) for r in diverged)}: {diverged[0].log.message}; "
                     "they count as failures.")
    if config.gate not in LINEARLY_SEPARABLE and n_success < len(trained):
        notes.append(
            f"{config.gate.upper()} is not linearly separable: no single line splits its 0s from its 1s, so "
            "the hidden units must each draw a line and the output combine them. With few hidden units "
            "many initialisations end in a poor local minimum; with the squared error, typically the network "
            "computes OR (the three inputs other than (0,0) share an output near 2/3, loss 1/6) or gets one "
            "of the two 1-inputs right and leaves the other and (1,1) near 1/2 (loss 1/8) - see the seeds "
            "table. More hidden units (hidden=8) make a good start far more likely.")
    elif n_success < len(trained) and config.gate in LINEARLY_SEPARABLE:
        notes.append(f"{config.gate.upper()} is linearly separable, so a network that did not learn it "
                     "needs more steps or another learning rate (exercises 2-2 and 2-3).")
    return notes


def success_by_width(config: Config, widths: Sequence[int], progress: ProgressFn | None = None) -> Table:
    """Success rate over ``config.seeds`` seeds for each hidden width (other settings from ``config``)."""
    rows = []
    for w in widths:
        trained = finished(train_seeds(config.replace(hidden=int(w)), progress))
        n_success = sum(r.learned for r in trained)
        rows.append([int(w), n_success, len(trained), n_success / len(trained),
                     float(np.median([r.table_loss for r in trained]))])
    return Table(columns=["hidden", "n_success", "n_seeds", "success_rate", "median_table_loss"], rows=rows)


LAB = Lab(
    name="gates",
    lecture=2,
    description="a 2-h-1 network learns a logic gate (AND, OR, XOR, ...) from mini-batches; success rate over seeds",
    config=Config,
    run=run,
    headline=("success_rate", "table_loss", "max_abs_error"),
)
