"""Every metric of every registered lab has a one-line meaning and a unit (dlsm.metric_info).

The metrics are those of the quick runs of tests/test_conformance.py (each lab runs once per session);
a new lab fails here, with the list of its metrics that still need a line in src/dlsm/metric_info.py.
"""

from __future__ import annotations

import pytest

from dlsm import metric_info
from dlsm.metric_info import describe, lookup, missing
from test_conformance import NAMES, completed_run


@pytest.mark.parametrize("name", NAMES)
def test_every_metric_of_the_lab_has_a_meaning(name):
    metrics = completed_run(name).result.metrics
    undescribed = missing(name, list(metrics))
    assert not undescribed, (
        f"{name}: metrics without a meaning (add them to LAB_METRICS[{name!r}] in src/dlsm/metric_info.py): "
        + ", ".join(undescribed))


def all_entries():
    yield from (("*", k, v) for k, v in metric_info.METRICS.items())
    for lab, entries in metric_info.LAB_METRICS.items():
        yield from ((lab, k, v) for k, v in entries.items())


def test_entries_are_one_line_with_a_unit():
    for lab, name, entry in all_entries():
        assert isinstance(entry, tuple) and len(entry) == 2, f"{lab}.{name}: expected (meaning, unit)"
        meaning, unit = entry
        assert meaning.strip() and "\n" not in meaning and len(meaning) <= 140, f"{lab}.{name}: {meaning!r}"
        assert isinstance(unit, str) and "\n" not in unit, f"{lab}.{name}: unit {unit!r}"


def test_describe_shared_per_lab_and_family_names():
    assert describe("classify", "test_accuracy") == metric_info.METRICS["test_accuracy"]
    assert describe("anylab", "nmse_db")[1] == "dB"
    # the same name means different things in two labs
    assert describe("autograd", "max_abs_error") != describe("gates", "max_abs_error")
    meaning, unit = describe("linreg", "excess")
    assert "least-squares" in meaning and unit == "ratio"
    assert "zero forcing" in describe("mimo", "ser_zf")[0]
    assert describe("unfold", "lista_nmse_db")[1] == "dB"
    assert "standard deviation" in describe("unfold", "tista_nmse_db_std")[0]
    assert lookup("gd1d", "no_such_metric") is None
    with pytest.raises(KeyError, match="metric_info.py"):
        describe("gd1d", "no_such_metric")
