"""Sweeps: grids over several keys, ranges, seeds with mean/std/95 % CI, figures, and the same numbers whether
the runs go one after another, in a process pool, or on Ray."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sys
from pathlib import Path

import pytest

from dlsm import sweeps
from dlsm.cli import main, parse_grid
from dlsm.errors import ConfigError
from dlsm.labs import get_lab
from dlsm.labs.gd2d import Config as GD2D
from dlsm.labs.quadfit import Config as QUADFIT
from dlsm.sweeps import RAY_HINT, expand, mean_std_ci


def only_dir(path: Path) -> Path:
    (d,) = [p for p in path.iterdir() if p.is_dir()]
    return d


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def numbers(sweep_dir: Path) -> list[dict]:
    """Every run's row of runs.csv, without the time (the numbers that must not depend on the executor)."""
    return [{k: v for k, v in row.items() if k != "time_s"} for row in read_rows(sweep_dir / "runs.csv")]


def test_grid_of_several_keys_ranges_and_lists():
    fixed, grid = parse_grid(QUADFIT, ["lr=0.1:0.5:0.1", "n=10:20:5,40", "steps=30", "x_min=-2"])
    assert fixed == {"steps": 30, "x_min": -2.0}
    assert grid == {"lr": [0.1, 0.2, 0.3, 0.4, 0.5], "n": [10, 15, 20, 40]}  # stop included, no 0.30000000000000004
    _, grid = parse_grid(GD2D, ["x0=4,1", "x0=0,1", "lr=0.2,0.1"])
    assert grid == {"x0": [(4.0, 1.0), (0.0, 1.0)], "lr": [0.2, 0.1]}
    _, grid = parse_grid(QUADFIT, ["steps=20:0:-10"])
    assert grid == {"steps": [20, 10, 0]} or pytest.fail("descending ranges")


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ("n=10:20:0", "never reaches its stop"),
        ("n=20:10:5", "never reaches its stop"),
        ("n=1:2:0.5", "non-integer values"),
        ("lr=0.1:x", "cannot read the range"),
        ("n=0:100000:1", "at most 1000"),
    ],
)
def test_bad_ranges_name_the_key(item, fragment):
    with pytest.raises(ConfigError) as err:
        parse_grid(QUADFIT, [item])
    assert fragment in str(err.value) and item.split("=")[0] in str(err.value)


def test_points_and_seeds():
    points, seeds = expand(QUADFIT, {"seed": 7}, {"lr": [0.1, 0.2], "n": [10]}, seeds=3)
    assert seeds == [7, 8, 9]
    assert points[:4] == [{"lr": 0.1, "n": 10, "seed": 7}, {"lr": 0.1, "n": 10, "seed": 8},
                          {"lr": 0.1, "n": 10, "seed": 9}, {"lr": 0.2, "n": 10, "seed": 7}]
    with pytest.raises(ConfigError, match="use one of them"):
        expand(QUADFIT, {}, {"seed": [1, 2]}, seeds=2)


def test_mean_std_and_student_t_interval():
    mean, std, ci = mean_std_ci([1.0, 2.0, 4.0])
    assert mean == pytest.approx(7 / 3)
    assert std == pytest.approx(math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2))
    assert ci == pytest.approx(4.302652729911275 * std / math.sqrt(3))  # t_{0.975, 2}


def test_grid_with_seeds_through_the_cli(run_root, capsys):
    argv = ["run", "quadfit", "--quick", "lr=0.1,0.5", "n=20,40", "steps=60", "--seeds", "3", "--jobs", "1",
            "--out", str(run_root)]
    assert main(argv) == 0
    sweep_dir = only_dir(run_root / "quadfit")
    meta = json.loads((sweep_dir / "sweep.json").read_text())
    assert meta["keys"] == ["lr", "n", "seed"] and meta["seeds"] == [0, 1, 2] and meta["completed"] is True
    assert meta["runs"][0] == "lr=0.1__n=20__seed=0" and len(meta["runs"]) == 12
    runs = read_rows(sweep_dir / "runs.csv")
    comparison = read_rows(sweep_dir / "comparison.csv")
    assert len(runs) == 12 and len(comparison) == 4
    first = comparison[0]
    assert (first["lr"], first["n"], first["runs"], first["status"]) == ("0.1", "20", "3", "completed")
    values = [float(r["loss_final"]) for r in runs[:3]]
    mean, std, ci = mean_std_ci(values)
    assert float(first["loss_final_mean"]) == pytest.approx(mean)
    assert float(first["loss_final_std"]) == pytest.approx(std) and float(first["loss_final_ci95"]) == pytest.approx(ci)
    figures = {p.stem for p in (sweep_dir / "figures").glob("*.png")}
    assert {"loss_final_over_lr", "overlay_loss_gap"} <= figures
    assert not list(sweep_dir.glob("*/figures"))  # per-run figures only with --figures
    out = capsys.readouterr().out
    assert f"{mean:.4g} ± {ci:.2g}" in out  # the terminal shows mean ± 95 % CI per grid point
    assert "95 % confidence interval over the 3 seeds" in out  # and says what ± is


def test_process_pool_gives_the_serial_numbers(run_root):
    lab = get_lab("quadfit")
    grid = {"lr": [0.1, 0.5]}
    serial = sweeps.sweep_grid(lab, {"steps": 40}, grid, run_root / "serial", "quick", seeds=2, jobs=1)
    pooled = sweeps.sweep_grid(lab, {"steps": 40}, grid, run_root / "pool", "quick", seeds=2, jobs=2)
    assert numbers(serial.path) == numbers(pooled.path)
    assert [r.path.name for r in pooled.runs] == [r.path.name for r in serial.runs]
    threads = {json.loads((r.path / "config.json").read_text())["threads"] for r in pooled.runs}
    assert threads == {1}


def test_ray_gives_the_process_pool_numbers(run_root):
    ray = pytest.importorskip("ray")
    lab = get_lab("quadfit")
    grid = {"lr": [0.1, 0.5]}
    pooled = sweeps.sweep_grid(lab, {"steps": 40}, grid, run_root / "pool", "quick", seeds=2, jobs=2)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # Ray's node start gives up after 30 s on an overloaded machine: not our code
        ray.shutdown()
        pytest.skip(f"a local Ray instance did not start: {exc}")
    try:
        on_ray = sweeps.sweep_grid(lab, {"steps": 40}, grid, run_root / "ray", "quick", seeds=2, executor="ray")
    finally:
        ray.shutdown()
    assert numbers(on_ray.path) == numbers(pooled.path)


def test_ray_missing_exits_2_and_says_how_to_install(run_root, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert main(["run", "gd1d", "lr=0.1,0.2", "--executor", "ray", "--out", str(run_root)]) == 2
    assert 'pip install "dlsm[cluster]"' in capsys.readouterr().err and RAY_HINT
    assert not run_root.exists()  # nothing was started


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(run_root, monkeypatch, capsys):
    from dlsm.errors import DataError
    from dlsm.labs import registry

    lab = get_lab("gd1d")

    def compute(config, progress=None):
        if config.lr > 0.15:
            raise DataError("the data file is corrupt")
        return lab.compute(config, progress)

    monkeypatch.setitem(registry(), "gd1d", dataclasses.replace(lab, compute=compute))
    assert main(["run", "gd1d", "lr=0.1,0.2", "--jobs", "1", "--out", str(run_root)]) == 1
    assert "failed: lr=0.2: the data file is corrupt" in capsys.readouterr().err
    sweep_dir = only_dir(run_root / "gd1d")
    failed = json.loads((sweep_dir / "lr=0.2" / "metrics.json").read_text())
    assert failed["status"] == "failed" and "corrupt" in failed["error"]
    assert [r["status"] for r in read_rows(sweep_dir / "comparison.csv")] == ["completed", "failed"]
    out = run_root / "report.html"
    assert main(["report", str(sweep_dir), "-o", str(out)]) == 0
    html = out.read_text()
    assert "<td>failed</td>" in html and "the data file is corrupt" in html


class _Ref:
    value = None


class _FakeRay:
    """Ray's task API, run in this process: checks the executor's wiring where no Ray instance can start."""

    def __init__(self):
        self.started, self.calls = False, []

    def is_initialized(self):
        return self.started

    def init(self, address=None, **kwargs):
        self.started, self.address = True, address

    def remote(self, num_cpus=1):
        def wrap(fn):
            class Remote:
                @staticmethod
                def remote(*args):
                    self.calls.append(num_cpus)
                    ref = _Ref()
                    ref.value = fn(*args)
                    return ref
            return Remote
        return wrap

    def wait(self, pending, num_returns=1):
        return pending[-num_returns:], pending[:-num_returns]  # out of order on purpose

    def get(self, ref):
        return ref.value

    def cancel(self, ref):
        pass


def test_ray_executor_wiring_with_a_stand_in(run_root, monkeypatch):
    fake = _FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    lab = get_lab("quadfit")
    serial = sweeps.sweep_grid(lab, {"steps": 20}, {"lr": [0.1, 0.5]}, run_root / "serial", "quick")
    on_ray = sweeps.sweep_grid(lab, {"steps": 20}, {"lr": [0.1, 0.5]}, run_root / "ray", "quick",
                               executor="ray", address="ray://head:10001")
    assert fake.address == "ray://head:10001" and fake.calls == [1, 1]
    assert numbers(on_ray.path) == numbers(serial.path)  # in grid order although they finished out of order


def test_sweep_figures_leave_out_what_is_the_same_at_every_point_and_speak_japanese(tmp_path, monkeypatch):
    """Runs that differ only in how they sample share one training: its loss curve and the schedule's ᾱ_T are
    the same at every point, so they get no figure (four curves on top of each other say nothing)."""
    from dlsm import i18n
    from dlsm.sweep_tables import metric_figures, overlay_figures

    monkeypatch.setenv(i18n.ENV_VAR, "ja")
    monkeypatch.setattr(i18n, "_language", None)
    lab = get_lab("diffusion")
    grid = sweeps.sweep(lab, {}, "sample_steps", [5, 10], root=tmp_path, size="quick")
    a, b = (r.result for r in grid.runs)
    assert (a.curves["loss"].y == b.curves["loss"].y).all() and a.metrics["alpha_bar_T"] == b.metrics["alpha_bar_T"]
    assert a.metrics["precision"] != b.metrics["precision"]
    drawn = {p.stem for p in (grid.path / "figures").glob("*.png")}
    assert "precision_over_sample_steps" in drawn
    assert not {"overlay_loss", "alpha_bar_T_over_sample_steps", "steps_over_sample_steps"} & drawn
    assert overlay_figures("sample_steps", grid.runs) == {}
    title = metric_figures(lab, ["sample_steps"], grid.runs)["precision_over_sample_steps"].axes[0].get_title()
    assert title == "sample_steps を変えたときの precision"
