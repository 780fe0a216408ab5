"""The training engine: one loop for every lab that trains a ``torch.nn.Module``.

A :class:`Trainer` takes a model, a loss, a source of batches and an optimizer, and runs ``steps``
optimizer updates (one step = one update, in every lab). Around each update it can

- clip the gradient norm (``clip_grad_norm``) and skip, and count, a step whose gradient is not finite
  (``skip_nonfinite``: NaN-safe training);
- keep an exponential moving average of the weights (``ema_decay``: θ̄ ← d θ̄ + (1 - d) θ, torch's
  ``AveragedModel``), which is then the model that is evaluated and sampled;
- evaluate every ``eval_every`` steps, track the best model by one monitored metric, and stop early after
  ``patience`` evaluations without improvement;
- checkpoint into the current :class:`~dlsm.training.session.RunSession` and resume from it.

Ctrl-C and divergence are handled by :func:`~dlsm.training.loop.fit`: the trainer returns a
:class:`FitLog` whose status says how it ended, and the model holds what was learned so far. Inside a run
session (the CLI, sweeps) Ctrl-C instead stops the whole run: the trainer checkpoints the step it reached and
raises :class:`~dlsm.training.session.RunInterrupted`, so later trainers of the lab do not start::

    batches = EpochBatches(len(X), 64, generator)
    trainer = Trainer(model, lambda m, idx: F.mse_loss(m(X[idx]), y[idx]), batches,
                      make_optimizer("adam", model.parameters(), 1e-3), steps=1000, progress=progress)
    log = trainer.run()
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from dlsm.result import ProgressFn
from dlsm.status import Status
from dlsm.training.loop import SKIPPED, STOP, FitLog, fit
from dlsm.training.session import current_session

#: ``loss_fn(model, batch)`` returns the loss tensor, or ``(loss, {name: scalar})`` to log more scalars.
LossFn = Callable[[nn.Module, Any], "torch.Tensor | tuple[torch.Tensor, Mapping[str, float]]"]
#: ``evaluate(model)`` returns metrics of the model (called under ``no_grad`` and in eval mode).
EvalFn = Callable[[nn.Module], Mapping[str, float]]


class Stateful(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> Any: ...


class EpochBatches:
    """Mini-batch indices for step k: a fresh random permutation of ``range(n)`` each epoch.

    ``batches(k)`` returns the index tensor (b,) of step k, on ``device``; the last batch of an epoch may be
    short unless ``drop_last``. The permutation is drawn from ``generator`` (a CPU generator) at the first
    step of each epoch; ``state_dict`` holds it, so a resumed run draws the same batches.
    """

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, *, drop_last: bool = False,
                 shuffle: bool = True, device: torch.device | str = "cpu") -> None:
        if n < 1 or batch_size < 1:
            raise ValueError(f"need n >= 1 and batch_size >= 1, got n={n}, batch_size={batch_size}")
        self.n, self.batch_size, self.generator = n, min(batch_size, n), generator
        self.drop_last, self.shuffle, self.device = drop_last, shuffle, torch.device(device)
        self.per_epoch = n // self.batch_size if drop_last else math.ceil(n / self.batch_size)
        self._epoch = -1
        self._order = torch.arange(n)

    def epoch_of(self, k: int) -> int:
        return k // self.per_epoch

    def __call__(self, k: int) -> torch.Tensor:
        epoch, b = divmod(k, self.per_epoch)
        if epoch != self._epoch:
            self._order = torch.randperm(self.n, generator=self.generator) if self.shuffle else torch.arange(self.n)
            self._order = self._order.to(self.device)
            self._epoch = epoch
        return self._order[b * self.batch_size:(b + 1) * self.batch_size]

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self._epoch, "order": self._order.cpu()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._epoch = int(state["epoch"])
        self._order = state["order"].to(self.device)


def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters (the shared ``n_params`` metric)."""
    return sum(p.numel() for p in model.parameters())


def offset_progress(progress: ProgressFn | None, done_before: int, total: int,
                    extra: Mapping[str, float] | None = None) -> ProgressFn | None:
    """A progress callback for one part (a seed, a generation) of a longer job of ``total`` steps."""
    if progress is None:
        return None
    return lambda done, _n, info: progress(done_before + done, total, {**(extra or {}), **info})


class Trainer:
    """Run ``steps`` optimizer updates of ``model`` on ``loss_fn(model, batches(k))`` (see the module docstring).

    Args:
        model: the network (already on its device).
        loss_fn: ``loss_fn(model, batch)`` -> loss, or (loss, scalars).
        batches: ``batches(k)`` -> the batch of step k (anything ``loss_fn`` understands). If it has
            ``state_dict`` it is checkpointed (e.g. :class:`EpochBatches`).
        optimizer: a ``torch.optim.Optimizer`` (see :func:`~dlsm.training.optim.make_optimizer`).
        steps: number of optimizer updates.
        name: the trainer's name in the run's checkpoint; distinct per trainer of one run.
        scheduler: stepped after every update, or None.
        clip_grad_norm: rescale the gradient to this global norm when larger (None: no clipping).
        skip_nonfinite: skip (and count) an update whose gradient is not finite instead of applying it.
        ema_decay: keep an EMA of the weights with this decay (None: none); the EMA model is evaluated.
        evaluate: ``evaluate(model)`` -> metrics, every ``eval_every`` steps and after the last step.
        monitor, mode: the evaluated metric whose best value ("min" or "max") selects the best model.
        patience: stop after this many evaluations without improvement of ``monitor`` (None: never).
        generators: random generators the run draws from (their states are checkpointed).
        stateful: other objects with ``state_dict`` / ``load_state_dict`` to checkpoint.
        blowup: the loss growing this many times above its first value counts as divergence.
        log_every: record the scalars every this many steps (and at the last).
        progress: the progress callback.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, batches: Callable[[int], Any],
                 optimizer: torch.optim.Optimizer, steps: int, *, name: str = "train",
                 scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                 clip_grad_norm: float | None = None, skip_nonfinite: bool = False,
                 ema_decay: float | None = None, evaluate: EvalFn | None = None, eval_every: int = 0,
                 monitor: str | None = None, mode: str = "min", patience: int | None = None,
                 generators: Mapping[str, torch.Generator] | None = None,
                 stateful: Mapping[str, Stateful] | None = None, blowup: float | None = 1e8,
                 log_every: int = 1, progress: ProgressFn | None = None) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.model, self.loss_fn, self.batches, self.optimizer = model, loss_fn, batches, optimizer
        self.steps, self.name, self.scheduler = int(steps), name, scheduler
        self.clip_grad_norm, self.skip_nonfinite = clip_grad_norm, skip_nonfinite
        self.ema = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
                    if ema_decay is not None else None)
        self.ema_decay = ema_decay
        self._ema_groups: list[tuple[list[torch.Tensor], list[torch.Tensor]]] | None = None
        self._ema_copy = False
        self.evaluate, self.eval_every = evaluate, eval_every
        self.monitor, self.mode, self.patience = monitor, mode, patience
        self.generators = dict(generators or {})
        self.stateful: dict[str, Stateful] = dict(stateful or {})
        if hasattr(batches, "state_dict"):
            self.stateful.setdefault("batches", batches)  # type: ignore[arg-type]
        self.blowup, self.log_every, self.progress = blowup, log_every, progress
        self.log = FitLog()
        self.eval_log = FitLog()
        self.best: dict[str, Any] | None = None  # {"step", "value", "state_dict"}
        self.done = False
        self._stale = 0
        self._start = 0
        self._params = [p for g in optimizer.param_groups for p in g["params"]]
        self.session = current_session()
        saved = self.session.register(name, self.state) if self.session is not None else None
        if saved is not None:
            self.load_state(saved)

    # ----- the model to evaluate, sample from and save --------------------------------------------
    @property
    def eval_model(self) -> nn.Module:
        """The EMA model when there is one, else the model itself."""
        return self.ema.module if self.ema is not None else self.model

    def restore_best(self) -> bool:
        """Load the best evaluated weights into :attr:`eval_model`; False when nothing was evaluated."""
        if self.best is None:
            return False
        self.eval_model.load_state_dict(self.best["state_dict"])
        return True

    # ----- one update -----------------------------------------------------------------------------
    def _step(self, k: int) -> dict[str, Any]:
        if self.session is not None and k > self._start:
            # k steps are done and logged: a checkpoint taken now resumes at step k, bitwise
            self.session.step_done(self.name, k)
        self.model.train()
        out = self.loss_fn(self.model, self.batches(k))
        loss, scalars = out if isinstance(out, tuple) else (out, {})
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for p in self._params if p.grad is not None]
        if self.clip_grad_norm is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(self._params, self.clip_grad_norm))
        elif self.skip_nonfinite and grads:
            norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))
        else:
            norm = 0.0
        if self.skip_nonfinite and not (math.isfinite(norm) and math.isfinite(float(loss.detach()))):
            self.optimizer.zero_grad(set_to_none=True)
            return {SKIPPED: True}
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        if self.ema is not None:
            self._update_ema()
        info = {"loss": float(loss.detach()), **{key: float(v) for key, v in scalars.items()}}
        stop = False
        if self.evaluate is not None and ((self.eval_every and (k + 1) % self.eval_every == 0)
                                          or k + 1 == self.steps):
            metrics = self._evaluate(k)
            info.update(metrics)
            stop = self.patience is not None and self._stale >= self.patience
        if stop:
            info[STOP] = True
        return info

    @torch.no_grad()
    def _update_ema(self) -> None:
        """W_ema <- decay W_ema + (1 - decay) W over parameters and buffers (the first update copies W).

        The same operations as ``AveragedModel.update_parameters`` with ``get_ema_multi_avg_fn`` (one
        ``_foreach_lerp_`` per device and dtype), so the averages are bitwise torch's; but the tensors are
        grouped once, not on every step (under cProfile, torch's regrouping took 0.66 ms of a 6 ms step of
        the 2-D diffusion network on a CPU).
        """
        ema = self.ema
        if self._ema_groups is None:
            pairs = list(zip(itertools.chain(ema.module.parameters(), ema.module.buffers()),
                             itertools.chain(self.model.parameters(), self.model.buffers()), strict=True))
            if any(a.device != b.device for a, b in pairs):  # the model moved: torch's general path
                ema.update_parameters(self.model)
                return
            groups: dict[tuple, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}
            for a, b in pairs:
                mine, theirs = groups.setdefault((a.device, a.dtype), ([], []))
                mine.append(a.detach())
                theirs.append(b.detach())
            self._ema_groups = list(groups.values())
            self._ema_copy = int(ema.n_averaged) == 0  # read once (a sync on a GPU), then tracked here
        if self._ema_copy:
            self._ema_copy = False
            for mine, theirs in self._ema_groups:
                torch._foreach_copy_(mine, theirs)
        else:
            decay = self.ema_decay
            for mine, theirs in self._ema_groups:
                if mine[0].is_floating_point() or mine[0].is_complex():
                    torch._foreach_lerp_(mine, theirs, 1 - decay)
                else:
                    for a, b in zip(mine, theirs, strict=True):
                        a.copy_(a * decay + b * (1 - decay))
        ema.n_averaged += 1

    @torch.no_grad()
    def _evaluate(self, k: int) -> dict[str, float]:
        model = self.eval_model
        was_training = model.training
        model.eval()
        metrics = {key: float(v) for key, v in self.evaluate(model).items()}
        model.train(was_training)
        self.eval_log.record(k, metrics)
        self.eval_log.steps_done = k + 1
        if self.monitor is not None:
            value = metrics[self.monitor]
            better = self.best is None or (value < self.best["value"] if self.mode == "min"
                                           else value > self.best["value"])
            if better and math.isfinite(value):
                self.best = {"step": k + 1, "value": value,
                             "state_dict": {n: t.detach().clone() for n, t in model.state_dict().items()}}
                self._stale = 0
            else:
                self._stale += 1
        return metrics

    # ----- the loop -------------------------------------------------------------------------------
    def run(self) -> FitLog:
        """Train (or continue) up to ``steps`` updates; a trainer restored as finished returns at once."""
        if self.done:
            return self.log
        start = self._start = self.log.steps_done
        if start < self.steps:
            self.log = fit(self._step, self.steps - start, progress=self.progress, log_every=self.log_every,
                           start=start, log=self.log, blowup=self.blowup)
        if self.log.status != Status.INTERRUPTED:
            self.done = True
            if self.session is not None:
                self.session.finished(self.name)
        elif self.session is not None:  # in a run: checkpoint the step reached and stop the whole run
            self.session.interrupted(self.name, at_boundary=self.log.event.get("kind") == "interrupted_after")
        return self.log

    # ----- checkpoints ----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to continue bitwise: weights, optimizer, scheduler, EMA, RNG states, logs."""
        return {
            "model": {n: t.detach().cpu().clone() for n, t in self.model.state_dict().items()},
            "optimizer": copy.deepcopy(_to_cpu(self.optimizer.state_dict())),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "ema": _to_cpu(self.ema.state_dict()) if self.ema is not None else None,
            "generators": {n: g.get_state() for n, g in self.generators.items()},
            "stateful": {n: _to_cpu(s.state_dict()) for n, s in self.stateful.items()},
            "log": self.log.to_state(),
            "eval_log": self.eval_log.to_state(),
            "best": _to_cpu(self.best) if self.best is not None else None,
            "stale": self._stale,
            "done": self.done,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state` saved (tensors go back to the model's device)."""
        device = next((p.device for p in self.model.parameters()), torch.device("cpu"))
        self.model.load_state_dict(state["model"])
        if state["optimizer"] is not None:  # None: a finished trainer's (it does not step again)
            self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self.ema is not None and state["ema"] is not None:
            self.ema.load_state_dict(state["ema"])
            self._ema_groups = None  # re-read n_averaged at the next update
        for n, g in self.generators.items():
            if n in state["generators"]:
                g.set_state(state["generators"][n])
        for n, s in self.stateful.items():
            if n in state["stateful"]:
                s.load_state_dict(state["stateful"][n])
        self.log = FitLog.from_state(state["log"])
        self.eval_log = FitLog.from_state(state["eval_log"])
        best = state["best"]
        self.best = ({**best, "state_dict": {n: t.to(device) for n, t in best["state_dict"].items()}}
                     if best is not None else None)
        self._stale = int(state["stale"])
        self.done = bool(state["done"])


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj
