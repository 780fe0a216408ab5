"""Sweeps: grids of keys × seeds, where their runs execute (serially, a process pool, Ray), and what they add up to.

On the command line a key with several values is swept; several swept keys make a grid (their product,
the first key outermost)::

    dlsm run mimo snr_db=0:20:2 modulation=bpsk,pam4 --seeds 5 --jobs 4

- ``key=a,b,c`` lists values; a tuple key takes one value per repetition (``x0=4,1 x0=0,1``);
- ``key=start:stop:step`` is a range of numbers, ``stop`` included when the steps land on it
  (``snr_db=0:20:2`` is 0, 2, ..., 20; ``lr=0.1:0.5:0.1``; ``start:stop`` steps by 1); ranges and values
  mix (``snr_db=0:10:5,15``);
- ``--seeds N`` repeats every grid point with seeds seed, seed + 1, ..., seed + N - 1.

The comparison table has one row per grid point with the mean, the standard deviation and the 95 %
confidence interval (Student t, n - 1 degrees of freedom) of each headline metric over the seeds.
"""

from __future__ import annotations

import itertools
import math
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from dlsm.config import LabConfig, ParamSpec, strip_optional
from dlsm.errors import ConfigError
from dlsm.labs import Lab, get_lab
from dlsm.result import Curve, ProgressFn, Table, format_scalar
from dlsm.runner import ProgressFactory, RunOutcome, execute
from dlsm.runs import new_folder, save_figure, timestamp, write_json
from dlsm.status import Status

MAX_RANGE_VALUES = 1000
#: Written into the sweep folder on Ctrl-C: runs that have not started yet then do not start.
STOP_FILE = ".stop"
RAY_HINT = 'the Ray executor needs Ray, an optional extra: pip install "dlsm[cluster]"'


# ----- the grid ---------------------------------------------------------------------------------------
def expand_range(spec: ParamSpec, text: str) -> list[str] | None:
    """``start:stop[:step]`` of a numeric key as a list of value texts (stop included); None if not a range."""
    tp = strip_optional(spec.type)
    if tp not in (int, float) or ":" not in text:
        return None
    parts = text.split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        start, stop = float(parts[0]), float(parts[1])
        step = float(parts[2]) if len(parts) == 3 else 1.0
    except ValueError:
        raise ConfigError(f"{spec.name}: cannot read the range {text!r}; write start:stop:step, "
                          "e.g. 0:20:2 (stop included)", key=spec.name) from None
    if step == 0 or not all(map(math.isfinite, (start, stop, step))) or (stop - start) * step < 0:
        raise ConfigError(f"{spec.name}: the range {text!r} never reaches its stop; the step must be non-zero "
                          "and point from start to stop", key=spec.name)
    n = math.floor((stop - start) / step + 1e-9) + 1
    if n > MAX_RANGE_VALUES:
        raise ConfigError(f"{spec.name}: the range {text!r} has {n} values; at most {MAX_RANGE_VALUES}",
                          key=spec.name)
    values = [start + i * step for i in range(n)]
    if tp is int:
        if not all(float(v).is_integer() for v in values):
            raise ConfigError(f"{spec.name}: the range {text!r} gives non-integer values; the key is an int",
                              key=spec.name)
        return [str(int(v)) for v in values]
    return [f"{v:.12g}" for v in values]  # 0.1:0.5:0.1 gives 0.3, not 0.30000000000000004


def expand(config_cls: type[LabConfig], base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]],
           seeds: int = 1) -> tuple[list[dict[str, Any]], list[int]]:
    """The points of ``grid`` (first key outermost), each repeated for ``seeds`` seeds (innermost).

    Returns the points (dicts of the swept keys, plus ``seed`` when ``seeds`` > 1) and the seeds used
    (empty for one seed). The seeds start at ``base["seed"]`` or the config's default seed.
    """
    if seeds < 1:
        raise ConfigError(f"--seeds: got {seeds}; allowed: int >= 1", key="seeds")
    if seeds > 1 and "seed" in grid:
        raise ConfigError("seed is swept and --seeds is given; use one of them", key="seed")
    if not grid and seeds == 1:
        raise ConfigError("a sweep needs a key with several values or --seeds N")
    first = int(base["seed"]) if "seed" in base else int(config_cls.spec("seed").default)
    seed_list = list(range(first, first + seeds)) if seeds > 1 else []
    points = []
    for combo in itertools.product(*grid.values()):
        point = dict(zip(grid, combo, strict=True))
        if seed_list:
            points += [{**point, "seed": s} for s in seed_list]
        else:
            points.append(point)
    return points, seed_list


def value_label(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(format_scalar(v) for v in value)
    return format_scalar(value)


def point_label(point: Mapping[str, Any]) -> str:
    """The folder name of a grid point: ``snr_db=0__detector=zf__seed=3``."""
    return "__".join(f"{k}={value_label(v)}" for k, v in point.items())


def write_meta(sweep_dir: Path, meta: dict[str, Any]) -> None:
    write_json(sweep_dir / "sweep.json", meta)


# ----- executors --------------------------------------------------------------------------------------
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
def metric_names(lab: Lab, runs: Sequence[RunOutcome]) -> list[str]:
    names = list(lab.headline)
    if not names:
        names = sorted({m for r in runs for m in r.metrics})
    return names


def runs_table(lab: Lab, keys: Sequence[str], runs: Sequence[RunOutcome]) -> Table:
    """One row per run: the swept values, status, the headline metrics and the time."""
    names = metric_names(lab, runs)
    rows = []
    for r in runs:
        rows.append([value_label(getattr(r.config, k)) for k in keys] + [r.status.value]
                    + [_cell(r.metrics.get(m, "")) for m in names] + [round(r.elapsed_s, 3)])
    return Table(columns=[*keys, "status", *names, "time_s"], rows=rows)


def _cell(v: Any) -> Any:
    return "" if v is None else v


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, str) and (
        isinstance(v, bool) or math.isfinite(float(v)))


def t_quantile(n: int) -> float:
    """The 97.5 % quantile of Student's t with n - 1 degrees of freedom (the 95 % CI factor)."""
    from scipy.stats import t

    return float(t.ppf(0.975, n - 1))


def mean_std_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean, sample standard deviation (n - 1) and 95 % CI half-width t_{0.975, n-1} s / sqrt(n)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan, math.nan
    s = float(x.std(ddof=1))
    return float(x.mean()), s, t_quantile(x.size) * s / math.sqrt(x.size)


def group_runs(keys: Sequence[str], runs: Sequence[RunOutcome]) -> dict[tuple, list[RunOutcome]]:
    """Runs grouped by their grid point (the values of ``keys``, seed excluded), in order of appearance."""
    groups: dict[tuple, list[RunOutcome]] = {}
    for r in runs:
        groups.setdefault(tuple(value_label(getattr(r.config, k)) for k in keys), []).append(r)
    return groups


def aggregate_table(lab: Lab, keys: Sequence[str], runs: Sequence[RunOutcome]) -> Table:
    """One row per grid point: n runs, status counts, and per headline metric its mean, std and 95 % CI
    over the seeds (runs that returned); a non-numeric metric lists its distinct values."""
    names = metric_names(lab, runs)
    numeric = {m for m in names if any(_is_number(r.metrics.get(m)) for r in runs)}
    columns = [*keys, "runs", "status"]
    for m in names:
        columns += [f"{m}_mean", f"{m}_std", f"{m}_ci95"] if m in numeric else [m]
    rows = []
    for point, group in group_runs(keys, runs).items():
        statuses: dict[str, int] = {}
        for r in group:
            statuses[r.status.value] = statuses.get(r.status.value, 0) + 1
        status = ", ".join(s if len(statuses) == 1 else f"{s} {n}" for s, n in statuses.items())
        row: list[Any] = [*point, len(group), status]
        returned = [r for r in group if r.result is not None]
        for m in names:
            values = [r.metrics.get(m) for r in returned]
            if m in numeric:
                stats = mean_std_ci([float(v) for v in values if _is_number(v)])
                row += ["" if math.isnan(v) else v for v in stats]
            else:
                row.append("/".join(dict.fromkeys(value_label(v) for v in values if v is not None)))
        rows.append(row)
    return Table(columns=columns, rows=rows)


def compact_table(table: Table) -> Table:
    """The comparison for the terminal: ``mean ± ci95`` in one cell per metric (std left to the CSV file)."""
    cols = table.columns
    out_cols, picks = [], []
    for j, c in enumerate(cols):
        if c.endswith("_std") or c.endswith("_ci95"):
            continue
        if c.endswith("_mean") and f"{c[:-5]}_ci95" in cols:
            out_cols.append(c[:-5])
            picks.append((j, cols.index(f"{c[:-5]}_ci95")))
        else:
            out_cols.append(c)
            picks.append((j, None))
    rows = []
    for row in table.rows:
        cells: list[Any] = []
        for j, k in picks:
            if k is None or row[k] == "":
                cells.append(row[j])
            else:
                cells.append(f"{row[j]:.4g} ± {row[k]:.2g}")
        rows.append(cells)
    return Table(out_cols, rows)


def _numeric_key(keys: Sequence[str], runs: Sequence[RunOutcome]) -> str | None:
    for k in keys:
        values = {getattr(r.config, k) for r in runs}
        if len(values) > 1 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return k
    return None


def metric_figures(lab: Lab, keys: Sequence[str], runs: Sequence[RunOutcome]) -> dict:
    """Each numeric headline metric over the first numeric swept key, one line per value of the other
    keys, with 95 % CI error bars over the seeds."""
    from dlsm.plotting.sweeps import plot_metric_over_key

    x_key = _numeric_key(keys, runs)
    if x_key is None:
        return {}
    others = [k for k in keys if k != x_key]
    figures = {}
    for m in metric_names(lab, runs):
        values = [r.metrics.get(m) for r in runs if r.result is not None]
        if all(isinstance(v, bool) and not v for v in values):
            continue  # e.g. diverged = False everywhere: nothing to draw
        lines: dict[str, tuple] = {}
        for point, group in group_runs(others, runs).items():
            label = ", ".join(f"{k}={v}" for k, v in zip(others, point, strict=True))
            xs, means, errs = [], [], []
            for _, sub in group_runs([x_key], group).items():
                values = [float(r.metrics[m]) for r in sub if r.result is not None and _is_number(r.metrics.get(m))]
                if values:
                    mean, _, ci = mean_std_ci(values)
                    xs.append(float(getattr(sub[0].config, x_key)))
                    means.append(mean)
                    errs.append(ci)
            if xs:
                order = np.argsort(xs)
                err = np.asarray(errs)[order] if not all(math.isnan(e) for e in errs) else None
                lines[label] = (np.asarray(xs)[order], np.asarray(means)[order], err)
        if lines:
            positive = all((line[1] > 0).all() for line in lines.values())
            log_y = positive and m in ("ser", "ber", "bler", "error_rate")
            figures[f"{m}_over_{x_key}"] = plot_metric_over_key(
                lines, x_key, m, log_y=log_y, title=f"{m} over {x_key}" + (" (mean, 95 % CI)" if any(
                    line[2] is not None for line in lines.values()) else ""))
    return figures


def overlay_figures(keys: str | Sequence[str], runs: Sequence[RunOutcome]) -> dict:
    """For every curve name in the runs, one figure: that curve per grid point, averaged over the seeds
    with a 95 % CI band (when the seeds' curves share their x values)."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    from dlsm.plotting.sweeps import plot_curve_bands

    keys = [k for k in keys if k != "seed"]
    names: list[str] = []
    for r in runs:
        for name in r.result.curves if r.result else []:
            if name not in names:
                names.append(name)
    figures = {}
    for name in names:
        lines: dict[str, tuple] = {}
        first: Curve | None = None
        for point, group in group_runs(keys, runs).items():
            curves = [r.result.curves[name] for r in group if r.result and name in r.result.curves]
            if not curves:
                continue
            first = first or curves[0]
            label = ", ".join(f"{k}={v}" for k, v in zip(keys, point, strict=True)) or name
            same_x = all(c.x.shape == curves[0].x.shape and np.array_equal(c.x, curves[0].x) for c in curves)
            if len(curves) > 1 and same_x:
                ys = np.stack([c.y for c in curves])  # (seeds, points)
                err = t_quantile(len(curves)) * ys.std(axis=0, ddof=1) / math.sqrt(len(curves))
                lines[label] = (curves[0].x, ys.mean(axis=0), err)
            else:
                lines[label] = (curves[0].x, curves[0].y, None)
        if first is not None:
            seeds = "" if all(line[2] is None for line in lines.values()) else " (mean over seeds, 95 % CI)"
            figures[f"overlay_{name}"] = plot_curve_bands(
                lines, first.xlabel, first.ylabel, log_y=first.log_y,
                title=f"{name} for each {', '.join(keys)}{seeds}" if keys else f"{name}{seeds}")
    return figures


def finish(lab: Lab, sweep_dir: Path, keys: Sequence[str], runs: Sequence[RunOutcome]) -> Table:
    """Write ``runs.csv``, ``comparison.csv`` and the sweep figures; return the comparison table."""
    per_run = runs_table(lab, keys, runs)
    (sweep_dir / "runs.csv").write_text(per_run.to_csv())
    point_keys = [k for k in keys if k != "seed"]
    comparison = aggregate_table(lab, point_keys, runs) if "seed" in keys else per_run
    (sweep_dir / "comparison.csv").write_text(comparison.to_csv())
    figures = {**metric_figures(lab, point_keys, runs), **overlay_figures(keys, runs)}
    for name, fig in figures.items():
        save_figure(fig, sweep_dir / "figures" / name)
    return comparison


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
    points, seed_list = expand(lab.config, base, grid, seeds)
    configs = [lab.config.make(size, **{**base, **p}) for p in points]  # validate every point first
    keys = [*grid] + (["seed"] if len(seed_list) > 1 else [])
    parallel = executor == "ray" or (jobs > 1 and len(points) > 1)
    sweep_dir = new_folder(root / lab.name, f"{timestamp()}-sweep-{'-'.join(keys)}")
    tasks = []
    for point, config in zip(points, configs, strict=True):
        run_dir = sweep_dir / point_label({k: point[k] for k in keys}).replace("/", "_")
        tasks.append(RunTask(lab.name, config.to_dict(), size, str(run_dir), figures,
                             threads if threads is not None or not parallel else 1, checkpoint_every,
                             str(sweep_dir / STOP_FILE)))
    meta = {"lab": lab.name, "keys": keys, "key": keys[0],
            "grid": {k: [value_label(v) for v in vs] for k, vs in grid.items()}, "seeds": seed_list,
            "values": [value_label(v) for v in grid[keys[0]]] if keys[0] in grid else [str(s) for s in seed_list],
            "base": {k: value_label(v) for k, v in base.items()}, "size": size, "executor": executor,
            "jobs": jobs, "threads": threads, "runs": [Path(t.run_dir).name for t in tasks],
            "created": datetime.now().isoformat(timespec="microseconds")}
    write_meta(sweep_dir, {**meta, "completed": False})
    overall = progress_for(f"{len(tasks)} runs") if progress_for and parallel else None
    if executor == "ray":
        runs = run_on_ray(tasks, address, overall)
    elif parallel:
        runs = run_in_pool(tasks, jobs, overall)
    else:
        runs = run_serially(tasks, progress_for, threads)
    comparison = finish(lab, sweep_dir, keys, runs)
    done = len(runs) == len(tasks) and not any(r.interrupted for r in runs)
    write_meta(sweep_dir, {**meta, "completed": done,
                                  "failed": [r.path.name for r in runs if r.status == Status.FAILED]})
    return SweepOutcome(sweep_dir, keys, runs, comparison, seed_list, n_planned=len(tasks))


def compare_runs(lab: Lab, key: str | Sequence[str], runs: Sequence[RunOutcome]) -> Table:
    """One row per run: the swept values, status, the lab's headline metrics and the time."""
    return runs_table(lab, [key] if isinstance(key, str) else list(key), runs)
