"""Typed, frozen lab configurations.

Every lab has a ``Config``: a frozen dataclass that derives from :class:`LabConfig`, whose fields are
declared with :func:`param` so that each knob carries its course default, a one-line reason and its
allowed range. Construction validates every field, so a bad value fails at once with a message that
names the key, the value given and what is allowed::

    @dataclass(frozen=True)
    class Config(LabConfig):
        lr: float = param(0.18, "learning rate alpha of the course notebook", gt=0)
        x0: tuple[float, ...] = param((4.0, 1.0), "starting point (x1, x2)", length=2)

Types understood (also by the CLI's ``key=value`` parser): ``int``, ``float``, ``bool``, ``str``,
``typing.Literal[...]`` (choices), ``tuple[float, ...]`` / ``tuple[int, ...]`` and ``X | None``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union, get_args, get_origin

from dlsm.errors import ConfigError
from dlsm.i18n import t


def param(
    default: Any,
    help: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    length: int | None = None,
    min_length: int = 0,
) -> Any:
    """Declare a config field: its default, a one-line reason, and bounds checked on construction.

    ``ge``/``gt``/``le``/``lt`` bound a number (or every element of a tuple); ``length`` fixes a
    tuple's length; ``min_length=1``: an empty tuple is refused (a list that must name something).
    """
    meta = {"help": help, "ge": ge, "gt": gt, "le": le, "lt": lt, "length": length, "min_length": min_length}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ParamSpec:
    """What the CLI and ``dlsm show`` know about one field."""

    name: str
    type: Any
    default: Any
    help: str
    ge: float | None
    gt: float | None
    le: float | None
    lt: float | None
    length: int | None
    min_length: int = 0

    @property
    def type_name(self) -> str:
        return type_name(self.type)

    @property
    def allowed(self) -> str:
        """Human description of the allowed values, e.g. ``float > 0`` or ``one of: x2, x4``."""
        choices = literal_choices(self.type)
        if choices is not None:
            text = t("cli.allowed.one_of", choices=", ".join(str(c) for c in choices))
        else:
            text = self.type_name
            bounds = [
                f"{op} {_fmt(v)}"
                for op, v in ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt))
                if v is not None
            ]
            if bounds:
                text += " " + t("cli.allowed.and").join(bounds)
            if self.length is not None:
                text += t("cli.allowed.elements", length=self.length)
        if _is_optional(self.type):
            text += t("cli.allowed.or_none")
        return text


def _fmt(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _is_optional(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp)


def strip_optional(tp: Any) -> Any:
    """``X | None`` -> ``X``; other types unchanged."""
    if _is_optional(tp):
        rest = [a for a in get_args(tp) if a is not type(None)]
        return rest[0]
    return tp


def literal_choices(tp: Any) -> tuple[Any, ...] | None:
    tp = strip_optional(tp)
    return get_args(tp) if get_origin(tp) is Literal else None


def tuple_element_type(tp: Any) -> Any | None:
    tp = strip_optional(tp)
    if get_origin(tp) is tuple:
        args = get_args(tp)
        return args[0] if args else Any
    return None


def type_name(tp: Any) -> str:
    base = strip_optional(tp)
    choices = literal_choices(base)
    if choices is not None:
        return "choice"
    elem = tuple_element_type(base)
    if elem is not None:
        return f"tuple of {getattr(elem, '__name__', str(elem))}"
    return getattr(base, "__name__", str(base))


@dataclass(frozen=True)
class LabConfig:
    """Base of every lab's Config: validation on construction, quick/full presets, JSON round trip.

    Subclasses set ``quick`` (overrides for the small size used by the tour, notebooks and tests) and
    may set ``full`` (overrides for the benchmark size; the defaults are the course's settings).
    Cross-field rules go in :meth:`check`, which raises :class:`ConfigError`.
    """

    seed: int = param(0, "seed of every random draw in the lab; same config and seed, same numbers", ge=0)

    quick: ClassVar[Mapping[str, Any]] = {}
    full: ClassVar[Mapping[str, Any]] = {}

    def __post_init__(self) -> None:
        for spec in self.specs():
            value = getattr(self, spec.name)
            object.__setattr__(self, spec.name, _validate(spec, value))
        self.check()

    def check(self) -> None:
        """Cross-field validation; subclasses override and raise ConfigError."""

    # ----- introspection -------------------------------------------------------------------------
    @classmethod
    def specs(cls) -> list[ParamSpec]:
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            m = f.metadata
            out.append(
                ParamSpec(
                    name=f.name,
                    type=hints[f.name],
                    default=f.default,
                    help=m.get("help", ""),
                    ge=m.get("ge"),
                    gt=m.get("gt"),
                    le=m.get("le"),
                    lt=m.get("lt"),
                    length=m.get("length"),
                    min_length=m.get("min_length", 0),
                )
            )
        return out

    @classmethod
    def spec(cls, name: str) -> ParamSpec:
        for s in cls.specs():
            if s.name == name:
                return s
        raise ConfigError(t("cli.err.unknown_key", key=name, keys=", ".join(cls.keys())), key=name)

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    # ----- construction --------------------------------------------------------------------------
    @classmethod
    def make(cls, size: Literal["course", "quick", "full"] = "course", **overrides: Any) -> LabConfig:
        """Build a config from a preset size plus overrides; unknown keys raise ConfigError."""
        preset: Mapping[str, Any] = {"course": {}, "quick": cls.quick, "full": cls.full}[size]
        for key in overrides:
            cls.spec(key)  # raises with the list of valid keys
        return cls(**{**preset, **overrides})

    def replace(self, **changes: Any) -> LabConfig:
        for key in changes:
            self.spec(key)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabConfig:
        """Inverse of :meth:`to_dict` (lists become tuples)."""
        kwargs = {}
        for key, value in data.items():
            spec = cls.spec(key)
            if isinstance(value, list) and tuple_element_type(spec.type) is not None:
                value = tuple(value)
            kwargs[key] = value
        return cls(**kwargs)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def _validate(spec: ParamSpec, value: Any) -> Any:
    """Check ``value`` against the field's type and bounds; return it (ints coerced to float)."""
    tp = spec.type
    if value is None:
        if _is_optional(tp):
            return None
        raise ConfigError(t("cli.err.value_required", key=spec.name, allowed=spec.allowed), key=spec.name)
    base = strip_optional(tp)
    choices = literal_choices(base)
    if choices is not None:
        if value not in choices:
            raise _bad(spec, value)
        return value
    elem = tuple_element_type(base)
    if elem is not None:
        if not isinstance(value, (tuple, list)):
            raise _bad(spec, value)
        items = tuple(_scalar(spec, elem, v) for v in value)
        if not items and spec.min_length:  # a list that must name something (the λ grid, the detectors)
            raise ConfigError(t("common.err.empty_tuple", key=spec.name, allowed=spec.allowed), key=spec.name)
        if spec.length is not None and len(items) != spec.length:
            raise ConfigError(t("cli.err.wrong_length", key=spec.name, length=spec.length, got=len(items),
                                value=value, allowed=spec.allowed), key=spec.name)
        return items
    return _scalar(spec, base, value)


def _scalar(spec: ParamSpec, tp: Any, value: Any) -> Any:
    if tp is bool:
        if not isinstance(value, bool):
            raise _bad(spec, value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(spec, value)
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(spec, value)
        value = float(value)
        if not math.isfinite(value):
            raise _bad(spec, value)
    elif tp is str:
        if not isinstance(value, str):
            raise _bad(spec, value)
        return value
    bounds_ok = (
        (spec.ge is None or value >= spec.ge)
        and (spec.gt is None or value > spec.gt)
        and (spec.le is None or value <= spec.le)
        and (spec.lt is None or value < spec.lt)
    )
    if not bounds_ok:
        raise _bad(spec, value)
    return value


def _bad(spec: ParamSpec, value: Any) -> ConfigError:
    return ConfigError(t("cli.err.bad_value", key=spec.name, value=value, allowed=spec.allowed), key=spec.name)
