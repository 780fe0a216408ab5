"""What a sweep adds up to: the runs table, the comparison over seeds (mean, std, 95 % CI), the figures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.result import Curve, Table, format_scalar
from dlsm.runner import RunOutcome
from dlsm.runs import save_figure


def value_label(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(format_scalar(v) for v in value)
    return format_scalar(value)


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
        if all(isinstance(v, bool) and not v for v in values) or len({repr(v) for v in values}) == 1:
            continue  # the same value at every point (diverged = False, a setting's closed form): nothing to draw
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
            ci = t("common.sweep.mean_ci") if any(line[2] is not None for line in lines.values()) else ""
            figures[f"{m}_over_{x_key}"] = plot_metric_over_key(
                lines, x_key, m, log_y=log_y, title=t("common.sweep.metric_over", metric=m, key=x_key) + ci)
    return figures


def overlay_figures(keys: str | Sequence[str], runs: Sequence[RunOutcome]) -> dict:
    """For every curve name in the runs, one figure: that curve per grid point, averaged over the seeds
    with a 95 % CI band (when the seeds' curves share their x values). A curve that is the same at every
    point (the shared training of runs that differ only in how they sample) gets no figure."""
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
        if first is not None and not (len(lines) > 1 and _all_equal(list(lines.values()))):
            seeds = "" if all(line[2] is None for line in lines.values()) else t("common.sweep.mean_over_seeds")
            figures[f"overlay_{name}"] = plot_curve_bands(
                lines, first.xlabel, first.ylabel, log_y=first.log_y,
                title=(t("common.sweep.curve_per_point", name=name, keys=", ".join(keys)) if keys else name) + seeds)
    return figures


def _all_equal(lines: list[tuple]) -> bool:
    """Whether every line has the same x and mean (the curves would be drawn on top of each other)."""
    x0, y0 = np.asarray(lines[0][0]), np.asarray(lines[0][1])
    return all(np.array_equal(np.asarray(x), x0) and np.array_equal(np.asarray(y), y0, equal_nan=True)
               for x, y, _ in lines[1:])


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
