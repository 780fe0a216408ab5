"""The playground: a control for every setting of every lab, derived from its typed Config, and the widgets
that run the lab and show its figures, metrics and notes (ipywidgets, without a browser)."""

from __future__ import annotations

import pytest

from dlsm.config import literal_choices, strip_optional
from dlsm.controls import control, controls, log_integers
from dlsm.errors import ConfigError
from dlsm.labs import get_lab, registry

LABS = sorted(registry())


def _bounds(spec):
    lo = spec.ge if spec.ge is not None else spec.gt
    hi = spec.le if spec.le is not None else spec.lt
    return lo, hi


def _inside(spec, x: float) -> bool:
    return ((spec.ge is None or x >= spec.ge) and (spec.gt is None or x > spec.gt)
            and (spec.le is None or x <= spec.le) and (spec.lt is None or x < spec.lt))


@pytest.mark.parametrize("name", LABS)
def test_every_setting_of_every_lab_gets_a_control_whose_range_and_choices_are_the_configs(name):
    lab = get_lab(name)
    for size in ("course", "quick"):
        config = lab.config.make(size)
        made = {c.name: c for c in controls(config, name)}
        assert list(made) == lab.config.keys()
        for spec in lab.config.specs():
            c, value = made[spec.name], getattr(config, spec.name)
            assert c.value == value and c.help
            choices = literal_choices(spec.type)
            optional = strip_optional(spec.type) is not spec.type
            if choices is not None:
                assert c.kind == "dropdown" and c.options == tuple(choices) + ((None,) if optional else ())
            elif strip_optional(spec.type) is bool:
                assert c.kind == ("dropdown" if optional else "checkbox")
            elif c.kind in ("slider", "int_slider"):
                assert _inside(spec, c.low) and _inside(spec, c.high) and c.low <= value <= c.high
            elif c.kind == "log_slider":
                lo, hi = 10**c.low, 10**c.high
                assert _inside(spec, lo) and _inside(spec, hi) and lo <= value <= hi
                low, high = _bounds(spec)
                if low is not None and high is not None:  # bounded: a log scale only over two decades or more,
                    assert low > 0 and high / low >= 100 or value < low + (high - low) / 100  # or for a tiny value
            elif c.kind == "int_choice":
                assert all(_inside(spec, k) for k in c.options) and value in c.options
            else:
                assert c.kind in ("number", "text")


def test_the_rules_for_numbers():
    from dlsm.config import ParamSpec

    def spec(tp, **bounds):
        full = {"ge": None, "gt": None, "le": None, "lt": None, **bounds}
        return ParamSpec("k", tp, None, "help", length=None, **full)

    log = control(spec(float, gt=0.001, le=10), 0.1)
    assert log.kind == "log_slider" and log.high == 1.0 and log.low == pytest.approx(-2.95)  # 10 ** -3 open: inside
    one_side = control(spec(float, gt=0), 0.18)  # α: two decades either side of the course's value
    assert one_side.kind == "log_slider" and (10**one_side.low, 10**one_side.high) == pytest.approx((0.0018, 18))
    lin = control(spec(float, ge=0, le=1), 0.5)
    assert (lin.kind, lin.low, lin.high, lin.step) == ("slider", 0, 1, 0.01)
    assert control(spec(float, ge=-1, lt=1), 0.0).high == pytest.approx(0.98)  # the open end one step inside
    assert control(spec(int, ge=1, le=50), 3).kind == "int_slider"
    steps = control(spec(int, ge=1, le=100_000), 300)
    assert steps.kind == "int_choice" and (steps.options[0], steps.options[-1]) == (1, 100_000)
    assert 300 in steps.options
    assert control(spec(int, ge=0), 0).kind == "number" and control(spec(float), 1.0).kind == "number"
    grid = log_integers(10, 10_000, 300)
    ratios = [b / a for a, b in zip(grid, grid[1:], strict=False)]
    assert max(ratios) < 1.2 and min(ratios) > 1.0  # about 20 a decade, increasing
    assert control(spec(float | None, gt=0), None).kind == "text"


@pytest.fixture
def japanese(monkeypatch):
    from dlsm import i18n

    monkeypatch.setenv(i18n.ENV_VAR, "ja")
    monkeypatch.setattr(i18n, "_language", None)


def test_gd2d_playground_is_live_shows_the_labs_notes_and_a_bad_value_beside_its_control(japanese):
    pytest.importorskip("ipywidgets")
    from dlsm.playground import playground

    lab = get_lab("gd2d")
    p = playground("gd2d", size="quick", function="course")
    assert "function" not in p.widgets  # a fixed setting has no control
    assert p.config() == lab.config.make("quick", function="course")
    assert p.live, "gd2d runs in well under a second: every change re-runs it"
    assert len(p.figures.children) == len(p.result.figures) > 0
    p.widgets["lr"].value = 0.3  # beyond 2/λmax = 0.2
    p.wait()
    diverged = lab.run(lab.config.make("quick", function="course", lr=0.3), figures=False)
    assert p.result.config.lr == 0.3 and p.result.metrics == diverged.metrics
    assert all(note.replace(">", "&gt;").replace("<", "&lt;") in p.notes.value for note in diverged.notes)
    assert "発散" in p.notes.value
    p.widgets["x0"].value = "1"  # x0 needs two numbers
    with pytest.raises(ConfigError) as cli_error:
        lab.config.make("quick", function="course", x0=(1.0,))
    assert str(cli_error.value).replace("'", "&#x27;") in p.errors["x0"].value
    assert p.result.config.lr == 0.3, "a bad value does not run"


def test_stop_keeps_what_the_training_did_and_keep_writes_a_run_folder(tmp_path, monkeypatch):
    pytest.importorskip("ipywidgets")
    from dlsm import notebook
    from dlsm.playground import playground

    monkeypatch.setattr(notebook, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(notebook, "_kept", [])
    p = playground("gates", size="quick", start=False)
    assert p.result is None and not p.live
    p.stop()  # pressed before the first step: the run stops at its first progress report
    config = p.config()
    p._run(config)  # what the Run button's thread does, here in the foreground
    full = get_lab("gates").run(config, figures=False)
    # the training loop caught the stop: an interrupted run that keeps the steps it made
    assert p.result.status == "interrupted" and p.result.metrics != full.metrics
    p._stop.clear()
    p._run(config)
    assert p.result.status == "completed" and p.result.metrics == full.metrics
    folder = p.keep()
    assert folder.parent == tmp_path / "runs" / "gates" and (folder / "metrics.json").is_file()
    assert notebook.kept() == [folder]
