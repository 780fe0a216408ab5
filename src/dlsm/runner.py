"""Running labs into run folders: one run (and its resume), sweeps over a grid of keys and seeds, and the tour.

A run opens a :class:`~dlsm.training.RunSession` around ``lab.run``: every trainer of the lab checkpoints
into the run folder while it trains (``checkpoint.pt``, and ``metrics.json`` with status ``running`` and
the metrics so far), so a killed run loses at most one checkpoint interval and :func:`resume_run`
continues it in the same folder. Ctrl-C stops the whole run at the next step and checkpoints that step.
While a run is written its folder is locked (:mod:`dlsm.run_lock`); a finished run drops its
``checkpoint.pt``. Sweeps (:mod:`dlsm.sweeps`) run many of these, each into its own folder.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlsm.config import LabConfig
from dlsm.errors import ConfigError, DataError, DlsmError, InputError, WriteFailed
from dlsm.i18n import t
from dlsm.labs import Lab, registry
from dlsm.result import ProgressFn, Result
from dlsm.run_lock import RunLock, RunLocked, locked_by
from dlsm.runs import (
    mark_resumed,
    new_folder,
    read_json,
    save_result,
    timestamp,
    write_config,
    write_failed,
    write_failure,
    write_interrupted,
    write_running,
    write_text,
)
from dlsm.status import Status

#: In the folder of a run that an unexpected exception (a bug) stopped: the traceback, for a bug report.
TRACEBACK_NAME = "traceback.txt"

#: Makes a progress callback for one run, given a label (the CLI returns a tqdm bar's updater).
ProgressFactory = Callable[[str], ProgressFn | None]


@dataclass
class RunOutcome:
    """A finished (or interrupted, or failed) run: where it was written and what the lab returned."""

    path: Path
    config: LabConfig
    result: Result | None  # None when Ctrl-C or an error came before the lab returned
    elapsed_s: float
    error: str = ""  # the message of the error that stopped a failed run
    stop_requested: bool = False  # Ctrl-C came while the lab was finishing: the run is complete, stop after it
    partial: dict[str, Any] = field(default_factory=dict)  # the metrics so far when the lab did not return
    recorded: Status | None = None  # the status read from the run folder (:func:`load_outcome`)

    @property
    def status(self) -> Status:
        if self.error:
            return Status.FAILED
        if self.result is not None:
            return self.result.status
        return self.recorded or Status.INTERRUPTED

    @property
    def interrupted(self) -> bool:
        return self.status == Status.INTERRUPTED or self.stop_requested

    @property
    def metrics(self) -> dict[str, Any]:
        return self.result.metrics if self.result is not None else self.partial


# ----- Ctrl-C and progress while a lab runs -----------------------------------------------------------
class _Progress:
    """Wraps the lab's progress callback: remembers the last report (kept if the lab never returns) and
    raises a pending Ctrl-C at the next report, where the training loop catches it cleanly."""

    def __init__(self, inner: ProgressFn | None) -> None:
        self.inner, self.done, self.total, self.info = inner, 0, 0, {}
        self.stop = False

    def __call__(self, done: int, total: int, info: Mapping[str, float]) -> None:
        self.done, self.total, self.info = done, total, info
        if self.stop:
            self.stop = False
            raise KeyboardInterrupt
        if self.inner is not None:
            self.inner(done, total, info)

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.done >= self.total

    def so_far(self) -> dict[str, Any]:
        if not self.total:
            return {}
        return {"progress_done": self.done, "progress_total": self.total,
                **{k: float(v) for k, v in self.info.items()}}


class _SigintGuard:
    """Ctrl-C while a lab runs: stop the lab where stopping loses nothing.

    A lab that reports progress is stopped at its next report: the KeyboardInterrupt is raised from the
    progress callback, inside the training loop's ``try``, so the loop ends cleanly at a step boundary; the
    trainer then checkpoints that step and stops the whole run (:class:`~dlsm.training.RunInterrupted`),
    which ``--resume`` continues bitwise. (Raised from the signal handler, it could land between two
    statements of the loop outside its ``try`` and escape the lab: the race that recorded ``metrics: {}``
    though steps were done.) When the lab has reported its last step (it only draws figures) or the run is
    being saved, Ctrl-C is deferred: the run completes and ``pending`` tells the caller to stop after it. A
    lab that reports no progress is stopped at once. The same Ctrl-C delivered twice within a second (a sweep
    worker gets it from the terminal and from its parent) counts once; a later second Ctrl-C stops at once.
    """

    def __init__(self, progress: _Progress, once: bool = False) -> None:
        self.progress, self.once = progress, once
        self.saving = self.pending = False
        self.first_at = 0.0
        self._old: Any = None

    def __enter__(self) -> _SigintGuard:
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)

    def _handle(self, signum: int, frame: object) -> None:
        now = time.monotonic()
        first = not self.pending
        if not first and (self.once or now - self.first_at < 1.0):
            return  # the same Ctrl-C again
        self.pending, self.first_at = True, now
        if self.saving or (first and self.progress.finished):
            return
        if first and self.progress.total > 0:
            self.progress.stop = True  # raised at the next progress report, inside the loop's try
            return
        raise KeyboardInterrupt


class _WarningsGuard:
    """NumPy's RuntimeWarnings (an overflow, a division by zero) and torch's UserWarnings while a lab runs do
    not reach the terminal raw: they are recorded, and each distinct one (category and message) becomes a
    note of the run (:meth:`notes`). Each warning location is recorded once (the "default" action), so a
    loop that warns at every step costs one record. (``warnings.catch_warnings`` swaps process-wide state:
    runs in threads of one process, as in the UI, share it.)
    """

    def __enter__(self) -> _WarningsGuard:
        self._catch = warnings.catch_warnings(record=True)
        self.records = self._catch.__enter__()
        warnings.simplefilter("default", RuntimeWarning)
        warnings.simplefilter("default", UserWarning)
        return self

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)

    def notes(self) -> list[str]:
        """One note per distinct warning, in the order they came."""
        seen: dict[tuple[str, str], None] = {}
        for w in self.records:
            seen.setdefault((w.category.__name__, str(w.message).splitlines()[0] if str(w.message) else ""))
        return [t("cli.note_warning", category=cat, message=msg) for cat, msg in seen]


def execute(lab: Lab, config: LabConfig, run_dir: Path, size: str = "course",
            progress: ProgressFn | None = None, *, resume: Mapping[str, Any] | None = None,
            checkpoint_every: int | None = None, figures: bool = True, raise_errors: bool = True,
            interrupt_once: bool = False) -> RunOutcome:
    """Run ``lab`` with ``config`` into the existing folder ``run_dir`` (empty, or the run to resume).

    The config is written first, so even a run stopped by Ctrl-C or an error leaves a record of what was
    asked. A lab error is recorded as status ``failed`` with its message, then re-raised (``raise_errors``)
    or returned in the outcome (sweeps go on with the next run). The folder's lock
    (:class:`~dlsm.run_lock.RunLock`) is held until the last file is written.
    """
    with RunLock(run_dir):
        return _execute(lab, config, run_dir, size, progress, resume=resume, checkpoint_every=checkpoint_every,
                        figures=figures, raise_errors=raise_errors, interrupt_once=interrupt_once)


def _execute(lab: Lab, config: LabConfig, run_dir: Path, size: str, progress: ProgressFn | None, *,
             resume: Mapping[str, Any] | None, checkpoint_every: int | None, figures: bool, raise_errors: bool,
             interrupt_once: bool) -> RunOutcome:
    previous_s = 0.0
    if resume is None:
        write_config(run_dir, lab.name, config, size, checkpoint_every=checkpoint_every)
    else:
        mark_resumed(run_dir)
        if (run_dir / "metrics.json").is_file():
            previous_s = float(read_json(run_dir / "metrics.json").get("elapsed_s", 0.0))
    from dlsm.training import RunSession

    watch = _Progress(progress)
    t0 = time.perf_counter()

    def elapsed() -> float:
        return previous_s + time.perf_counter() - t0

    last_checkpoint: dict[str, Any] = {}

    def on_checkpoint(metrics: dict[str, Any]) -> None:
        last_checkpoint.clear()
        last_checkpoint.update(metrics)
        write_running(run_dir, metrics, elapsed())

    session = RunSession(run_dir, lab=lab.name, config=config.to_dict(), resume=resume,
                         checkpoint_every=checkpoint_every, on_checkpoint=on_checkpoint)
    with _SigintGuard(watch, once=interrupt_once) as guard:
        try:
            with session, _WarningsGuard() as caught:
                result = lab.run(config, progress=watch, figures=figures)
        except KeyboardInterrupt:
            so_far = {**watch.so_far(), **last_checkpoint}
            guard.saving = True
            write_interrupted(run_dir, elapsed(), so_far)
            return RunOutcome(run_dir, config, None, elapsed(), partial=so_far)
        except Exception as exc:
            so_far = {**watch.so_far(), **last_checkpoint}
            message = str(exc) or type(exc).__name__
            guard.saving = True
            write_failed(run_dir, elapsed(), message, so_far)
            if not isinstance(exc, DlsmError):  # a bug: its traceback is kept for the bug report
                write_text(run_dir / TRACEBACK_NAME, traceback.format_exc())
            if raise_errors:
                with contextlib.suppress(AttributeError):  # the CLI says where it is recorded (exit 1)
                    exc.run_dir = run_dir  # type: ignore[attr-defined]
                raise
            return RunOutcome(run_dir, config, None, elapsed(), error=message, partial=so_far)
        guard.saving = True  # a Ctrl-C from here on is deferred: the finished run is saved whole
        result.notes.extend(caught.notes())
        total = elapsed()
        try:
            save_result(run_dir, lab.name, lab.describe(), config, result, total,
                        meaning=lambda name: _meaning(lab, name))
        except (OSError, WriteFailed) as exc:  # a full disk while saving: recorded as failed, if it can be
            error = exc if isinstance(exc, WriteFailed) else write_failure(Path(exc.filename or run_dir), exc)
            write_failed(run_dir, total, str(error), dict(result.metrics))
            if raise_errors:
                error.run_dir = run_dir  # type: ignore[attr-defined]
                raise error from None
            return RunOutcome(run_dir, config, None, total, error=str(error), partial=dict(result.metrics))
        if Status(result.status) in (Status.COMPLETED, Status.DIVERGED):
            drop_training_state(run_dir)
    return RunOutcome(run_dir, config, result, total, stop_requested=guard.pending)


def drop_training_state(run_dir: Path) -> None:
    """A finished run is not resumed (``--resume`` says it is finished, from ``metrics.json``) and ``load=``
    reads ``artifacts.pt``: its ``checkpoint.pt`` (every trainer's optimizer state, and the weights of each
    stage: 288 MB for a default unfold run) goes."""
    from dlsm.training.session import FILE_NAME

    for name in (FILE_NAME, FILE_NAME + ".part"):
        (run_dir / name).unlink(missing_ok=True)


def _meaning(lab: Lab, name: str) -> str:
    from dlsm.outcome import meaning_with_unit

    return meaning_with_unit(lab.name, name, lab.outcome)


def run_one(lab: Lab, config: LabConfig, root: Path, size: str = "course",
            progress: ProgressFn | None = None, *, checkpoint_every: int | None = None,
            figures: bool = True, on_start: Callable[[Path], None] | None = None) -> RunOutcome:
    """Run into a new folder ``root/<lab>/<timestamp>``; ``on_start(folder)`` is called before the run starts
    (the CLI says where a long run writes)."""
    check_load(lab, config)
    run_dir = new_folder(root / lab.name, timestamp())
    if on_start is not None:
        try:
            on_start(run_dir)
        except BaseException:  # e.g. a closed pipe (`dlsm run ... | head -0`): the run never started
            with contextlib.suppress(OSError):
                run_dir.rmdir()  # only if still empty: no orphan folder
            raise
    return execute(lab, config, run_dir, size, progress, checkpoint_every=checkpoint_every, figures=figures)


def check_load(lab: Lab, config: LabConfig) -> None:
    """A ``load=`` run folder (or its ``artifacts.pt``) of another lab is refused before the run starts,
    naming the lab that folder holds (its ``config.json`` says) and the one expected (ConfigError, exit 2)."""
    load = getattr(config, "load", None)
    if not isinstance(load, str) or not load:
        return
    folder = Path(load) if Path(load).is_dir() else Path(load).parent
    if not (folder / "config.json").is_file():
        return  # the lab says what is wrong with the path
    try:
        other = read_json(folder / "config.json").get("lab")
    except (DataError, AttributeError):
        return
    if isinstance(other, str) and other != lab.name:
        raise ConfigError(t("cli.err.load_other_lab", path=load, other=other, lab=lab.name), key="load")


def save_run(result: Result, root: Path, size: str = "course") -> Path:
    """Write a Result that ``Lab.run`` returned (in a notebook, say) to a new folder ``root/<lab>/<timestamp>``,
    the same files a CLI run writes; return the folder."""
    from dlsm.labs import get_lab

    if not result.lab or result.config is None:
        raise DataError(t("runs.err.result_without_lab"))
    lab = get_lab(result.lab)
    run_dir = new_folder(root / lab.name, timestamp())
    write_config(run_dir, lab.name, result.config, size)
    save_result(run_dir, lab.name, lab.describe(), result.config, result, result.elapsed_s,
                meaning=lambda name: _meaning(lab, name))
    return run_dir


def resume_run(lab: Lab, run_dir: Path, progress: ProgressFn | None = None,
               checkpoint_every: int | None = None) -> RunOutcome:
    """Continue a killed or interrupted run of ``lab`` in its own folder, from its ``checkpoint.pt``.

    The config, size and torch thread count are those recorded in ``config.json``; with the same thread
    count the resumed run ends at the same numbers as an uninterrupted one (bitwise on the CPU).
    """
    from dlsm.training import load_training_checkpoint

    run_dir = Path(run_dir)
    if run_dir.is_file():
        raise InputError(t("runs.err.resume_is_file", path=run_dir))
    if not (run_dir / "config.json").is_file():
        raise InputError(t("runs.err.resume_not_run", path=run_dir))
    pid = locked_by(run_dir)
    if pid is not None:
        raise RunLocked(t("cli.err.run_locked", path=run_dir, pid=pid))
    record = read_json(run_dir / "config.json")
    if record.get("lab") != lab.name:
        raise ConfigError(t("runs.err.resume_other_lab", path=run_dir, lab=repr(record.get("lab")),
                            asked=repr(lab.name), name=record.get("lab")), key="resume")
    status = read_json(run_dir / "metrics.json").get("status") if (run_dir / "metrics.json").is_file() else None
    if status in (Status.COMPLETED.value, Status.DIVERGED.value):
        raise InputError(t("runs.err.resume_finished", path=run_dir, status=status))
    if not (run_dir / "checkpoint.pt").is_file():
        raise InputError(t("runs.err.resume_no_checkpoint", path=run_dir))
    payload = load_training_checkpoint(run_dir)
    if payload.get("lab") not in ("", lab.name):
        raise DataError(t("runs.err.resume_checkpoint_other_lab", path=run_dir, lab=repr(payload.get("lab"))))
    config = lab.config.from_dict(record.get("config", {}))
    threads = record.get("threads")
    if isinstance(threads, int) and threads > 0:
        import torch

        torch.set_num_threads(threads)  # the same reductions as the first part of the run
    every = checkpoint_every if checkpoint_every is not None else record.get("checkpoint_every")
    return execute(lab, config, run_dir, record.get("size", "course"), progress, resume=payload,
                   checkpoint_every=every)


def load_outcome(lab: Lab, run_dir: Path) -> RunOutcome:
    """A run of ``lab`` as its folder records it (config, status, metrics, time; no figures or curves)."""
    record = read_json(run_dir / "config.json")
    config = lab.config.from_dict(record.get("config", {}))
    metrics = read_json(run_dir / "metrics.json") if (run_dir / "metrics.json").is_file() else {}
    status = metrics.get("status")
    recorded = Status(status) if status in {s.value for s in Status} else Status.INTERRUPTED
    if recorded == Status.RUNNING:
        recorded = Status.INTERRUPTED  # killed: what it wrote is the state at its last checkpoint
    return RunOutcome(run_dir, config, None, float(metrics.get("elapsed_s", 0.0)),
                      error=str(metrics.get("error", "")) if recorded == Status.FAILED else "",
                      partial=dict(metrics.get("metrics", {})), recorded=recorded)


def tour(root: Path, progress_for: ProgressFactory | None = None,
         labs: Sequence[str] | None = None) -> tuple[Path, list[RunOutcome]]:
    """Run every registered lab (or those named) at quick size into ``root/tour/<timestamp>/<lab>``."""
    tour_dir = new_folder(root / "tour", timestamp())
    outcomes = []
    chosen = [registry()[name] for name in labs] if labs else list(registry().values())
    for lab in chosen:
        config = lab.config.make("quick")
        run_dir = new_folder(tour_dir, lab.name)
        outcome = execute(lab, config, run_dir, "quick", progress_for(lab.name) if progress_for else None,
                          raise_errors=False)
        outcomes.append(outcome)
        if outcome.interrupted:
            break
    return tour_dir, outcomes
