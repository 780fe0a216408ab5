"""Paths and failures: --out / -o naming a file or an unwritable folder give a clear message and exit 2 (checked
with real permissions, as an unprivileged user); failed runs are recorded and reported; Ctrl-C keeps what was
done; `dlsm report FILE` says it is a file."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dlsm import runner, sweeps
from dlsm.cli import main
from dlsm.errors import DataError
from dlsm.labs import Lab, get_lab, registry

NOBODY = 65534
# Runs several CLI calls in one process (one import of dlsm) and prints their exit codes and stderr as JSON.
SCRIPT = """
import contextlib, io, json, sys
from dlsm.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    out.append([code, err.getvalue()])
print(json.dumps(out))
"""


def only_dir(path: Path) -> Path:
    (d,) = [p for p in path.iterdir() if p.is_dir()]
    return d


@pytest.fixture
def shared_dir():
    """A folder that an unprivileged user can enter (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="dlsm-paths-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def _closed_to_others(path: Path) -> Path | None:
    """The first folder above ``path`` that other users may not enter (mode without o+x), or None."""
    for folder in path.absolute().parents:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def _as_nobody(base: Path, calls: list[list[str]]) -> list[tuple[int, str]]:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to drop privileges")
    import dlsm

    for needed in (Path(dlsm.__file__), Path(sys.prefix) / "pyvenv.cfg"):  # the package and the venv's marker
        closed = _closed_to_others(needed)
        if closed is not None:  # e.g. a checkout inside `mktemp -d` (mode 700): nobody cannot import dlsm
            pytest.skip(f"{closed} is closed to other users, so an unprivileged user cannot read {needed}")
    home = base / "home"
    home.mkdir()
    mpl = Path.home() / ".cache" / "matplotlib"
    if mpl.is_dir():  # the font cache: building it again as another user takes long
        shutil.copytree(mpl, home / "mpl")
    for p in [home, *home.rglob("*")]:
        os.chown(p, NOBODY, NOBODY)
    env = {**os.environ, "HOME": str(home), "MPLCONFIGDIR": str(home / "mpl"), "DLSM_CACHE": str(home),
           "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           sys.executable, "-c", SCRIPT, json.dumps(calls)],
                          capture_output=True, text=True, env=env, cwd=base, timeout=600)
    if proc.returncode != 0 and "Operation not permitted" in proc.stderr:
        pytest.skip(f"cannot drop privileges here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr
    return [tuple(x) for x in json.loads(proc.stdout.strip().splitlines()[-1])]


def test_unwritable_out_and_report_output_exit_2_as_an_unprivileged_user(shared_dir):
    locked = shared_dir / "locked"  # root's folder, mode 755: nobody may not write in it
    locked.mkdir(mode=0o755)
    runs = shared_dir / "runs"
    assert main(["run", "gd1d", "steps=3", "--out", str(runs)]) == 0
    for p in [runs, *runs.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if p.is_dir() else 0))
    calls = [
        ["run", "gd1d", "steps=3", "--out", str(locked)],
        ["run", "gd1d", "steps=3", "--out", str(locked / "new" / "deeper")],
        ["run", "gd1d", "lr=0.1,0.2", "steps=3", "--out", str(locked)],
        ["tour", "--labs", "gd1d", "--out", str(locked)],
        ["report", str(runs), "-o", str(locked / "report.html")],
    ]
    results = _as_nobody(shared_dir, calls)
    for argv, (code, err) in zip(calls, results, strict=True):
        assert code == 2, (argv, err)
        assert "Traceback" not in err and str(locked) in err, (argv, err)
        assert "not writable" in err or "Permission denied" in err, (argv, err)
    assert list(locked.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "sweep", "tour", "report"])
def test_out_naming_a_file_exits_2(command, tmp_path, capsys):
    file = tmp_path / "a-file"
    file.write_text("not a folder")
    argv = {"run": ["run", "gd1d", "--out", str(file)],
            "sweep": ["run", "gd1d", "lr=0.1,0.2", "--out", str(file / "sub")],
            "tour": ["tour", "--labs", "gd1d", "--out", str(file)],
            "report": ["report", str(tmp_path), "-o", str(file / "report.html")]}[command]
    if command == "report":
        main(["run", "gd1d", "steps=3", "--out", str(tmp_path / "runs")])
        capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "Traceback" not in err


def test_report_of_a_file_says_it_is_a_file(tmp_path, capsys):
    file = tmp_path / "metrics.json"
    file.write_text("{}")
    assert main(["report", str(file)]) == 2
    assert f"{file}: is a file" in capsys.readouterr().err


def _replace_lab(monkeypatch, name: str, compute=None, figures=None) -> Lab:
    """The lab with its computation (or its figures) replaced by a stand-in, in the registry."""
    lab = get_lab(name)
    fake = dataclasses.replace(lab, compute=compute or lab.compute, figures=figures or lab.figures)
    monkeypatch.setitem(registry(), name, fake)
    return fake


def test_a_data_error_is_recorded_as_failed_and_reported(monkeypatch, run_root, tmp_path, capsys):
    def run(config, progress=None):
        progress(3, 10, {"loss": 0.5})
        raise DataError("image 7 of the folder cannot be read")

    _replace_lab(monkeypatch, "gd1d", run)
    assert main(["run", "gd1d", "--out", str(run_root)]) == 1
    err = capsys.readouterr().err
    run_dir = only_dir(run_root / "gd1d")
    assert "cannot be read" in err and f"recorded in {run_dir}" in err
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "failed" and "image 7" in metrics["error"]
    assert metrics["metrics"] == {"progress_done": 3, "progress_total": 10, "loss": 0.5}
    out = tmp_path / "report.html"
    assert main(["report", str(run_root), "-o", str(out)]) == 0
    html = out.read_text()
    assert "Status: failed" in html and "image 7 of the folder cannot be read" in html


def test_ctrl_c_after_the_last_step_keeps_the_whole_run(monkeypatch, run_root):
    """The sweep race: a Ctrl-C landing while the lab draws its figures (all steps done) used to record
    `metrics: {}`. It is now deferred: the run is saved whole and the sweep stops after it."""
    inner = get_lab("gd1d").figures

    def figures(config, outcome):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while drawing figures (the last step was reported)
        return inner(config, outcome)

    lab = _replace_lab(monkeypatch, "gd1d", figures=figures)
    outcome = sweeps.sweep(lab, {}, "lr", [0.1, 0.2, 0.3], run_root, "quick", figures=True)
    assert outcome.interrupted and len(outcome.runs) == 1
    first = outcome.runs[0]
    assert first.stop_requested and first.result is not None
    metrics = json.loads((first.path / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["metrics"]["steps_run"] > 0
    row = (outcome.path / "comparison.csv").read_text().splitlines()[1]
    assert row.startswith("0.1,completed,") and ",," not in row


def test_ctrl_c_before_the_lab_returns_keeps_the_progress_so_far(monkeypatch, run_root):
    def run(config, progress=None):
        progress(4, 10, {"loss": 2.5})
        raise KeyboardInterrupt

    lab = _replace_lab(monkeypatch, "gd1d", run)
    outcome = runner.run_one(lab, lab.config(), run_root)
    metrics = json.loads((outcome.path / "metrics.json").read_text())
    assert metrics["status"] == "interrupted"
    assert metrics["metrics"] == {"progress_done": 4, "progress_total": 10, "loss": 2.5}
