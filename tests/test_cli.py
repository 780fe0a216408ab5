"""The command line end to end: exit codes, run folders, sweeps, reports, Ctrl-C."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlsm import runner
from dlsm.cli import EXIT_INTERRUPTED, main
from dlsm.labs import Lab, get_lab, registry
from dlsm.outcome import Notes, Outcome, metric


def only_dir(path: Path) -> Path:
    (d,) = [p for p in path.iterdir() if p.is_dir()]
    return d


def test_entry_point_lists_labs():
    out = subprocess.run([sys.executable, "-m", "dlsm", "list"], capture_output=True, text=True, check=True)
    for name in ("gd1d", "gd2d", "activations", "quadfit"):
        assert name in out.stdout


def test_show_lists_parameters(capsys):
    assert main(["show", "gd2d"]) == 0
    out = capsys.readouterr().out
    assert "lr" in out and "0.18" in out and "one of: gd, momentum, nesterov, adam" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "nolab"], "unknown lab 'nolab'; valid labs: "),
        (["run", "gd2d", "alpha=0.1"], "unknown key 'alpha' for this lab; valid keys: seed, function"),
        (["run", "gd2d", "lr=-1"], "lr: got -1.0; allowed: float > 0"),
        (["run", "gd2d", "x0=1,2,3"], "x0: expected 2 elements"),
        (["show", "nolab"], "unknown lab"),
        (["report", "does-not-exist"], "no such folder"),
    ],
)
def test_bad_input_exits_2_or_1_with_a_message_and_no_traceback(argv, fragment, capsys, run_root):
    code = main([*argv, "--out", str(run_root)] if argv[0] == "run" else argv)
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert fragment in err
    assert "Traceback" not in err


def test_run_writes_a_complete_folder(capsys, run_root):
    assert main(["run", "gd2d", "lr=0.2", "--seed", "5", "--out", str(run_root)]) == 0
    run_dir = only_dir(run_root / "gd2d")
    config = json.loads((run_dir / "config.json").read_text())
    assert config["config"]["lr"] == 0.2 and config["seed"] == 5
    assert {"dlsm", "torch", "numpy", "python"} <= set(config["versions"])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert metrics["metrics"]["behaviour"].startswith("oscillates")
    assert (run_dir / "tables" / "trajectory.csv").is_file()
    for name in ("surface", "contour", "error"):
        assert (run_dir / "figures" / f"{name}.png").stat().st_size > 1000
        assert (run_dir / "figures" / f"{name}.pdf").is_file()
    assert "oscillate" in (run_dir / "summary.md").read_text()
    assert "oscillate" in capsys.readouterr().out


def test_run_folders_are_never_overwritten(run_root):
    for _ in range(3):
        assert main(["run", "gd1d", "--out", str(run_root)]) == 0
    folders = sorted((run_root / "gd1d").iterdir())
    assert len(folders) == 3
    assert all((f / "metrics.json").is_file() for f in folders)


def test_sweep_writes_comparison_and_overlay(run_root, capsys):
    assert main(["run", "gd2d", "lr=0.18,0.2,0.25", "--out", str(run_root)]) == 0
    sweep_dir = only_dir(run_root / "gd2d")
    assert sorted(p.name for p in sweep_dir.iterdir() if p.is_dir() and p.name.startswith("lr=")) == [
        "lr=0.18", "lr=0.2", "lr=0.25"]
    rows = (sweep_dir / "comparison.csv").read_text().splitlines()
    assert rows[0].startswith("lr,status,error_final")
    assert "diverges" in rows[3] and "oscillates" in rows[2]
    assert (sweep_dir / "figures" / "overlay_error.png").is_file()
    assert json.loads((sweep_dir / "sweep.json").read_text())["completed"] is True


def test_report_embeds_figures_and_tables(run_root, tmp_path, capsys):
    main(["run", "gd1d", "--out", str(run_root)])
    main(["run", "gd2d", "lr=0.1,0.2", "--out", str(run_root)])
    out = tmp_path / "rep" / "report.html"
    assert main(["report", str(run_root), "-o", str(out)]) == 0
    html = out.read_text()
    assert html.count("data:image/png;base64,") >= 4
    assert "gd2d — sweep over lr" in html and "gd1d" in html
    md = out.with_suffix(".md").read_text()
    assert "| k | s_k |" in md and "![function](" in md
    for link in [line[line.index("(") + 1:-1] for line in md.splitlines() if line.startswith("![")]:
        assert (out.parent / link).is_file()


def test_ctrl_c_before_the_lab_returns_keeps_the_record(monkeypatch, run_root, capsys):
    def interrupted_run(config, progress=None):
        raise KeyboardInterrupt

    lab = get_lab("gd1d")
    monkeypatch.setitem(registry(), "gd1d", dataclasses.replace(lab, compute=interrupted_run))
    assert main(["run", "gd1d", "--out", str(run_root)]) == EXIT_INTERRUPTED
    run_dir = only_dir(run_root / "gd1d")
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "interrupted"
    assert (run_dir / "config.json").is_file()
    assert str(run_dir) in capsys.readouterr().err


def test_ctrl_c_during_training_keeps_the_steps_done(run_root):
    lab = get_lab("quadfit")

    def progress(done, total, info):
        if done == 40:
            raise KeyboardInterrupt

    outcome = runner.run_one(lab, lab.config(), run_root, progress=progress)
    assert outcome.interrupted
    metrics = json.loads((outcome.path / "metrics.json").read_text())
    assert metrics["status"] == "interrupted"
    assert metrics["metrics"]["steps_run"] == 40
    assert (outcome.path / "figures" / "fit.png").is_file()


def test_same_config_same_metrics_through_the_cli(run_root):
    for _ in range(2):
        main(["run", "quadfit", "--quick", "--seed", "11", "--out", str(run_root)])
    a, b = (json.loads((d / "metrics.json").read_text())["metrics"]
            for d in sorted((run_root / "quadfit").iterdir()))
    assert a == b


@dataclasses.dataclass(kw_only=True)
class FakeOutcome(Outcome):
    x: float = metric()


def _no_notes(config, outcome) -> Notes:
    return Notes()


def test_interrupted_result_status_is_recorded(run_root):
    def half_done(config, progress=None):
        return FakeOutcome(x=1.0, status="interrupted")

    lab = Lab("fake", 1, "a fake lab", get_lab("gd1d").config, half_done, _no_notes, lambda c, o: {}, FakeOutcome)
    outcome = runner.run_one(lab, lab.config(), run_root)
    assert outcome.interrupted
    assert json.loads((outcome.path / "metrics.json").read_text())["status"] == "interrupted"


def test_real_sigint_during_training_exits_130_and_keeps_the_run(run_root):
    """A real Ctrl-C (SIGINT) sent to `dlsm run` mid-training: clean stop, status 130, results on disk."""
    import os
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "dlsm", "run", "quadfit", "steps=10000000", "--out", str(run_root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 60
    while not list((run_root / "quadfit").glob("*/config.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3.0)  # let it start training (imports and set-up take a moment on a loaded machine)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "Traceback" not in err and "interrupted" in err
    run_dir = only_dir(run_root / "quadfit")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "interrupted"
    assert 0 < metrics["metrics"]["steps_run"] < 10_000_000
    assert (run_dir / "figures" / "fit.png").is_file()


def test_options_may_precede_assignments_and_non_finite_metrics_stay_strict_json(run_root):
    code = main(["run", "gd2d", "--quick", "--out", str(run_root), "function=custom", "Q=1,2,2,1", "compare=no"])
    assert code == 0
    text = (only_dir(run_root / "gd2d") / "metrics.json").read_text()
    metrics = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON token {c}"))
    assert metrics["metrics"]["rate_theory"] == "inf"   # Q has a negative eigenvalue: no finite rate
    assert metrics["metrics"]["diverged"] is True


def test_config_records_the_thread_count(run_root):
    import torch

    assert main(["run", "gd1d", "steps=3", "--out", str(run_root)]) == 0
    config = json.loads((only_dir(run_root / "gd1d") / "config.json").read_text())
    assert config["threads"] == torch.get_num_threads()


def test_list_and_show_answer_from_the_index_without_importing_torch(tmp_path, monkeypatch):
    import os

    from dlsm import lab_index

    monkeypatch.setenv("DLSM_CACHE", str(tmp_path))
    assert set(lab_index.load()) == set(registry())  # builds the cache (this process has every lab imported)
    check = ("import sys; from dlsm.cli import main; main(['list']); main(['show', 'gd2d']); "
             "assert 'torch' not in sys.modules and 'numpy' not in sys.modules, 'imported torch or numpy'")
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                         env={**os.environ, "DLSM_CACHE": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert "gd1d" in out.stdout and "one of: gd, momentum, nesterov, adam" in out.stdout


def test_progress_bar_redraws_at_most_about_ten_times_a_second():
    import io

    from dlsm.cli import tqdm_progress

    sink = io.StringIO()
    progress = tqdm_progress("gates", file=sink, disable=False)
    for k in range(1, 3001):
        progress(k, 3000, {"loss": 1.0 / k})
    assert 0 < len(sink.getvalue()) < 20_000  # a redraw per step wrote 432 KB for 3,000 steps


def test_small_tables_are_printed_to_the_terminal(monkeypatch, run_root, capsys):
    from dlsm.result import Table

    def run(config, progress=None):
        small = Table(["x1", "x2", "y"], [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]])
        big = Table(["k"], [[k] for k in range(30)])
        return FakeOutcome(x=1.0, tables={"truth_table": small, "trajectory": big})

    lab = get_lab("gd1d")
    monkeypatch.setitem(registry(), "gd1d", Lab(lab.name, lab.lecture, lab.description, lab.config, run,
                                                _no_notes, lambda c, o: {}, FakeOutcome))
    assert main(["run", "gd1d", "--out", str(run_root)]) == 0
    out = capsys.readouterr().out
    assert "truth_table:" in out and "x1  x2  y" in out and "trajectory:" not in out


def test_report_follows_the_run_times_not_the_folder_times(run_root, tmp_path):
    import os

    main(["run", "gd2d", "steps=3", "compare=no", "--out", str(run_root)])
    main(["run", "gd1d", "steps=3", "--out", str(run_root)])
    later = 4_000_000_000  # touching the first run's files (a copy, an edit) must not move it
    for p in (run_root / "gd2d").rglob("*"):
        os.utime(p, (later, later))
    out = tmp_path / "report.html"
    assert main(["report", str(run_root), "-o", str(out)]) == 0
    html = out.read_text()
    assert html.index("<h2>gd2d") < html.index("<h2>gd1d")


def test_report_embeds_photos_as_jpeg_and_says_where_the_size_goes(tmp_path, capsys):
    import numpy as np
    from PIL import Image

    run_dir = tmp_path / "photos"
    (run_dir / "figures").mkdir(parents=True)
    record = {"lab": "classify", "config": {}, "created": "2025-01-01T00:00:00"}
    (run_dir / "config.json").write_text(json.dumps(record))
    (run_dir / "metrics.json").write_text(json.dumps({"status": "completed", "metrics": {}, "elapsed_s": 1.0}))
    pixels = np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    Image.fromarray(pixels).resize((600, 600)).save(run_dir / "figures" / "samples.png")
    png_size = (run_dir / "figures" / "samples.png").stat().st_size
    out = tmp_path / "report.html"
    assert main(["report", str(run_dir), "-o", str(out)]) == 0
    html = out.read_text()
    assert "data:image/jpeg;base64," in html and len(html) < png_size
    printed = capsys.readouterr().out
    assert "report size" in printed and "embedded figures" in printed and "largest sections: classify" in printed


def test_a_broken_lab_does_not_take_the_others_down(monkeypatch, tmp_path, capsys):
    """A lab module that fails to import is listed as broken; running it exits 1 with the error; others run."""
    import importlib

    import dlsm.labs as labs_pkg

    real_import = importlib.import_module

    def fake_import(name, *args):
        if name == "dlsm.labs.gates":
            raise ImportError("No module named 'missing_dependency'")
        return real_import(name, *args)

    monkeypatch.setattr(labs_pkg.importlib, "import_module", fake_import)
    monkeypatch.setattr(labs_pkg, "_BROKEN", {})
    monkeypatch.setenv("DLSM_CACHE", str(tmp_path / "cache"))
    labs_pkg.registry.cache_clear()
    try:
        assert main(["list"]) == 0
        out = capsys.readouterr().out
        assert "gates" in out and "cannot be loaded: ImportError: No module named 'missing_dependency'" in out
        assert "gd2d" in out
        assert main(["run", "gates", "--out", str(tmp_path / "runs")]) == 1
        assert "lab 'gates' cannot be loaded (ImportError" in capsys.readouterr().err
        assert main(["run", "gd1d", "--out", str(tmp_path / "runs")]) == 0
    finally:
        labs_pkg.registry.cache_clear()


def test_a_closed_pipe_ends_quietly():
    """`dlsm list | head -1`: the reader closes the pipe; dlsm ends with status 0 and says nothing."""
    proc = subprocess.Popen([sys.executable, "-m", "dlsm", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # closed before dlsm writes: its first write fails with EPIPE
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, stderr
    assert stderr == ""


def test_a_run_names_its_folder_when_it_starts(run_root, capsys):
    assert main(["run", "gd1d", "--quick", "--out", str(run_root)]) == 0
    out = capsys.readouterr().out.splitlines()
    folder = next(run_root.glob("gd1d/*"))
    assert str(folder) in out[0]


def test_an_unknown_key_is_answered_before_torch_is_imported(tmp_path):
    env = {**os.environ, "DLSM_CACHE": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-m", "dlsm", "list"], env=env, capture_output=True, check=True, timeout=300)
    code = ("import sys\nfrom dlsm.cli import main\nstatus = main(['run', 'sparse', 'foo=1'])\n"
            "print(status, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["2", "False"], done.stdout + done.stderr
    assert "foo" in done.stderr and "lam_fracs" in done.stderr  # names the valid keys
