"""Where the runs of a sweep execute: serially, in a local process pool, or on a Ray cluster.

Each run is a :class:`RunTask` (plain data that a worker process or a Ray task can receive), executed by
:func:`run_task` into its own folder; Ctrl-C writes :data:`STOP_FILE` into the sweep folder, so runs that
have not started yet do not start.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dlsm.errors import ConfigError
from dlsm.labs import Lab, get_lab
from dlsm.result import ProgressFn
from dlsm.runner import ProgressFactory, RunOutcome, execute

#: Written into the sweep folder on Ctrl-C: runs that have not started yet then do not start.
STOP_FILE = ".stop"
RAY_HINT = 'the Ray executor needs Ray, an optional extra: pip install "dlsm[cluster]"'


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


def run_serially(tasks: Sequence[RunTask], progress_for: ProgressFactory | None,
                 threads: int | None) -> list[RunOutcome]:
    """Run the tasks one after another in this process (torch on ``threads`` threads during the sweep)."""
    import torch


    before = torch.get_num_threads()
    if threads is not None and threads != before:
        torch.set_num_threads(threads)
    outcomes = []
    try:
        for task in tasks:
            label = Path(task.run_dir).name
            try:
                outcome = run_task(task, progress_for(label) if progress_for else None, in_worker=False)
            except KeyboardInterrupt:  # between two runs: keep what was done
                break
            if outcome is None:
                break
            outcomes.append(outcome)
            if outcome.interrupted:
                break
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
    return outcomes


def _worker_init() -> None:
    # A worker ignores Ctrl-C while idle; while a lab runs, run_task's guard stops it cleanly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def pool_context():
    """The multiprocessing context of sweep workers: forkserver (preloading dlsm) on Linux, else spawn."""
    import multiprocessing as mp

    if sys.platform.startswith("linux"):
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["dlsm.runner", "torch"])
        return ctx
    return mp.get_context("spawn")


def run_in_pool(tasks: Sequence[RunTask], jobs: int, progress: ProgressFn | None = None) -> list[RunOutcome]:
    """Run the tasks in a local process pool of ``jobs`` workers; results in task order.

    Ctrl-C cancels the runs not started, asks the running ones to stop (they record what they did) and
    returns every run that finished or stopped.
    """
    from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed


    results: dict[int, RunOutcome] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=pool_context(),
                             initializer=_worker_init) as pool:
        futures = {pool.submit(run_task, t): i for i, t in enumerate(tasks)}
        try:
            for fut in as_completed(futures):
                outcome = fut.result()
                if outcome is not None:
                    results[futures[fut]] = outcome
                if progress is not None:
                    progress(len(results), len(tasks), {})
                if outcome is None or outcome.interrupted:
                    raise KeyboardInterrupt  # a worker was interrupted: stop the sweep as Ctrl-C would
        except KeyboardInterrupt:
            _write_stop(tasks)  # queued runs that a worker already took do not start
            for fut in futures:
                fut.cancel()
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                try:
                    os.kill(proc.pid, signal.SIGINT)
                except OSError:
                    pass
            for fut, i in futures.items():
                if i not in results:
                    try:
                        outcome = fut.result()
                    except CancelledError:
                        continue
                    if outcome is not None:
                        results[i] = outcome
    return [results[i] for i in sorted(results)]


def _write_stop(tasks: Sequence[RunTask]) -> None:
    if tasks and tasks[0].stop_file:
        try:
            Path(tasks[0].stop_file).write_text("interrupted\n")
        except OSError:
            pass


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(RAY_HINT, key="executor") from None
    return ray


def run_on_ray(tasks: Sequence[RunTask], address: str | None = None,
               progress: ProgressFn | None = None) -> list[RunOutcome]:
    """Run the tasks as Ray tasks (one CPU each) on the cluster at ``address`` (None: the one already
    initialised in this process, else a new local one). Each run writes its folder on the node that runs
    it: on a cluster of several machines, give ``--out`` a folder that every node shares."""
    ray = require_ray()

    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"log_to_driver": False}
        if address is None:
            kwargs["include_dashboard"] = False
        ray.init(address=address, **kwargs)
    remote = ray.remote(num_cpus=1)(run_task)
    refs = [remote.remote(t) for t in tasks]
    index = {ref: i for i, ref in enumerate(refs)}
    results: dict[int, RunOutcome] = {}
    pending = list(refs)
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                outcome = ray.get(ref)
                if outcome is not None:
                    results[index[ref]] = outcome
            if progress is not None:
                progress(len(results), len(tasks), {})
    except KeyboardInterrupt:
        _write_stop(tasks)
        for ref in pending:
            ray.cancel(ref)
    return [results[i] for i in sorted(results)]


# ----- what a sweep adds up to ------------------------------------------------------------------------
