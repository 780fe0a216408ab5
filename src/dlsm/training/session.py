"""The run a lab is executing in: where checkpoints go and what to resume from.

A lab's ``run(config, progress)`` knows nothing of folders. The runner (CLI, sweeps, tour) opens a
:class:`RunSession` around it::

    with RunSession(run_dir, lab="gates", config=config, resume=payload, checkpoint_every=200):
        result = lab.run(config, progress)

and every :class:`~dlsm.training.Trainer` created inside registers with it by name. While training goes
on, the session writes ``checkpoint.pt`` (every trainer's model, optimizer, scheduler, EMA, step, RNG
states, logs) and a ``metrics.json`` with status ``running``, atomically, so a killed run loses at most
one checkpoint interval; ``dlsm run LAB --resume RUN_DIR`` reopens the session with that payload and
each trainer continues where it stopped (bitwise the same numbers on the CPU). Ctrl-C (raised between two
steps) makes the trainer write a checkpoint of the step it reached and stop the whole run
(:meth:`RunSession.interrupted`), so later trainers do not start and the resume is bitwise too.

Checkpoints hold only tensors and plain containers, so they load with ``torch.load(weights_only=True)``.
Outside a session (notebooks, tests, benchmarks) nothing is written. Whether figures are drawn is not the
session's business: the runner passes ``figures=`` to ``Lab.run``.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dlsm.errors import DataError
from dlsm.i18n import t

FORMAT = "dlsm-training"
VERSION = 1
FILE_NAME = "checkpoint.pt"

class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a trainer of a run that has a session: the whole run stops, not only that trainer.

    Raised by :meth:`RunSession.interrupted` after the checkpoint of the step reached is written; the runner
    catches it (as any KeyboardInterrupt) and records the run as interrupted, to be continued with
    ``--resume``.
    """


_current: contextvars.ContextVar[RunSession | None] = contextvars.ContextVar("dlsm_run_session", default=None)

StateFn = Callable[[], dict[str, Any]]


class RunSession:
    """Checkpointing and resume for the trainers of one run (see the module docstring).

    Args:
        run_dir: the run folder (None: write nothing; still usable to resume from a payload).
        lab: the lab's name, recorded in the checkpoint and checked on resume.
        config: the lab's config as a dict, recorded in the checkpoint.
        resume: a payload read by :func:`load_training_checkpoint`, or None for a fresh run.
        checkpoint_every: write a checkpoint every this many optimizer steps of a trainer (None: only
            when a trainer finishes, and every ``checkpoint_seconds``).
        checkpoint_seconds: also write one when this much time has passed since the last (None: never).
        on_checkpoint: called with the metrics so far after each checkpoint (the runner writes them).
    """

    def __init__(self, run_dir: Path | None = None, *, lab: str = "", config: Mapping[str, Any] | None = None,
                 resume: Mapping[str, Any] | None = None, checkpoint_every: int | None = None,
                 checkpoint_seconds: float | None = 60.0,
                 on_checkpoint: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.lab = lab
        self.config = dict(config or {})
        self.resume = dict(resume["trainers"]) if resume else {}
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self.on_checkpoint = on_checkpoint
        self._state_fns: dict[str, StateFn] = {}
        self._frozen: dict[str, dict[str, Any]] = {}
        self._last_write = time.monotonic()
        self._token: contextvars.Token | None = None
        self.writes = 0

    # ----- context manager -----------------------------------------------------------------------
    def __enter__(self) -> RunSession:
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None

    # ----- trainers ------------------------------------------------------------------------------
    def register(self, name: str, state_fn: StateFn) -> dict[str, Any] | None:
        """Register a trainer's state function; return its saved state when resuming, else None."""
        if name in self._state_fns or name in self._frozen:
            raise ValueError(f"two trainers in one run are both named {name!r}; give each a distinct name")
        self._state_fns[name] = state_fn
        return self.resume.get(name)

    def finished(self, name: str) -> None:
        """A trainer is done: keep its final state and write a checkpoint.

        A finished trainer does not step again, so its optimizer and scheduler states are not kept (Adam's
        two moments are twice the weights, for every stage of an incremental training)."""
        state = self._state_fns.pop(name)()
        self._frozen[name] = {**state, "optimizer": None, "scheduler": None}
        self.checkpoint()

    def interrupted(self, name: str, at_boundary: bool) -> None:
        """Ctrl-C stopped trainer ``name``: checkpoint the step it reached, then stop the whole run.

        ``at_boundary``: the trainer stopped between two steps (Ctrl-C raised from the progress report), so
        its state is that of a step boundary and a resume from it is bitwise an uninterrupted run. Stopped
        inside a step (a second Ctrl-C), its state may be half updated: the last checkpoint is kept instead.
        Raises :class:`RunInterrupted`.
        """
        if at_boundary and name in self._state_fns:
            self.checkpoint()
        raise RunInterrupted

    def step_done(self, name: str, step: int) -> None:
        """Called by a trainer after each optimizer step; writes a checkpoint when one is due."""
        due = self.checkpoint_every is not None and step % self.checkpoint_every == 0
        if not due and self.checkpoint_seconds is not None:
            due = time.monotonic() - self._last_write >= self.checkpoint_seconds
        if due:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write ``checkpoint.pt`` (atomically: a temporary file, then a rename) and the metrics so far."""
        self._last_write = time.monotonic()
        if self.run_dir is None:
            return
        trainers = {**self._frozen, **{name: fn() for name, fn in self._state_fns.items()}}
        payload = {"format": FORMAT, "version": VERSION, "lab": self.lab, "config": self.config,
                   "trainers": trainers}
        from dlsm.runs import save_torch

        save_torch(payload, self.run_dir / FILE_NAME)  # a full disk leaves no .part and a plain message
        self.writes += 1
        if self.on_checkpoint is not None:
            self.on_checkpoint(metrics_so_far(trainers))


def metrics_so_far(trainers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Steps done and the last logged scalars of each trainer (what a killed run's metrics.json shows)."""
    out: dict[str, Any] = {"steps": sum(int(tr["log"]["steps_done"]) for tr in trainers.values())}
    for name, trainer in trainers.items():
        for key, values in trainer["log"]["history"].items():
            if values:
                out[f"{name}.{key}" if len(trainers) > 1 else key] = values[-1]
    return out


def current_session() -> RunSession | None:
    """The session the current lab runs in, or None (notebooks, tests, benchmarks)."""
    return _current.get()


def load_training_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a run folder's ``checkpoint.pt`` (or the file itself) with ``weights_only=True``
    (:func:`dlsm.checkpoints.load_plain`)."""
    path = Path(path)
    file = path / FILE_NAME if path.is_dir() else path
    if not file.is_file():
        raise DataError(t("runs.err.no_training_checkpoint", path=path, name=FILE_NAME))
    from dlsm.checkpoints import load_plain

    payload = load_plain(file)  # a file with Python objects: "not a plain weights file; it was not loaded"
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or "trainers" not in payload:
        raise DataError(t("runs.err.not_training_checkpoint", file=file))
    if payload.get("version") != VERSION:
        raise DataError(t("runs.err.training_checkpoint_version", file=file, version=repr(payload.get("version"))))
    return payload
