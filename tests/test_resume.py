"""Resume: a run killed with SIGKILL, or stopped with Ctrl-C (SIGINT), mid-training continues with
`dlsm run LAB --resume RUN_DIR` and ends at the same numbers as an uninterrupted run of the same seed (bitwise on
the CPU); resume errors are clear."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlsm.cli import main

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
# gates trains one small network per seed through the engine (two trainers: seed0, seed1)
ARGS = ["gates", "gate=xor", "hidden=3", "steps=600", "seeds=2", "--seed", "4", "--checkpoint-every", "20"]


def _dlsm(*args: str) -> list[str]:
    return [sys.executable, "-m", "dlsm", *args]


def _metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    """The oracle: the same run, not interrupted."""
    root = tmp_path_factory.mktemp("full")
    subprocess.run(_dlsm("run", *ARGS, "--out", str(root)), env=ENV, check=True, capture_output=True)
    (full_dir,) = (root / "gates").iterdir()
    return full_dir


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_signal_mid_training_then_resume_gives_the_uninterrupted_numbers(sig, uninterrupted, tmp_path):
    killed_root = tmp_path / "killed"
    proc = subprocess.Popen(_dlsm("run", *ARGS, "--out", str(killed_root)), env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if list(killed_root.glob("gates/*/checkpoint.pt")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before a checkpoint could be seen: " + proc.stderr.read()
    proc.send_signal(sig)
    code = proc.wait(timeout=30)
    err = proc.stderr.read()
    (run_dir,) = (killed_root / "gates").iterdir()
    stopped = _metrics(run_dir)
    if sig == signal.SIGKILL:
        assert stopped["status"] == "running"  # killed mid-training: the metrics so far, at the last checkpoint
    else:  # Ctrl-C: stopped at the next step, checkpointed there, and told how to go on
        assert code == 130 and stopped["status"] == "interrupted", err
        assert f"dlsm run gates --resume {run_dir}" in err and "Traceback" not in err
    assert 0 < stopped["metrics"]["steps"] < 1200

    out = subprocess.run(_dlsm("run", "gates", "--resume", str(run_dir)), env=ENV, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    resumed = _metrics(run_dir)
    expected = _metrics(uninterrupted)
    assert resumed["status"] == expected["status"] == "completed"
    assert resumed["metrics"] == expected["metrics"]  # bitwise: JSON floats round-trip exactly
    assert json.loads((run_dir / "config.json").read_text())["resumed"]
    for table in (uninterrupted / "tables").glob("*.csv"):
        assert table.read_text() == (run_dir / "tables" / table.name).read_text(), table.name


@pytest.mark.parametrize(
    ("setup", "argv_lab", "fragment"),
    [
        ("none", "gates", "not a dlsm run folder"),
        ("completed", "gates", "nothing to resume, the run is already completed"),
        ("completed", "gd1d", "this is a run of 'gates', not 'gd1d'"),
        ("no-checkpoint", "gates", "wrote no checkpoint.pt"),
        ("file", "gates", "this is a file"),
    ],
)
def test_resume_errors_are_clear(setup, argv_lab, fragment, tmp_path, capsys):
    run_dir = tmp_path / "run"
    if setup == "file":
        run_dir.write_text("x")
    else:
        run_dir.mkdir()
    if setup in ("completed", "no-checkpoint"):
        (run_dir / "config.json").write_text(json.dumps({"lab": "gates", "config": {}, "size": "quick"}))
        status = "completed" if setup == "completed" else "running"
        (run_dir / "metrics.json").write_text(json.dumps({"status": status, "metrics": {}}))
    code = main(["run", argv_lab, "--resume", str(run_dir)])
    err = capsys.readouterr().err
    assert code in (1, 2) and fragment in err and "Traceback" not in err


def test_resume_refuses_new_settings(tmp_path, capsys):
    assert main(["run", "gates", "--resume", str(tmp_path), "steps=10"]) == 2
    assert "--resume continues a run with the config recorded" in capsys.readouterr().err
