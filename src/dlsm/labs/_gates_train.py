"""Training of the logic-gate networks of lecture 2 (PyTorch): one seed, several seeds, and what they learned.

Used by the ``gates`` lab (and ``loss_function`` by ``backprop``'s autograd reference). One engine step is one
mini-batch update; each seed's initial parameters and mini-batches come from that seed alone, so a run of
seeds ``s..s+N-1`` trains each network exactly as a single run with that seed would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from dlsm.device import resolve_device
from dlsm.errors import ConfigError
from dlsm.models.mlp import MLP
from dlsm.problems.gates import sample_batch, truth_table
from dlsm.result import ProgressFn, Table
from dlsm.status import Status
from dlsm.training import FitLog, Trainer, make_optimizer, offset_progress

if TYPE_CHECKING:
    from dlsm.labs.gates import Config

GRID_POINTS = 101  # resolution of the decision-surface heat map over [0,1]²

#: The losses L(ŷ, y), averaged over the batch: MSE (the course's nn.MSELoss) or binary cross-entropy.
LOSS_FUNCTIONS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": F.mse_loss,
    "bce": F.binary_cross_entropy,
}


def loss_function(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss ``name`` (mse | bce); any other name is a ConfigError."""
    if name not in LOSS_FUNCTIONS:
        raise ConfigError.not_one_of("loss", name, LOSS_FUNCTIONS)
    return LOSS_FUNCTIONS[name]


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
    X_all, y_all = (a.to(device) for a in truth_table(config.gate))  # (4, 2), (4, 1)

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


def train_seeds(config: Config, progress: ProgressFn | None = None) -> list[GateRun]:
    """Train seeds ``config.seed``, ``config.seed + 1``, ... (``config.seeds`` of them); stop at Ctrl-C."""
    total = config.seeds * config.steps
    runs: list[GateRun] = []
    for i in range(config.seeds):
        seed = config.seed + i
        runs.append(train_gate(config, seed, offset_progress(progress, i * config.steps, total, {"seed": seed})))
        if runs[-1].log.status == Status.INTERRUPTED:
            break
    return runs


def finished(runs: Sequence[GateRun]) -> list[GateRun]:
    """The runs the success rate counts: all but an interrupted one (unless nothing else was trained)."""
    return [r for r in runs if r.log.status != Status.INTERRUPTED] or list(runs)


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
