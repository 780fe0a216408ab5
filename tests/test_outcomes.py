"""Each lab declares its metrics as the typed fields of its Outcome, with a unit beside each, and the
glossary gives each one meaning in English and Japanese. Checked on the quick runs of
tests/test_conformance.py (each lab runs once per session), so a metric that a lab computes but does not
declare, or declares without a meaning, fails here with its name.
"""

from __future__ import annotations

import dataclasses

import pytest

from dlsm import i18n
from dlsm.outcome import Notes, Outcome, describe_metric, metric
from dlsm.status import Status
from test_conformance import LABS, NAMES, completed_run


@pytest.mark.parametrize("name", NAMES)
def test_every_metric_is_declared_with_a_unit_and_a_meaning_in_both_languages(name):
    result = completed_run(name).result
    lab = LABS[name]
    assert isinstance(result.outcome, lab.outcome), f"{name}: compute returned {type(result.outcome).__name__}"
    plain = {s.name for s in lab.outcome.metric_specs() if not s.family}
    undeclared = [m for m in result.metrics if m not in plain and lab.outcome.family_of(m) is None]
    assert not undeclared, f"{name}: metrics not declared as fields (or families) of its Outcome: {undeclared}"
    units = i18n.glossary()
    bad_units = sorted({s.unit for s in lab.outcome.metric_specs() if s.unit and f"unit.{s.unit}" not in units})
    assert not bad_units, f"{name}: units missing from [unit] of glossary.toml: {bad_units}"
    for lang in i18n.LANGUAGES:
        with i18n.language(lang):
            missing = [m for m in result.metrics if not describe_metric(name, m, lab.outcome)[0]]
        assert not missing, (f"{name}: metrics without a meaning in {lang} (add [{name}.metric.<name>] to "
                             f"src/dlsm/glossary/{name}.toml): {missing}")


@pytest.mark.parametrize("name", NAMES)
def test_the_outcome_reads_as_attributes_and_keeps_the_metrics_keys(name):
    result = completed_run(name).result
    for key, value in result.metrics.items():
        if key in {f.name for f in dataclasses.fields(result.outcome)}:
            assert getattr(result.outcome, key) == value or value != value  # NaN
            assert getattr(result, key) == value or value != value
    assert list(LABS[name].headline) == [h for h in LABS[name].headline if h in result.metrics]


def test_metric_declarations_families_and_skipped_none():
    @dataclasses.dataclass(kw_only=True)
    class Example(Outcome):
        families = {"err_t{t}": "dB"}
        loss: float = metric("loss", headline=True)
        optional: float | None = metric(default=None, skip_none=True)
        flag: bool = metric()

    out = Example(loss=0.5, flag=True, extra={"err_t10": -3.0})
    assert out.metrics == {"loss": 0.5, "flag": True, "err_t10": -3.0}  # declaration order, then the family
    assert Example.headline() == ("loss",)
    assert Example.family_of("err_t10") == ("err_t{t}", {"t": "10"})
    assert Example.family_of("err_x") is None
    assert out.status == Status.COMPLETED
    with pytest.raises(ValueError, match="no declared family"):
        Example(loss=1.0, flag=False, extra={"other": 1.0})
    with i18n.language("en"):
        # a shared meaning (common.metric.diverged), and the unit in words
        assert describe_metric("anylab", "diverged")[0].startswith("True when")
        assert describe_metric("anylab", "loss", Example) == ("", "loss")
    with i18n.language("ja"):
        assert describe_metric("anylab", "err_t10", Example)[1] == "dB"
        assert describe_metric("anylab", "loss", Example)[1] == "損失"
    assert Notes(["a"], ["b"]).all() == ["a", "b"]
