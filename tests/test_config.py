"""The lab contract: typed fields, validation messages, presets, JSON round trip."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from typing import Literal

import pytest

from dlsm.config import LabConfig, param
from dlsm.errors import ConfigError


@dataclass(frozen=True)
class Toy(LabConfig):
    lr: float = param(0.1, "step", gt=0)
    steps: int = param(10, "steps", ge=1, le=100)
    x0: tuple[float, ...] = param((4.0, 1.0), "start", length=2)
    kind: Literal["a", "b"] = param("a", "which")
    flag: bool = param(True, "a switch")
    width: int | None = param(None, "optional width", ge=1)

    quick = {"steps": 2}


def test_defaults_presets_and_coercion():
    assert Toy().lr == 0.1
    assert Toy.make("quick").steps == 2
    assert Toy.make("quick", steps=5).steps == 5
    c = Toy(lr=1)  # an int is accepted for a float field and stored as float
    assert isinstance(c.lr, float)
    with pytest.raises(FrozenInstanceError):
        c.lr = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"lr": 0.0}, "lr: got 0.0; allowed: float > 0"),
        ({"steps": 0}, "steps: got 0; allowed: int >= 1 and <= 100"),
        ({"steps": 2.5}, "steps: got 2.5"),
        ({"x0": (1.0,)}, "x0: expected 2 elements"),
        ({"kind": "c"}, "kind: got 'c'; allowed: one of: a, b"),
        ({"flag": 1}, "flag: got 1; allowed: bool"),
        ({"width": 0}, "allowed: int >= 1 (or none)"),
        ({"lr": float("nan")}, "lr: got nan"),
    ],
)
def test_invalid_values_name_key_value_and_allowed(kwargs, fragment):
    with pytest.raises(ConfigError) as err:
        Toy(**kwargs)
    assert fragment in str(err.value)
    assert err.value.key == next(iter(kwargs))


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ConfigError) as err:
        Toy.make(lrr=0.1)
    assert "unknown key 'lrr'" in str(err.value)
    assert "lr, steps, x0, kind, flag, width" in str(err.value)


def test_json_round_trip():
    c = Toy(lr=0.3, x0=(1.0, 2.0), width=3, seed=7)
    d = c.to_dict()
    assert d["x0"] == [1.0, 2.0]
    assert Toy.from_dict(d) == c


def test_an_empty_tuple_is_refused_with_the_key(capsys):
    """``sparse lam_fracs=`` (nothing after =) is an error naming the key, exit 2, not a traceback in the lab."""
    from dlsm.cli import main
    from dlsm.labs import get_lab

    with pytest.raises(ConfigError) as err:
        get_lab("sparse").config.make("quick", lam_fracs=())
    assert err.value.key == "lam_fracs" and "lam_fracs" in str(err.value)
    assert main(["run", "sparse", "lam_fracs=", "--quick"]) == 2
    assert "lam_fracs" in capsys.readouterr().err
