"""Every lab in the registry keeps the lab contract, at quick size (new labs are covered as they are added).

Per lab: the metrics are JSON scalars with ``diverged`` a bool and every headline metric present (``None``
only with a note that names it); ``result.status`` is a :class:`dlsm.status.Status`; metrics and notes
survive a JSON round trip through :func:`dlsm.runs.write_json`; figures are standalone matplotlib Figures
(no pyplot figure is left open) that render; two runs with the same config and seed give the same metrics
(wall-clock ones such as ``train_seconds`` aside); no figures are drawn with ``figures=False``; the
computation (``compute``) returns the lab's Outcome and draws no figure; a bad value on the command line exits
with status 2.

Each lab runs once with figures (cached for the whole session and shared with tests/test_global_rng.py)
and once without figures (the determinism check).
"""

from __future__ import annotations

import importlib
import io
import json
import math
import pkgutil
import re
import time
import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import dlsm.labs
from dlsm.cli import main
from dlsm.labs import Lab
from dlsm.result import Result
from dlsm.runs import write_json
from dlsm.status import Status

#: Wall-clock metrics (``train_seconds``, ``elapsed_s``) differ between runs by nature: not compared.
TIMING = re.compile(r"(^|_)(seconds|elapsed_s|time_s)$")
SLOW_S = 20.0  # a quick run should take a few seconds; slower ones are flagged with a warning


def discover() -> tuple[dict[str, Lab], dict[str, str]]:
    """The labs of dlsm.labs by name, and the modules that fail to import (each becomes a failing case)."""
    labs: dict[str, Lab] = {}
    broken: dict[str, str] = {}
    for info in pkgutil.iter_modules(dlsm.labs.__path__):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"dlsm.labs.{info.name}")
        except Exception as exc:  # a lab in progress must not hide the others
            broken[info.name] = f"{type(exc).__name__}: {exc}"
            continue
        lab = getattr(module, "LAB", None)
        if isinstance(lab, Lab):
            labs[lab.name] = lab
    return labs, broken


LABS, BROKEN = discover()
NAMES = sorted(LABS, key=lambda n: (LABS[n].lecture, n)) + sorted(BROKEN)


@dataclass
class QuickRun:
    """One quick-size run of a lab, with what it did to the process's global state."""

    name: str
    result: Result | None = None
    error: str | None = None
    elapsed_s: float = 0.0
    torch_rng_changed: bool = False
    numpy_rng_changed: bool = False
    leaked_pyplot_figures: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _numpy_global_state() -> tuple:
    return np.random.get_state()  # noqa: NPY002  (the legacy global state is what is checked)


def _numpy_state_equal(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y for x, y in zip(a, b, strict=True))


@cache
def quick_run(name: str) -> QuickRun:
    """Run lab ``name`` at quick size once per test session (figures drawn, outside any run session)."""
    record = QuickRun(name)
    if name in BROKEN:
        record.error = f"the module dlsm.labs.{name} does not import: {BROKEN[name]}"
        return record
    lab = LABS[name]
    torch_state, numpy_state = torch.get_rng_state(), _numpy_global_state()
    figures_before = set(plt.get_fignums())
    t0 = time.perf_counter()
    try:
        record.result = lab.run(lab.config.make("quick"))
    except Exception as exc:
        record.error = f"the quick run raised {type(exc).__name__}: {exc}"
    record.elapsed_s = time.perf_counter() - t0
    record.torch_rng_changed = not torch.equal(torch_state, torch.get_rng_state())
    record.numpy_rng_changed = not _numpy_state_equal(numpy_state, _numpy_global_state())
    leaked = set(plt.get_fignums()) - figures_before
    record.leaked_pyplot_figures = len(leaked)
    for num in leaked:
        plt.close(num)
    torch.set_rng_state(torch_state)  # one offender must not change what the next lab sees
    np.random.set_state(numpy_state)  # noqa: NPY002  (restoring the global state that is checked)
    if record.elapsed_s > SLOW_S:
        warnings.warn(f"{name}: the quick run took {record.elapsed_s:.1f} s (> {SLOW_S:g} s); make --quick smaller",
                      stacklevel=1)
    return record


def completed_run(name: str) -> QuickRun:
    record = quick_run(name)
    if record.error:
        pytest.fail(f"{name}: {record.error}")
    return record


def jsonable(value: Any) -> Any:
    """What write_json turns a value into: non-finite floats become the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


# ----- the tests --------------------------------------------------------------------------------------
def test_the_registry_finds_every_lab():
    assert not BROKEN, f"lab modules that do not import: {BROKEN}"
    assert set(dlsm.labs.registry()) == set(LABS)


@pytest.mark.parametrize("name", NAMES)
def test_quick_run_completes(name):
    record = completed_run(name)
    assert isinstance(record.result, Result), f"{name}: run returned {type(record.result).__name__}, not a Result"


@pytest.mark.parametrize("name", NAMES)
def test_metrics_schema(name):
    result = completed_run(name).result
    lab = LABS[name]
    metrics = result.metrics
    assert isinstance(metrics, dict) and all(isinstance(k, str) for k in metrics), f"{name}: metric names must be str"
    bad = {k: type(v).__name__ for k, v in metrics.items()
           if not (v is None or type(v) in (bool, int, float, str))}
    assert not bad, f"{name}: metrics must be plain JSON scalars (int/float/bool/str/None; use float(), int()): {bad}"
    assert "diverged" in metrics, f"{name}: the metric 'diverged' is missing (it is always present)"
    assert type(metrics["diverged"]) is bool, f"{name}: diverged must be a bool, got {metrics['diverged']!r}"
    missing = [h for h in lab.headline if h not in metrics]
    assert not missing, f"{name}: headline metrics missing (use None with a note when undefined): {missing}"
    unexplained = [h for h in lab.headline if metrics[h] is None and not any(h in note for note in result.all_notes)]
    assert not unexplained, (
        f"{name}: headline metrics are None without a note naming them and saying why: {unexplained}")
    assert all(isinstance(n, str) for n in result.all_notes), f"{name}: notes must be strings"


@pytest.mark.parametrize("name", NAMES)
def test_status_is_a_status(name):
    result = completed_run(name).result
    assert isinstance(result.status, Status), (
        f"{name}: result.status is {result.status!r} ({type(result.status).__name__}); use dlsm.status.Status")
    if result.status == Status.DIVERGED:
        assert result.metrics.get("diverged") is True, f"{name}: status diverged but metric diverged is not True"


@pytest.mark.parametrize("name", NAMES)
def test_json_round_trip(name, tmp_path):
    result = completed_run(name).result
    payload = {"status": result.status, "metrics": result.metrics, "notes": result.notes,
               "explanations": result.explanations}
    write_json(tmp_path / "metrics.json", payload)
    back = json.loads((tmp_path / "metrics.json").read_text())
    assert back["status"] == str(result.status)
    assert back["metrics"] == jsonable(dict(result.metrics)), f"{name}: metrics change in a JSON round trip"
    assert back["notes"] == list(result.notes)
    assert back["explanations"] == list(result.explanations)


@pytest.mark.parametrize("name", NAMES)
def test_figures_are_standalone_and_render(name):
    record = completed_run(name)
    assert record.leaked_pyplot_figures == 0, (
        f"{name}: the run left {record.leaked_pyplot_figures} pyplot figure(s) open; build figures with "
        "dlsm.plotting.new_figure (matplotlib.figure.Figure), never pyplot")
    for key, fig in record.result.figures.items():
        assert isinstance(fig, Figure), f"{name}: figure {key!r} is a {type(fig).__name__}, not a Figure"
        fig.savefig(io.BytesIO(), format="png", dpi=20)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_metrics_and_no_figures_when_not_wanted(name):
    first = completed_run(name).result
    lab = LABS[name]
    second = lab.run(lab.config.make("quick"), figures=False)
    a, b = ({k: v for k, v in jsonable(dict(r.metrics)).items() if not TIMING.search(k)} for r in (first, second))
    differ = {k: (a.get(k, "<missing>"), b.get(k, "<missing>")) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    assert not differ, (f"{name}: two runs with the same config and seed (the second without figures) give different "
                        f"metrics (first, second): {differ}")
    assert not second.figures, f"{name}: drew figures {sorted(second.figures)} with figures=False"


@pytest.mark.parametrize("name", sorted(LABS, key=lambda n: (LABS[n].lecture, n)))
def test_compute_returns_the_outcome_and_draws_nothing(name, monkeypatch):
    """Computing apart from reporting: ``compute`` makes no Figure and writes no note (it has no prose to
    return: its Outcome holds numbers, tables, curves and artifacts)."""
    lab = LABS[name]
    made = []
    original = Figure.__init__

    def counting_init(self, *args, **kwargs):
        made.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "__init__", counting_init)
    outcome = lab.compute(lab.config.make("quick"))
    assert isinstance(outcome, lab.outcome), f"{name}: compute returned {type(outcome).__name__}"
    assert not made, f"{name}: compute made {len(made)} figure(s); draw them in the lab's figures()"
    assert not hasattr(outcome, "notes"), f"{name}: the Outcome holds notes; write them in the lab's notes()"


@pytest.mark.parametrize("name", sorted(LABS, key=lambda n: (LABS[n].lecture, n)))
@pytest.mark.parametrize("assignment", ["seed=-1", "no_such_key=1"])
def test_bad_value_exits_2(name, assignment, tmp_path, capsys):
    status = main(["run", name, assignment, "--quick", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2, f"{name}: `dlsm run {name} {assignment}` returned {status}, expected 2"
    assert assignment.split("=")[0] in err and "Traceback" not in err
