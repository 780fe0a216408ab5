"""Sweeps resume: every point has its folder from the start; `dlsm run LAB --resume SWEEP_DIR` runs the points
not yet completed and rebuilds the comparison, which then equals that of an uninterrupted sweep (the oracle);
a single run of a sweep resumed on its own updates the comparison too."""

from __future__ import annotations

import json

from dlsm.cli import main
from dlsm.labs import get_lab
from dlsm.sweeps import sweep_grid

BASE = {"steps": 20, "hidden": 2}
GRID = {"gate": ["and", "xor", "or"]}


def _ctrl_c_at(at: int):
    """A progress factory whose callbacks raise KeyboardInterrupt at the ``at``-th call, over all runs."""
    calls = [0]

    def factory(_label):
        def progress(done, total, info):
            calls[0] += 1
            if calls[0] == at:
                raise KeyboardInterrupt
        return progress
    return factory


def _without_time(table):
    keep = [i for i, c in enumerate(table.columns) if c != "time_s"]
    return [table.columns[i] for i in keep], [[row[i] for i in keep] for row in table.rows]


def _csv_without_time(path):
    lines = [line.split(",") for line in path.read_text().splitlines()]
    drop = lines[0].index("time_s")
    return [[c for i, c in enumerate(line) if i != drop] for line in lines]


def test_an_interrupted_sweep_resumes_to_the_uninterrupted_comparison(tmp_path, capsys):
    lab = get_lab("gates")
    full = sweep_grid(lab, BASE, GRID, tmp_path / "full", "quick")
    stopped = sweep_grid(lab, BASE, GRID, tmp_path / "stopped", "quick", _ctrl_c_at(27), checkpoint_every=5)
    assert stopped.interrupted and len(stopped.runs) == 2  # Ctrl-C in the second point's training
    meta = json.loads((stopped.path / "sweep.json").read_text())
    assert all((stopped.path / name / "config.json").is_file() for name in meta["runs"])  # the third one too
    assert main(["run", "gates", "--resume", str(stopped.path)]) == 0
    capsys.readouterr()
    assert _csv_without_time(stopped.path / "comparison.csv") == _csv_without_time(full.path / "comparison.csv")
    assert json.loads((stopped.path / "sweep.json").read_text())["completed"] is True


def test_a_resumed_run_of_a_sweep_rebuilds_its_comparison(tmp_path, capsys):
    lab = get_lab("gates")
    full = sweep_grid(lab, BASE, GRID, tmp_path / "full", "quick")
    stopped = sweep_grid(lab, BASE, GRID, tmp_path / "stopped", "quick", _ctrl_c_at(47), checkpoint_every=5)
    assert stopped.interrupted and len(stopped.runs) == 3  # Ctrl-C in the last point
    assert "interrupted" in (stopped.path / "comparison.csv").read_text()
    assert main(["run", "gates", "--resume", str(stopped.runs[-1].path)]) == 0
    capsys.readouterr()
    assert "interrupted" not in (stopped.path / "comparison.csv").read_text()
    assert _csv_without_time(stopped.path / "comparison.csv") == _csv_without_time(full.path / "comparison.csv")


def test_resume_of_a_sweep_of_another_lab_is_refused(tmp_path, capsys):
    stopped = sweep_grid(get_lab("gates"), BASE, {"gate": ["and"]}, tmp_path, "quick", _ctrl_c_at(3))
    assert main(["run", "tgd", "--resume", str(stopped.path)]) == 2
    assert "this is a sweep of 'gates', not 'tgd'" in capsys.readouterr().err
