"""Typed parsing of key=value and sweep detection."""

from __future__ import annotations

import pytest

from dlsm.cli import parse_assignments
from dlsm.errors import ConfigError
from dlsm.labs.gd2d import Config as GD2D


def test_scalars_tuples_choices_bools():
    fixed, key, values = parse_assignments(
        GD2D, ["lr=0.2", "x0=4,1", "optimizer=adam", "compare=no", "steps=1e2"])
    assert fixed == {"lr": 0.2, "x0": (4.0, 1.0), "optimizer": "adam", "compare": False, "steps": 100}
    assert key is None and values == []


def test_comma_list_on_scalar_key_is_a_sweep():
    fixed, key, values = parse_assignments(GD2D, ["lr=0.2,0.05,0.005", "steps=30"])
    assert fixed == {"steps": 30}
    assert key == "lr" and values == [0.2, 0.05, 0.005]


def test_repeated_tuple_key_is_a_sweep_and_commas_stay_elements():
    _, key, values = parse_assignments(GD2D, ["x0=4,1", "x0=4,0"])
    assert key == "x0" and values == [(4.0, 1.0), (4.0, 0.0)]


@pytest.mark.parametrize(
    ("items", "fragment"),
    [
        (["lrx=1"], "unknown key 'lrx'"),
        (["lr"], "expected key=value"),
        (["steps=ten"], "steps: cannot read 'ten' as int"),
        (["compare=maybe"], "compare: cannot read 'maybe' as bool"),
        (["optimizer=sgd"], "optimizer: got 'sgd'; allowed: one of: gd, momentum, nesterov, adam"),
    ],
)
def test_bad_input_messages(items, fragment):
    with pytest.raises(ConfigError) as err:
        parse_assignments(GD2D, items)
    assert fragment in str(err.value)
