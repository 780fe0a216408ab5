"""The lecture notebooks as a student runs them: each one top to bottom at its default size, timed per cell.

    python benchmarks/run.py --only notebooks            # every notebook, a table for BENCHMARKS.md
    python benchmarks/bench_notebooks.py --only lecture5 --no-write   # one notebook, every cell's seconds
    python benchmarks/bench_notebooks.py --quick          # at the CI size (DLSM_QUICK=1)
    DLSM_BENCH_KEEP=/tmp/reports python benchmarks/run.py --only notebooks   # also keep each report to look at

The class budget (issue 21): a lecture at its default size runs in at most 8 minutes on a 2-core CPU and no
cell takes more than 3. Cell times are nbclient's own timestamps (``execute_input`` to ``execute_reply``).
Each notebook runs in a fresh temporary folder, so its ``runs/`` and report do not pile up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import BenchSection  # noqa: E402
from dlsm.result import Table  # noqa: E402

NOTEBOOKS = HERE.parent / "notebooks"
TOTAL_BUDGET_S = 8 * 60
CELL_BUDGET_S = 3 * 60


@dataclass
class CellTime:
    index: int  # position among the notebook's cells (markdown included), as Jupyter numbers them from 0
    first_line: str
    seconds: float


@dataclass
class NotebookTime:
    name: str
    total_s: float
    cells: list[CellTime]
    error: str = ""
    load: float = 0.0  # 1-minute load average when the notebook started (other work on the machine)

    @property
    def slowest(self) -> CellTime | None:
        return max(self.cells, key=lambda c: c.seconds, default=None)


def _stamp(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _first_line(source: str) -> str:
    lines = [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return (lines[0] if lines else source.splitlines()[0] if source else "")[:60]


#: A folder to copy each notebook's report (runs/report-*) into before its temporary folder is removed.
KEEP_VAR = "DLSM_BENCH_KEEP"


def time_notebook(name: str, quick: bool = False, timeout_s: int = 1800) -> NotebookTime:
    """Execute ``notebooks/<name>.py`` in a fresh folder and time every code cell."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(NOTEBOOKS / f"{name}.py")
    env_before = os.environ.get("DLSM_QUICK")
    os.environ["DLSM_QUICK"] = "1" if quick else "0"
    os.environ.setdefault("MPLBACKEND", "Agg")
    error = ""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix=f"nb-{name}-") as folder:
        client = NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                                resources={"metadata": {"path": folder}})
        t0 = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as exc:
            error = str(exc).strip().splitlines()[-1][:200]
        total = time.perf_counter() - t0
        keep = os.environ.get(KEEP_VAR)
        if keep:  # the reports the notebook wrote, to look at after the run
            for report in Path(folder).glob("runs/report-*"):
                (Path(keep) / name).mkdir(parents=True, exist_ok=True)
                shutil.copy2(report, Path(keep) / name / report.name)
    if env_before is None:
        os.environ.pop("DLSM_QUICK", None)
    else:
        os.environ["DLSM_QUICK"] = env_before
    cells = []
    for i, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            seconds = _stamp(timing["shell.execute_reply"]) - _stamp(timing["iopub.execute_input"])
            cells.append(CellTime(i, _first_line(cell.source), seconds))
    return NotebookTime(name, total, cells, error, load)


def notebook_names() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("lecture*.py"))


def section(timings: list[NotebookTime], quick: bool) -> BenchSection:
    rows = []
    for timing in timings:
        slow = timing.slowest
        over = [c for c in timing.cells if c.seconds > CELL_BUDGET_S]
        rows.append([timing.name, round(timing.total_s, 1), round(slow.seconds, 1) if slow else "",
                     f"cell {slow.index}: `{slow.first_line}`" if slow else "", len(over),
                     "yes" if timing.total_s <= TOTAL_BUDGET_S and not over and not timing.error else "no",
                     timing.error or "ok", round(timing.load, 2)])
    size = "quick (DLSM_QUICK=1, the CI size)" if quick else "default (what a student runs)"
    threads = os.environ.get("OMP_NUM_THREADS", "not set (torch's default)")
    return BenchSection(
        f"Lecture notebooks top to bottom at their {size.split(' (')[0]} size",
        Table(["notebook", "total_s", "slowest_cell_s", "slowest cell", "cells over 180 s", "within budget",
               "errors", "load at start"], rows),
        [f"Each notebook executed with nbclient in a fresh folder at the {size} size; OMP_NUM_THREADS {threads}. "
         f"Budget: total ≤ {TOTAL_BUDGET_S} s and every cell ≤ {CELL_BUDGET_S} s. Cell times from nbclient's "
         "execute_input/execute_reply timestamps; total includes the kernel's start. Optional cells "
         "(`RUN_OPTIONAL = False`) are not run. Load at start: the 1-minute load average when the notebook "
         "started (above 0 when other work shared the 2 cores, which makes its times upper bounds)."])


def timings_of(names: list[str], quick: bool) -> list[NotebookTime]:
    out = []
    for name in names:
        print(f"  notebook {name} ...", file=sys.stderr)
        out.append(time_notebook(name, quick))
        print(f"  {name}: {out[-1].total_s:.1f} s", file=sys.stderr)
    return out


def run(quick: bool = False, only: list[str] | None = None) -> list[BenchSection]:
    return [section(timings_of(only or notebook_names(), quick), quick)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma list of notebooks (lecture5,lecture6_mimo)")
    parser.add_argument("--quick", action="store_true", help="the CI size (DLSM_QUICK=1)")
    parser.add_argument("--no-write", action="store_true", help="print every cell's time; write no file")
    args = parser.parse_args(argv)
    only = args.only.split(",") if args.only else None
    timings = timings_of(only or notebook_names(), args.quick)
    for timing in timings:
        print(f"{timing.name}: total {timing.total_s:.1f} s{'  ERROR: ' + timing.error if timing.error else ''}")
        for c in timing.cells:
            flag = "  OVER 3 min" if c.seconds > CELL_BUDGET_S else ""
            print(f"  cell {c.index:3d} {c.seconds:7.1f} s  {c.first_line}{flag}")
    if not args.no_write:
        print(section(timings, args.quick).table.to_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
