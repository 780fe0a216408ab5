"""The run lock: a run folder that a live process is writing is not resumed, nor reported as finished, by
another process (exit status 2, a clear message); a killed writer leaves no stale lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from dlsm.cli import main
from dlsm.run_lock import LOCK_NAME, RunLock, RunLocked, locked_by

HOLD = ("import sys, time; from pathlib import Path; from dlsm.run_lock import RunLock\n"
        "with RunLock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n")


def _running_folder(path):
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"lab": "gates", "config": {}, "size": "quick"}))
    (path / "metrics.json").write_text(json.dumps({"status": "running", "metrics": {"steps": 3}}))
    return path


@pytest.fixture
def writer(tmp_path):
    """Another process that holds the lock of a run folder, as a run being written does."""
    run_dir = _running_folder(tmp_path / "runs" / "gates" / "run")
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield run_dir, proc
    proc.kill()
    proc.wait(timeout=30)


def test_resume_of_a_run_being_written_is_refused(writer, capsys):
    run_dir, proc = writer
    assert locked_by(run_dir) == proc.pid
    assert main(["run", "gates", "--resume", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert "being written right now by another dlsm process" in err and str(proc.pid) in err
    assert "Traceback" not in err and "checkpoint.pt" not in err


def test_report_of_a_run_being_written_says_it_is_still_running(writer, tmp_path, capsys):
    run_dir, proc = writer
    for given in (run_dir, run_dir.parent.parent):  # the run folder, and a folder that holds it
        assert main(["report", str(given), "--output", str(tmp_path / "r.html")]) == 2
        err = capsys.readouterr().err
        assert "is still running" in err and str(run_dir) in err
    assert not (tmp_path / "r.html").exists()


def test_a_killed_writer_leaves_no_lock(writer, capsys):
    run_dir, proc = writer
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (run_dir / LOCK_NAME).is_file()  # the file stays, but no process holds it
    assert locked_by(run_dir) is None
    with RunLock(run_dir):  # so it can be taken again
        assert locked_by(run_dir) == os.getpid()
    assert not (run_dir / LOCK_NAME).exists()
    assert main(["run", "gates", "--resume", str(run_dir)]) in (1, 2)  # past the lock: no checkpoint.pt
    assert "wrote no checkpoint.pt" in capsys.readouterr().err


def test_the_lock_is_exclusive_within_one_process_too(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunLocked):
            RunLock(tmp_path).__enter__()
    assert locked_by(tmp_path) is None


def test_a_run_holds_its_lock_while_it_runs_and_not_after(tmp_path):
    from dlsm import runner
    from dlsm.labs import get_lab

    lab = get_lab("gates")
    seen = []
    outcome = runner.execute(lab, lab.config.make("quick", steps=5), tmp_path, "quick",
                             lambda done, total, info: seen.append(locked_by(tmp_path)), figures=False)
    assert outcome.status.value == "completed"
    assert seen == [os.getpid()] * 5
    assert locked_by(tmp_path) is None and not (tmp_path / LOCK_NAME).exists()
