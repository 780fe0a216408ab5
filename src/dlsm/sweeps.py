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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dlsm.config import LabConfig, ParamSpec, strip_optional
from dlsm.errors import ConfigError, DataError
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.result import Table
from dlsm.runner import ProgressFactory, RunOutcome, check_load, execute, load_outcome, resume_run
from dlsm.runs import new_folder, read_json, timestamp, write_config, write_json
from dlsm.status import Status
from dlsm.sweep_executors import (  # noqa: F401  (re-exported: the sweep's API in one place)
    RAY_HINT,
    STOP_FILE,
    RunTask,
    require_ray,
    run_in_pool,
    run_on_ray,
    run_serially,
    run_task,
)
from dlsm.sweep_tables import (  # noqa: F401
    aggregate_table,
    compact_table,
    finish,
    mean_std_ci,
    metric_figures,
    overlay_figures,
    runs_table,
    t_quantile,
    value_label,
)

MAX_RANGE_VALUES = 1000


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
        raise ConfigError(t("runs.err.range_unreadable", key=spec.name, text=repr(text)), key=spec.name) from None
    if step == 0 or not all(map(math.isfinite, (start, stop, step))) or (stop - start) * step < 0:
        raise ConfigError(t("runs.err.range_endless", key=spec.name, text=repr(text)), key=spec.name)
    n = math.floor((stop - start) / step + 1e-9) + 1
    if n > MAX_RANGE_VALUES:
        raise ConfigError(t("runs.err.range_too_long", key=spec.name, text=repr(text), n=n, most=MAX_RANGE_VALUES),
                          key=spec.name)
    values = [start + i * step for i in range(n)]
    if tp is int:
        if not all(float(v).is_integer() for v in values):
            raise ConfigError(t("runs.err.range_not_int", key=spec.name, text=repr(text)), key=spec.name)
        return [str(int(v)) for v in values]
    return [f"{v:.12g}" for v in values]  # 0.1:0.5:0.1 gives 0.3, not 0.30000000000000004


def expand(config_cls: type[LabConfig], base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]],
           seeds: int = 1) -> tuple[list[dict[str, Any]], list[int]]:
    """The points of ``grid`` (first key outermost), each repeated for ``seeds`` seeds (innermost).

    Returns the points (dicts of the swept keys, plus ``seed`` when ``seeds`` > 1) and the seeds used
    (empty for one seed). The seeds start at ``base["seed"]`` or the config's default seed.
    """
    if seeds < 1:
        raise ConfigError(t("runs.err.seeds", seeds=seeds), key="seeds")
    if seeds > 1 and "seed" in grid:
        raise ConfigError(t("runs.err.seed_and_seeds"), key="seed")
    if not grid and seeds == 1:
        raise ConfigError(t("runs.err.nothing_to_sweep"))
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


def point_label(point: Mapping[str, Any]) -> str:
    """The folder name of a grid point: ``snr_db=0__detector=zf__seed=3``."""
    return "__".join(f"{k}={value_label(v)}" for k, v in point.items())


def write_meta(sweep_dir: Path, meta: dict[str, Any]) -> None:
    write_json(sweep_dir / "sweep.json", meta)


# ----- executors --------------------------------------------------------------------------------------


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
    for config in configs:  # a load= folder of another lab is refused before the sweep folder is made
        check_load(lab, config)
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
    write_meta(sweep_dir, {**meta, "completed": False, "checkpoint_every": checkpoint_every, "figures": figures})
    for task, config in zip(tasks, configs, strict=True):  # every point has its folder from the start
        Path(task.run_dir).mkdir(exist_ok=True)
        write_config(Path(task.run_dir), lab.name, config, size, threads=task.threads,
                     checkpoint_every=checkpoint_every)
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


def resume_sweep(lab: Lab, sweep_dir: Path, progress_for: ProgressFactory | None = None) -> SweepOutcome:
    """Continue the sweep in ``sweep_dir`` (``dlsm run LAB --resume SWEEP_DIR``) and rebuild its comparison.

    Points that completed (or diverged) are kept; an interrupted or killed point with a ``checkpoint.pt`` is
    resumed (:func:`~dlsm.runner.resume_run`: bitwise an uninterrupted run); the others (not started, failed,
    stopped before their first checkpoint) run again from the start. One point after another, in this
    process; Ctrl-C stops the sweep again, to be resumed the same way.
    """
    import torch

    meta = read_json(sweep_dir / "sweep.json")
    if meta.get("lab") != lab.name:
        raise ConfigError(t("cli.err.sweep_other_lab", path=sweep_dir, lab=meta.get("lab"), asked=lab.name),
                          key="resume")
    names = list(meta.get("runs", []))
    missing = [n for n in names if not (sweep_dir / n / "config.json").is_file()]
    if not names or missing:
        raise DataError(t("cli.err.sweep_not_resumable", path=sweep_dir, missing=", ".join(missing[:3])))
    before = torch.get_num_threads()
    threads = meta.get("threads") or 1
    if threads != before:
        torch.set_num_threads(threads)
    runs: list[RunOutcome] = []
    try:
        for name in names:
            run_dir = sweep_dir / name
            recorded = load_outcome(lab, run_dir)
            progress = progress_for(name) if progress_for else None
            if recorded.status in (Status.COMPLETED, Status.DIVERGED):
                outcome = recorded
            elif recorded.status == Status.INTERRUPTED and (run_dir / "checkpoint.pt").is_file():
                outcome = resume_run(lab, run_dir, progress)
            else:
                outcome = execute(lab, recorded.config, run_dir, meta.get("size", "course"), progress,
                                  checkpoint_every=meta.get("checkpoint_every"), figures=bool(meta.get("figures")),
                                  raise_errors=False)
            runs.append(outcome)
            if outcome.interrupted:
                break
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
    return _rebuild(lab, sweep_dir, meta, runs)


def refresh_sweep(lab: Lab, sweep_dir: Path, resumed: RunOutcome) -> SweepOutcome:
    """Rebuild the comparison of ``sweep_dir`` after one of its runs (``resumed``) was resumed on its own."""
    meta = read_json(sweep_dir / "sweep.json")
    runs = [resumed if n == resumed.path.name else load_outcome(lab, sweep_dir / n)
            for n in meta.get("runs", []) if (sweep_dir / n / "config.json").is_file()]
    return _rebuild(lab, sweep_dir, meta, runs)


def _rebuild(lab: Lab, sweep_dir: Path, meta: dict[str, Any], runs: list[RunOutcome]) -> SweepOutcome:
    keys = list(meta.get("keys", []))
    comparison = finish(lab, sweep_dir, keys, runs)
    planned = len(meta.get("runs", []))
    done = len(runs) == planned and not any(r.interrupted for r in runs)
    write_meta(sweep_dir, {**meta, "completed": done,
                           "failed": [r.path.name for r in runs if r.status == Status.FAILED]})
    return SweepOutcome(sweep_dir, keys, runs, comparison, list(meta.get("seeds", [])), n_planned=planned)


def compare_runs(lab: Lab, key: str | Sequence[str], runs: Sequence[RunOutcome]) -> Table:
    """One row per run: the swept values, status, the lab's headline metrics and the time."""
    return runs_table(lab, [key] if isinstance(key, str) else list(key), runs)
