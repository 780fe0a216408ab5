"""Incremental (layer-wise) training of an unfolded network, as in deep unfolding (Ito, Takabe, Wadayama 2019).

An unrolled iteration has T layers. Generation g = 1..T trains the network truncated to its first g layers:
the loss is computed on the output of layer g, and the parameters trained are those of layers 1..g (or
only layer g, ``train="last"``). Each generation runs its own optimizer for its own number of steps at its
own learning rate; its loss curve is recorded, and the run is checkpointed when each generation ends (and
inside one, as every :class:`~dlsm.training.Trainer` is), so a resumed run skips finished generations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from dlsm.result import ProgressFn
from dlsm.status import Status
from dlsm.training.engine import LossFn, Trainer, offset_progress
from dlsm.training.loop import FitLog
from dlsm.training.optim import make_optimizer, make_schedule


@dataclass(frozen=True)
class Generation:
    """One generation: train ``params`` for ``steps`` updates at learning rate ``lr``, with the learning-rate
    ``schedule`` of :func:`make_schedule` and the data ``batches`` (None: those given to
    :func:`train_incremental`)."""

    params: Sequence[nn.Parameter]
    steps: int
    lr: float
    schedule: str | None = None
    batches: Callable[[int], Any] | None = None


@dataclass
class IncrementalLog:
    """Per-generation logs; ``final_losses[g-1]`` is the last logged loss of generation g."""

    logs: list[FitLog] = field(default_factory=list)

    @property
    def status(self) -> Status:
        for log in self.logs:
            if log.status != Status.COMPLETED:
                return log.status
        return Status.COMPLETED

    @property
    def final_losses(self) -> list[float]:
        return [log.losses[-1] if log.losses else float("nan") for log in self.logs]

    @property
    def steps_done(self) -> int:
        return sum(log.steps_done for log in self.logs)

    @property
    def skipped(self) -> int:
        return sum(log.skipped for log in self.logs)

    def as_fit_log(self) -> FitLog:
        """All generations in one log (steps counted across generations)."""
        out = FitLog(status=self.status, skipped=self.skipped, steps_done=self.steps_done)
        offset = 0
        for log in self.logs:
            for i, k in enumerate(log.steps):
                out.record(offset + k, {key: v[i] for key, v in log.history.items() if i < len(v)})
            if log.status != Status.COMPLETED and not out.message:
                out.message, out.event = log.message, dict(log.event)
            offset += log.steps_done
        return out


def train_incremental(model: nn.Module, loss_for: Callable[[int], LossFn], batches: Callable[[int], Any],
                      generations: Sequence[Generation], *, optimizer: str = "adam", schedule: str = "constant",
                      name: str = "generation", progress: ProgressFn | None = None,
                      generators: dict[str, torch.Generator] | None = None, **trainer_options: Any) -> IncrementalLog:
    """Train generation g = 1, 2, ... with loss ``loss_for(g)``; stop at Ctrl-C or divergence.

    ``schedule`` (:func:`make_schedule`: constant, cosine, ...) runs within each generation, over its steps,
    unless the generation names its own; so do ``batches``.
    ``trainer_options`` go to every generation's :class:`Trainer` (e.g. ``skip_nonfinite=True``).
    """
    total = sum(gen.steps for gen in generations)
    out = IncrementalLog()
    done = 0
    for g, gen in enumerate(generations, start=1):
        opt = make_optimizer(optimizer, _unique(gen.params), gen.lr)
        trainer = Trainer(model, loss_for(g), gen.batches or batches, opt, gen.steps, name=f"{name}{g}",
                          generators=generators,
                          scheduler=make_schedule(gen.schedule or schedule, opt, gen.steps),
                          progress=offset_progress(progress, done, total, {"generation": g}), **trainer_options)
        out.logs.append(trainer.run())
        done += gen.steps
        if out.logs[-1].status in (Status.INTERRUPTED, Status.DIVERGED):
            break
    return out


def _unique(params: Iterable[nn.Parameter]) -> list[nn.Parameter]:
    seen: set[int] = set()
    return [p for p in params if not (id(p) in seen or seen.add(id(p)))]
