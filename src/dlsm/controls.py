"""The control of every setting of a lab, derived from its typed Config (no GUI library here).

A playground (:mod:`dlsm.playground` in a notebook) draws one control per field of a lab's ``Config``; this
module decides which, from the field's type, bounds and choices, so the rules are one and testable:

- ``bool``: a checkbox; a choice (``Literal``): a drop-down; a tuple, a string or a setting whose value is
  ``None`` (a recipe's default): a text box read by the command line's parser (``none`` for None);
- a number bounded on both sides: a slider, on a log scale when the bounds are positive and span two decades
  or more (an integer one then steps through log-spaced integers);
- a number bounded on one side only, with a positive value: a log slider two decades either side of the value,
  kept inside the bound (the course's values are in the middle; the CLI still accepts anything in range); a
  positive value too small for the linear slider of its bounds (ε = 1e-5 in (0, 1)): a log slider from two
  decades below it;
- any other number: a number box.

An open bound (``gt``/``lt``) is excluded from the slider: its end is one step inside the bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from dlsm.config import LabConfig, ParamSpec, literal_choices, strip_optional, tuple_element_type

Kind = Literal["checkbox", "dropdown", "slider", "log_slider", "int_slider", "int_choice", "number", "text"]
#: Points of a float slider between its ends, and of a log slider per decade.
SLIDER_STEPS = 100
LOG_STEPS_PER_DECADE = 20
#: An integer range wider than this is a log slider (positive) or a number box.
INT_SLIDER_MAX_SPAN = 200
#: Decades either side of the value when a number is bounded on one side only.
OPEN_DECADES = 2


@dataclass(frozen=True)
class Control:
    """One setting's control: its kind, start value, range or choices (``options``), and help text."""

    name: str
    kind: Kind
    value: Any
    help: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    options: tuple[Any, ...] = ()  # dropdown choices, or the integers of an int_choice slider
    optional: bool = False  # None is allowed ("none" in a text box, an entry of a drop-down)

    def text(self) -> str:
        """The value as a text box shows it (and as ``key=value`` on the command line)."""
        return format_value(self.value)


def format_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def controls(config: LabConfig, lab: str = "", skip: tuple[str, ...] = ()) -> list[Control]:
    """The controls of every field of ``config`` but those in ``skip``, starting at the config's values."""
    from dlsm.i18n import param_help

    out = []
    for spec in type(config).specs():
        if spec.name in skip:
            continue
        out.append(control(spec, getattr(config, spec.name), param_help(lab, spec.name, spec.help)))
    return out


def control(spec: ParamSpec, value: Any, help: str = "") -> Control:
    """The control of one field (see the module's rules), starting at ``value``."""
    base = strip_optional(spec.type)
    optional = base is not spec.type
    choices = literal_choices(base)
    common = {"name": spec.name, "value": value, "help": help or spec.help, "optional": optional}
    if choices is not None:
        return Control(kind="dropdown", options=tuple(choices) + ((None,) if optional else ()), **common)
    if base is bool:
        if optional:
            return Control(kind="dropdown", options=(True, False, None), **common)
        return Control(kind="checkbox", **common)
    if tuple_element_type(base) is not None or base is str or value is None or base not in (int, float):
        return Control(kind="text", **common)
    return _number(spec, base, value, common)


def _number(spec: ParamSpec, tp: type, value: float, common: dict) -> Control:
    lo = spec.ge if spec.ge is not None else spec.gt
    hi = spec.le if spec.le is not None else spec.lt
    if lo is None and hi is None or (lo is None or hi is None) and value <= 0:
        return Control(kind="number", low=lo, high=hi, **common)
    if lo is None or hi is None:  # one side only: two decades either side of the value, inside the bound
        lo2, hi2 = value / 10**OPEN_DECADES, value * 10**OPEN_DECADES
        lo, hi = (max(lo, lo2), hi2) if lo is not None else (lo2, min(hi, hi2))
        if tp is int:
            lo, hi = max(1, math.floor(lo)), max(math.ceil(hi), math.floor(lo) + 1)
        open_lo, open_hi = spec.gt is not None and lo <= spec.gt, spec.lt is not None and hi >= spec.lt
    else:
        open_lo, open_hi = spec.gt is not None, spec.lt is not None
    if tp is int:
        lo, hi = int(math.ceil(lo)) + open_lo, int(math.floor(hi)) - open_hi
        if hi - lo <= INT_SLIDER_MAX_SPAN:
            return Control(kind="int_slider", low=lo, high=hi, step=1, **common)
        if lo >= 1:
            return Control(kind="int_choice", options=log_integers(lo, hi, value), low=lo, high=hi, **common)
        return Control(kind="number", low=lo, high=hi, **common)
    if lo <= 0 < value < lo + (hi - lo) / SLIDER_STEPS:  # too small for a linear slider (ε of 1e-5 in (0, 1))
        lo, open_lo = max(lo, value / 10**OPEN_DECADES), False
    if lo > 0 and hi / lo >= 100:
        step = 1 / LOG_STEPS_PER_DECADE  # in decades
        low, high = math.log10(lo) + step * open_lo, math.log10(hi) - step * open_hi
        return Control(kind="log_slider", low=low, high=high, step=step, **common)  # low, high: log10
    step = (hi - lo) / SLIDER_STEPS
    return Control(kind="slider", low=lo + step * open_lo, high=hi - step * open_hi, step=step, **common)


def log_integers(lo: int, hi: int, value: int) -> tuple[int, ...]:
    """About ``LOG_STEPS_PER_DECADE`` integers per decade from ``lo`` to ``hi`` (both kept), and ``value``."""
    n = max(2, round(LOG_STEPS_PER_DECADE * math.log10(hi / lo)) + 1)
    grid = {round(lo * (hi / lo) ** (k / (n - 1))) for k in range(n)}
    return tuple(sorted(grid | {lo, hi, int(value)}))
