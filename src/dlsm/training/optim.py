"""Optimizers and learning-rate schedules built from a config: one factory for every lab.

``make_optimizer("adam", params, lr=1e-3)`` gives ``torch.optim.Adam``; ``"momentum"`` is SGD with heavy-ball
momentum, ``"sgd"`` plain SGD. ``make_schedule`` wraps it in a per-step scheduler:

- ``constant``: lr_k = lr;
- ``cosine``: lr_k = lr · ½(1 + cos(π k / K))  (Loshchilov & Hutter 2017, without restarts);
- ``onecycle``: warm-up then annealing (Smith & Topin 2019; fastai's recipe: Adam's β1 cycles too);
- ``step``: lr_k = lr · 0.1^⌊k / (K/3)⌋.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import torch

from dlsm.errors import ConfigError

OptimizerName = Literal["sgd", "momentum", "adam"]
ScheduleName = Literal["constant", "cosine", "onecycle", "step"]
OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("constant", "cosine", "onecycle", "step")


def make_optimizer(name: str, params: Iterable, lr: float, *, momentum: float = 0.9,
                   weight_decay: float = 0.0, foreach: bool | None = None) -> torch.optim.Optimizer:
    """The optimizer ``name`` (sgd | momentum | adam) over ``params`` with learning rate ``lr``.

    ``foreach=True`` updates all tensors in one batched call (torch's default only on a GPU): on a CPU it
    saves the per-tensor Python overhead of small networks, with results equal up to rounding.
    """
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, foreach=foreach)
    if name in ("sgd", "momentum"):
        return torch.optim.SGD(params, lr=lr, momentum=momentum if name == "momentum" else 0.0,
                               weight_decay=weight_decay, foreach=foreach)
    raise ConfigError.not_one_of("optimizer", name, OPTIMIZERS)


def make_schedule(name: str, optimizer: torch.optim.Optimizer, total_steps: int
                  ) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A scheduler stepped once per optimizer step, or None for ``constant``."""
    if name == "constant":
        return None
    lr = optimizer.param_groups[0]["lr"]
    total_steps = max(1, total_steps)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "onecycle":
        cycle = isinstance(optimizer, torch.optim.Adam) or optimizer.param_groups[0].get("momentum", 0) > 0
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps,
                                                   cycle_momentum=cycle)
    if name == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, total_steps // 3), gamma=0.1)
    raise ConfigError.not_one_of("schedule", name, SCHEDULES)
