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

from dlsm import outcome
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.labs._gates_train import (
    GRID_POINTS,
    GateRun,
    decision_surface,
    finished,
    loss_function,
    parameters_table,
    train_gate,
    train_seeds,
)
from dlsm.outcome import Notes, metric
from dlsm.plotting.gates import (
    plot_decision_surface,
    plot_gate_losses,
    plot_loss_seeds,
    plot_surfaces_grid,
)
from dlsm.problems.gates import INPUTS, LINEARLY_SEPARABLE, GateName
from dlsm.result import Curve, ProgressFn, Table, table_from_columns
from dlsm.status import Status
from dlsm.training import count_parameters

__all__ = ["GRID_POINTS", "LAB", "Config", "GateRun", "Outcome", "compute", "decision_surface", "figures",
           "finished", "loss_function", "notes", "parameters_table", "run", "success_by_width", "train_gate",
           "train_seeds"]


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


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """How many seeds learned the gate, and how well the first seed's network learned it."""

    success_rate: float = metric("fraction", headline=True)
    n_success: int = metric("runs")
    n_seeds: int = metric("runs")
    table_loss: float = metric("loss", headline=True)
    max_abs_error: float = metric(headline=True)
    final_batch_loss: float = metric("loss")
    learned: bool = metric()
    steps: int = metric("steps")
    n_params: int = metric("parameters")
    diverged: bool = metric()
    median_table_loss: float | None = metric("loss", default=None, skip_none=True)


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    runs = train_seeds(config, progress)
    first = runs[0]
    trained = finished(runs)
    n_success = sum(r.learned for r in trained)

    a, b = np.array(INPUTS).T
    tables = {
        "truth_table": table_from_columns({
            "a": a, "b": b, "target": first.targets.astype(int), "output": first.outputs,
            "correct": np.where(first.targets > 0.5, first.outputs > 0.5, first.outputs < 0.5),
        }),
        "parameters": parameters_table(first.net),
    }
    if len(runs) > 1:
        tables["seeds"] = table_from_columns({
            "seed": [r.seed for r in runs],
            "status": [r.log.status.value for r in runs],
            **{f"output_{x}{y}": [float(r.outputs[j]) for r in runs] for j, (x, y) in enumerate(INPUTS)},
            "table_loss": [r.table_loss for r in runs],
            "learned": [r.learned for r in runs],
        })

    steps = np.array(first.log.steps)
    curves = {
        "loss": Curve(steps, first.log.losses, t("common.label.step"), t("gates.label.batch_loss", loss=config.loss),
                      log_y=True),
        "table_loss": Curve(steps, first.log.history.get("table_loss", []), t("common.label.step"),
                            t("gates.label.table_loss", loss=config.loss), log_y=True),
    }

    layer1, layer2 = first.net.linears
    artifacts = {
        "state_dict": first.net.state_dict(),
        "W1": layer1.weight.detach().clone(), "b1": layer1.bias.detach().clone(),
        "W2": layer2.weight.detach().clone(), "b2": layer2.bias.detach().clone(),
    }
    if len(runs) > 1:
        artifacts["state_dicts"] = {r.seed: r.net.state_dict() for r in runs}

    return Outcome(
        success_rate=n_success / len(trained),
        n_success=n_success,
        n_seeds=len(trained),
        table_loss=first.table_loss,
        max_abs_error=float(np.max(np.abs(first.outputs - first.targets))),
        final_batch_loss=first.log.losses[-1] if first.log.losses else float("nan"),
        learned=first.learned,
        steps=first.log.steps_done,
        n_params=count_parameters(first.net),
        diverged=any(r.log.status == Status.DIVERGED for r in runs),
        median_table_loss=float(np.median([r.table_loss for r in trained])) if len(trained) > 1 else None,
        status=Status.INTERRUPTED if any(r.log.status == Status.INTERRUPTED for r in runs) else Status.COMPLETED,
        tables=tables,
        curves=curves,
        artifacts=artifacts,
        data={"runs": runs},
    )


def notes(config: Config, out: Outcome) -> Notes:
    """What the seeds learned (measured) and, apart, what linear separability says about it."""
    runs: Sequence[GateRun] = out.data["runs"]
    first = runs[0]
    gate = config.gate.upper()
    found = Notes()
    if len(runs) > 1:
        found.measured.append(t("gates.note.seeds", n=out.n_success, total=out.n_seeds, gate=gate, seed=first.seed))
    if first.log.status != Status.DIVERGED:
        fields = {"gate": gate, "seed": first.seed, "steps": out.steps, "loss": out.table_loss,
                  "error": out.max_abs_error}
        found.measured.append(t("gates.note.learned", **fields) if out.learned
                              else t("gates.note.not_learned", **fields))
    interrupted = [r for r in runs if r.log.status == Status.INTERRUPTED]
    if interrupted:
        partial = out.n_seeds < len(runs)
        fields = {"message": interrupted[0].log.text(), "seed": interrupted[0].seed}
        found.measured.append(t("gates.note.interrupted_seeds", **fields) if partial
                              else t("gates.note.interrupted", **fields))
    diverged = [r for r in runs if r.log.status == Status.DIVERGED]
    if diverged:
        found.measured.append(t("gates.note.diverged", seeds=", ".join(str(r.seed) for r in diverged),
                                message=diverged[0].log.text()))
        found.explanations.append(t("gates.note.diverged_why"))
    failed = out.n_success < out.n_seeds
    if config.gate not in LINEARLY_SEPARABLE:
        found.explanations.append(t("gates.note.not_separable", gate=gate))
        if config.hidden == 1:
            found.explanations.append(t("gates.note.one_hidden_unit", gate=gate))
        elif failed:
            found.explanations.append(t("gates.note.local_minima", gate=gate))
    elif failed:
        found.explanations.append(t("gates.note.separable_not_learned", gate=gate))
    else:
        found.explanations.append(t("gates.note.separable", gate=gate))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """The first seed's loss curves and decision surface; with several seeds, every seed's loss and surface."""
    runs: Sequence[GateRun] = out.data["runs"]
    first = runs[0]
    label = t("gates.title.run", gate=config.gate.upper(), hidden=config.hidden, activation=config.activation,
              optimizer=config.optimizer, lr=config.lr)
    one = t("gates.title.one_seed", run=label, seed=first.seed)
    batch, table = out.curves["loss"], out.curves["table_loss"]
    drawn = {"loss": plot_gate_losses(np.asarray(batch.x), np.asarray(batch.y), np.asarray(table.y),
                                      ylabel=config.loss, title=one)}
    grid, Z = decision_surface(first.net)
    W1, b1 = (p.detach().numpy() for p in (first.net.linears[0].weight, first.net.linears[0].bias))
    drawn["decision_surface"] = plot_decision_surface(grid, Z, first.targets, first.outputs, W1, b1, title=one)
    if len(runs) > 1:
        labels = [t("gates.label.seed", seed=r.seed) for r in runs]
        success = [r.learned for r in runs]
        drawn["loss_seeds"] = plot_loss_seeds(
            [np.array(r.log.steps) for r in runs], [np.array(r.log.history["table_loss"]) for r in runs],
            labels, success, ylabel=t("gates.label.table_loss", loss=config.loss),
            title=t("gates.title.seeds_learned", run=label, n=out.n_success, total=out.n_seeds))
        drawn["surfaces_seeds"] = plot_surfaces_grid(
            grid, [decision_surface(r.net)[1] for r in runs], labels, success, first.targets,
            title=t("gates.title.surfaces_seeds", run=label))
    return drawn


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
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
