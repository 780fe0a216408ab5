"""Running labs into run folders: one run, a sweep over one key, and the tour of every lab."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlsm.config import LabConfig
from dlsm.labs import Lab, registry
from dlsm.plotting.curves import plot_curves
from dlsm.result import ProgressFn, Result, Table, format_scalar
from dlsm.runs import (
    new_folder,
    save_figure,
    save_result,
    timestamp,
    write_config,
    write_interrupted,
    write_json,
)

#: Makes a progress callback for one run, given a label (the CLI returns a tqdm bar's updater).
ProgressFactory = Callable[[str], ProgressFn | None]


@dataclass
class RunOutcome:
    """A finished (or interrupted) run: where it was written and what the lab returned."""

    path: Path
    config: LabConfig
    result: Result | None  # None when Ctrl-C came before the lab returned
    elapsed_s: float

    @property
    def interrupted(self) -> bool:
        return self.result is None or self.result.interrupted


def execute(lab: Lab, config: LabConfig, run_dir: Path, size: str = "course",
            progress: ProgressFn | None = None) -> RunOutcome:
    """Run ``lab`` with ``config`` into the existing empty folder ``run_dir``.

    The config is written first, so even a run stopped by Ctrl-C leaves a record of what was asked.
    """
    write_config(run_dir, lab.name, config, size)
    t0 = time.perf_counter()
    try:
        result = lab.run(config, progress=progress)
    except KeyboardInterrupt:
        elapsed = time.perf_counter() - t0
        write_interrupted(run_dir, elapsed)
        return RunOutcome(run_dir, config, None, elapsed)
    elapsed = time.perf_counter() - t0
    save_result(run_dir, lab.name, lab.description, config, result, elapsed)
    return RunOutcome(run_dir, config, result, elapsed)


def run_one(lab: Lab, config: LabConfig, root: Path, size: str = "course",
            progress: ProgressFn | None = None) -> RunOutcome:
    """Run into a new folder ``root/<lab>/<timestamp>``."""
    run_dir = new_folder(root / lab.name, timestamp())
    return execute(lab, config, run_dir, size, progress)


@dataclass
class SweepOutcome:
    path: Path
    key: str
    runs: list[RunOutcome]
    comparison: Table

    @property
    def interrupted(self) -> bool:
        return any(r.interrupted for r in self.runs)


def value_label(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(format_scalar(v) for v in value)
    return format_scalar(value)


def sweep(lab: Lab, base: dict[str, Any], key: str, values: Sequence[Any], root: Path,
          size: str = "course", progress_for: ProgressFactory | None = None) -> SweepOutcome:
    """Run ``lab`` once per value of ``key`` (other keys from ``base``) into one sweep folder.

    Writes each run in ``<key>=<value>/``, then ``comparison.csv`` (the headline metrics per value),
    an overlay figure per curve the runs share, and ``sweep.json``. Ctrl-C stops after the current run
    and keeps everything done so far.
    """
    configs = [lab.config.make(size, **{**base, key: v}) for v in values]  # validate all first
    sweep_dir = new_folder(root / lab.name, f"{timestamp()}-sweep-{key}")
    runs: list[RunOutcome] = []
    for value, config in zip(values, configs, strict=True):
        label = f"{key}={value_label(value)}"
        run_dir = new_folder(sweep_dir, label.replace("/", "_"))
        progress = progress_for(label) if progress_for else None
        outcome = execute(lab, config, run_dir, size, progress)
        runs.append(outcome)
        if outcome.interrupted:
            break
    comparison = compare_runs(lab, key, runs)
    (sweep_dir / "comparison.csv").write_text(comparison.to_csv())
    for name, fig in overlay_figures(key, runs).items():
        save_figure(fig, sweep_dir / "figures" / name)
    write_json(sweep_dir / "sweep.json",
               {"lab": lab.name, "key": key, "values": [value_label(v) for v in values],
                "base": {k: value_label(v) for k, v in base.items()}, "size": size,
                "runs": [r.path.name for r in runs], "completed": len(runs) == len(values)
                and not any(r.interrupted for r in runs)})
    return SweepOutcome(sweep_dir, key, runs, comparison)


def compare_runs(lab: Lab, key: str, runs: Sequence[RunOutcome]) -> Table:
    """One row per run: the swept value, status, the lab's headline metrics and the time."""
    names = list(lab.headline)
    if not names:
        names = sorted({m for r in runs if r.result for m in r.result.metrics})
    rows = []
    for r in runs:
        metrics = r.result.metrics if r.result else {}
        status = r.result.status if r.result else "interrupted"
        rows.append([value_label(getattr(r.config, key)), status]
                    + [metrics.get(m, "") for m in names] + [round(r.elapsed_s, 3)])
    return Table(columns=[key, "status", *names, "time_s"], rows=rows)


def overlay_figures(key: str, runs: Sequence[RunOutcome]) -> dict:
    """For every curve name present in the runs, one figure with that curve of each run."""
    names: list[str] = []
    for r in runs:
        for name in r.result.curves if r.result else []:
            if name not in names:
                names.append(name)
    figures = {}
    for name in names:
        curves = {f"{key}={value_label(getattr(r.config, key))}": r.result.curves[name]
                  for r in runs if r.result and name in r.result.curves}
        figures[f"overlay_{name}"] = plot_curves(curves, title=f"{name} for each {key}")
    return figures


def tour(root: Path, progress_for: ProgressFactory | None = None,
         labs: Sequence[str] | None = None) -> tuple[Path, list[RunOutcome]]:
    """Run every registered lab (or those named) at quick size into ``root/tour/<timestamp>/<lab>``."""
    tour_dir = new_folder(root / "tour", timestamp())
    outcomes = []
    chosen = [registry()[name] for name in labs] if labs else list(registry().values())
    for lab in chosen:
        config = lab.config.make("quick")
        run_dir = new_folder(tour_dir, lab.name)
        outcome = execute(lab, config, run_dir, "quick", progress_for(lab.name) if progress_for else None)
        outcomes.append(outcome)
        if outcome.interrupted:
            break
    return tour_dir, outcomes
