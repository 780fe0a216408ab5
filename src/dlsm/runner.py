"""Running labs into run folders: one run (and its resume), sweeps over a grid of keys and seeds, and the tour.

A run opens a :class:`~dlsm.training.RunSession` around ``lab.run``: every trainer of the lab checkpoints
into the run folder while it trains (``checkpoint.pt``, and ``metrics.json`` with status ``running`` and
the metrics so far), so a killed run loses at most one checkpoint interval and :func:`resume_run`
continues it in the same folder. Sweeps expand a grid (see :mod:`dlsm.sweeps`) and run its points
serially, in a local process pool or on Ray; each run writes its own folder.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from dlsm.config import LabConfig
from dlsm.errors import ConfigError, DataError, DlsmError
from dlsm.labs import Lab, get_lab, registry
from dlsm.result import ProgressFn, Result, Table
from dlsm.runs import (
    mark_resumed,
    new_folder,
    read_json,
    save_result,
    timestamp,
    write_config,
    write_failed,
    write_interrupted,
    write_running,
)
from dlsm.status import Status
from dlsm.sweeps import value_label

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

    @property
    def status(self) -> Status:
        if self.error:
            return Status.FAILED
        return self.result.status if self.result is not None else Status.INTERRUPTED

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
    progress callback, inside the training loop's ``try``, so the loop ends cleanly and the lab returns what
    it did. (Raised from the signal handler, it could land between two statements of the loop outside its
    ``try`` and escape the lab: the race that recorded ``metrics: {}`` though steps were done.) When the lab
    has reported its last step (it only draws figures) or the run is being saved, Ctrl-C is deferred: the
    run completes and ``pending`` tells the caller to stop after it. A lab that reports no progress is
    stopped at once. The same Ctrl-C delivered twice within a second (a sweep worker gets it from the
    terminal and from its parent) counts once; a later second Ctrl-C stops at once.
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


def execute(lab: Lab, config: LabConfig, run_dir: Path, size: str = "course",
            progress: ProgressFn | None = None, *, resume: Mapping[str, Any] | None = None,
            checkpoint_every: int | None = None, figures: bool = True, raise_errors: bool = True,
            interrupt_once: bool = False) -> RunOutcome:
    """Run ``lab`` with ``config`` into the existing folder ``run_dir`` (empty, or the run to resume).

    The config is written first, so even a run stopped by Ctrl-C or an error leaves a record of what was
    asked. A lab error is recorded as status ``failed`` with its message, then re-raised (``raise_errors``)
    or returned in the outcome (sweeps go on with the next run).
    """
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
                         checkpoint_every=checkpoint_every, figures=figures, on_checkpoint=on_checkpoint)
    with _SigintGuard(watch, once=interrupt_once) as guard:
        try:
            with session:
                result = lab.run(config, progress=watch)
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
            if raise_errors:
                if isinstance(exc, DlsmError):
                    exc.run_dir = run_dir  # type: ignore[attr-defined]  # the CLI says where it is recorded
                raise
            return RunOutcome(run_dir, config, None, elapsed(), error=message, partial=so_far)
        guard.saving = True  # a Ctrl-C from here on is deferred: the finished run is saved whole
        total = elapsed()
        save_result(run_dir, lab.name, lab.description, config, result, total)
    return RunOutcome(run_dir, config, result, total, stop_requested=guard.pending)


def run_one(lab: Lab, config: LabConfig, root: Path, size: str = "course",
            progress: ProgressFn | None = None, *, checkpoint_every: int | None = None,
            figures: bool = True) -> RunOutcome:
    """Run into a new folder ``root/<lab>/<timestamp>``."""
    run_dir = new_folder(root / lab.name, timestamp())
    return execute(lab, config, run_dir, size, progress, checkpoint_every=checkpoint_every, figures=figures)


def resume_run(lab: Lab, run_dir: Path, progress: ProgressFn | None = None,
               checkpoint_every: int | None = None) -> RunOutcome:
    """Continue a killed or interrupted run of ``lab`` in its own folder, from its ``checkpoint.pt``.

    The config, size and torch thread count are those recorded in ``config.json``; with the same thread
    count the resumed run ends at the same numbers as an uninterrupted one (bitwise on the CPU).
    """
    from dlsm.training import load_training_checkpoint

    run_dir = Path(run_dir)
    if run_dir.is_file():
        raise DataError(f"--resume {run_dir}: this is a file; give the run folder that holds config.json")
    if not (run_dir / "config.json").is_file():
        raise DataError(f"--resume {run_dir}: not a dlsm run folder (no config.json)")
    record = read_json(run_dir / "config.json")
    if record.get("lab") != lab.name:
        raise ConfigError(f"--resume {run_dir}: this is a run of {record.get('lab')!r}, not {lab.name!r}; "
                          f"resume it with: dlsm run {record.get('lab')} --resume {run_dir}", key="resume")
    status = read_json(run_dir / "metrics.json").get("status") if (run_dir / "metrics.json").is_file() else None
    if status in (Status.COMPLETED.value, Status.DIVERGED.value):
        raise DataError(f"--resume {run_dir}: nothing to resume, the run is already {status}")
    if not (run_dir / "checkpoint.pt").is_file():
        raise DataError(f"--resume {run_dir}: nothing to resume, the run wrote no checkpoint.pt (it stopped before "
                        "its first checkpoint, or the lab trains no network); start it again")
    payload = load_training_checkpoint(run_dir)
    if payload.get("lab") not in ("", lab.name):
        raise DataError(f"--resume {run_dir}: the checkpoint belongs to lab {payload.get('lab')!r}")
    config = lab.config.from_dict(record.get("config", {}))
    threads = record.get("threads")
    if isinstance(threads, int) and threads > 0:
        import torch

        torch.set_num_threads(threads)  # the same reductions as the first part of the run
    every = checkpoint_every if checkpoint_every is not None else record.get("checkpoint_every")
    return execute(lab, config, run_dir, record.get("size", "course"), progress, resume=payload,
                   checkpoint_every=every)


# ----- sweeps -----------------------------------------------------------------------------------------
@dataclass
class SweepOutcome:
    """A finished sweep: its folder, the swept keys (``seed`` last when several seeds ran), every run and
    the comparison table (one row per run, or per grid point with mean, std and 95 % CI over seeds)."""

    path: Path
    keys: list[str]
    runs: list[RunOutcome]
    comparison: Table
    seeds: list[int] = field(default_factory=list)
    n_planned: int = 0

    @property
    def key(self) -> str:
        return self.keys[0]

    @property
    def interrupted(self) -> bool:
        return any(r.interrupted for r in self.runs) or len(self.runs) < self.n_planned

    @property
    def failed(self) -> list[RunOutcome]:
        return [r for r in self.runs if r.status == Status.FAILED]


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep, as plain data that a worker process or a Ray task can receive."""

    lab: str
    config: dict[str, Any]
    size: str
    run_dir: str
    figures: bool = False
    threads: int | None = 1
    checkpoint_every: int | None = None
    stop_file: str | None = None  # present when the sweep was interrupted: runs not yet started do not start


def _lab_in_worker(name: str) -> Lab:
    """The lab, importing only its own module (a worker need not import every lab)."""
    import importlib

    try:
        lab = getattr(importlib.import_module(f"dlsm.labs.{name}"), "LAB", None)
    except ImportError:
        lab = None
    return lab if isinstance(lab, Lab) and lab.name == name else get_lab(name)


def run_task(task: RunTask, progress: ProgressFn | None = None, in_worker: bool = True) -> RunOutcome | None:
    """Execute one sweep run (the entry point of pool workers and Ray tasks); errors become failed runs.

    Creates the run's folder. Returns None without running when the sweep was interrupted before this run
    started (its stop file exists). In a worker, torch uses ``task.threads`` threads (1 by default: the
    runs, not the threads, are parallel) and the result comes back without its figures and artifacts (they
    are in the run folder).
    """
    if task.stop_file is not None and Path(task.stop_file).exists():
        return None
    Path(task.run_dir).mkdir(parents=True, exist_ok=True)
    lab = _lab_in_worker(task.lab) if in_worker else get_lab(task.lab)
    if task.threads is not None:
        import torch

        if torch.get_num_threads() != task.threads:
            torch.set_num_threads(task.threads)
    config = lab.config.from_dict(task.config)
    outcome = execute(lab, config, Path(task.run_dir), task.size, progress, figures=task.figures,
                      checkpoint_every=task.checkpoint_every, raise_errors=False, interrupt_once=in_worker)
    if in_worker and outcome.result is not None:
        outcome.result = replace(outcome.result, figures={}, artifacts={})
    return outcome


def sweep(lab: Lab, base: dict[str, Any], key: str, values: Sequence[Any], root: Path,
          size: str = "course", progress_for: ProgressFactory | None = None, **options: Any) -> SweepOutcome:
    """Run ``lab`` once per value of ``key`` (other keys from ``base``); see :func:`sweep_grid`."""
    return sweep_grid(lab, base, {key: list(values)}, root, size, progress_for, **options)


def sweep_grid(lab: Lab, base: dict[str, Any], grid: Mapping[str, Sequence[Any]], root: Path,
               size: str = "course", progress_for: ProgressFactory | None = None, *, seeds: int = 1,
               jobs: int = 1, executor: str = "local", address: str | None = None, figures: bool = False,
               threads: int | None = None, checkpoint_every: int | None = None) -> SweepOutcome:
    """Run ``lab`` at every point of ``grid`` (the product of the keys' values, first key outermost), with
    ``seeds`` seeds each (seed, seed + 1, ...), into one sweep folder.

    Writes one run folder per point (``key=value__key2=value2__seed=s``), then ``runs.csv`` (one row per
    run), ``comparison.csv`` (one row per grid point; mean, std and 95 % CI over seeds when there are
    several), figures (each headline metric over the first numeric key, one line per value of the second
    key, with error bars; each curve overlaid, seeds averaged with a band) and ``sweep.json``.

    ``jobs`` > 1 runs the points in a local process pool, ``executor="ray"`` on a Ray cluster
    (``address``; a local one when None). Torch uses ``threads`` threads per run; None keeps this process's
    setting for serial runs and uses 1 per worker (the CLI passes 1 for every executor, so that its numbers do
    not depend on ``jobs``: results can differ in the last digits with the thread count). Per-run figures are
    drawn only with ``figures``.
    Ctrl-C stops the sweep and keeps every run done so far.
    """
    from dlsm import sweeps

    points, seed_list = sweeps.expand(lab.config, base, grid, seeds)
    configs = [lab.config.make(size, **{**base, **p}) for p in points]  # validate every point first
    keys = [*grid] + (["seed"] if len(seed_list) > 1 else [])
    parallel = executor == "ray" or (jobs > 1 and len(points) > 1)
    sweep_dir = new_folder(root / lab.name, f"{timestamp()}-sweep-{'-'.join(keys)}")
    tasks = []
    for point, config in zip(points, configs, strict=True):
        run_dir = sweep_dir / sweeps.point_label({k: point[k] for k in keys}).replace("/", "_")
        tasks.append(RunTask(lab.name, config.to_dict(), size, str(run_dir), figures,
                             threads if threads is not None or not parallel else 1, checkpoint_every,
                             str(sweep_dir / sweeps.STOP_FILE)))
    meta = {"lab": lab.name, "keys": keys, "key": keys[0],
            "grid": {k: [value_label(v) for v in vs] for k, vs in grid.items()}, "seeds": seed_list,
            "values": [value_label(v) for v in grid[keys[0]]] if keys[0] in grid else [str(s) for s in seed_list],
            "base": {k: value_label(v) for k, v in base.items()}, "size": size, "executor": executor,
            "jobs": jobs, "threads": threads, "runs": [Path(t.run_dir).name for t in tasks],
            "created": datetime.now().isoformat(timespec="microseconds")}
    sweeps.write_meta(sweep_dir, {**meta, "completed": False})
    overall = progress_for(f"{len(tasks)} runs") if progress_for and parallel else None
    if executor == "ray":
        runs = sweeps.run_on_ray(tasks, address, overall)
    elif parallel:
        runs = sweeps.run_in_pool(tasks, jobs, overall)
    else:
        runs = sweeps.run_serially(tasks, progress_for, threads)
    comparison = sweeps.finish(lab, sweep_dir, keys, runs)
    done = len(runs) == len(tasks) and not any(r.interrupted for r in runs)
    sweeps.write_meta(sweep_dir, {**meta, "completed": done,
                                  "failed": [r.path.name for r in runs if r.status == Status.FAILED]})
    return SweepOutcome(sweep_dir, keys, runs, comparison, seed_list, n_planned=len(tasks))


def compare_runs(lab: Lab, key: str | Sequence[str], runs: Sequence[RunOutcome]) -> Table:
    """One row per run: the swept values, status, the lab's headline metrics and the time."""
    from dlsm.sweeps import runs_table

    return runs_table(lab, [key] if isinstance(key, str) else list(key), runs)


def overlay_figures(key: str | Sequence[str], runs: Sequence[RunOutcome]) -> dict:
    """For every curve name present in the runs, one figure with that curve of each grid point (seeds
    averaged, with a band); see :func:`dlsm.sweeps.overlay_figures`."""
    from dlsm.sweeps import overlay_figures as overlay

    return overlay([key] if isinstance(key, str) else list(key), runs)


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
