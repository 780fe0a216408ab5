"""What a lab measured, apart from how it is told: typed metrics, tables, curves and trained artifacts.

A lab is three functions (see :mod:`dlsm.labs`):

* ``compute(config, progress) -> Outcome`` does the work and returns numbers only: no prose, no figure;
* ``notes(config, outcome) -> Notes`` writes what a reader should know, through the glossary;
* ``figures(config, outcome) -> dict[str, Figure]`` draws, and is called only when figures are wanted.

Each lab declares its metrics as the typed fields of an :class:`Outcome` subclass, the way a Config
declares its settings with :func:`dlsm.config.param`::

    @dataclass(kw_only=True)
    class Outcome(outcome.Outcome):
        s_final: float = metric(headline=True)
        steps_run: int = metric("steps", headline=True)
        diverged: bool = metric()

A field's unit is beside it (a key of the glossary's ``[unit]`` table, e.g. ``dB``, ``fraction``); its
meaning, in English and Japanese, is the glossary entry ``<lab>.metric.<name>``, or
``common.metric.<name>`` for a metric that means the same in every lab (``diverged``, ``steps``).
Families of names whose number depends on the config (``ista_nmse_db_t{t}``, one per checkpoint of
iterations) are declared in the class's ``families`` (template -> unit), and their values go in
``extra``; the glossary's text for the template takes the same ``{fields}``.

``outcome.metrics`` is the plain dict that ``metrics.json`` keeps (the keys did not change when the
labs moved to typed outcomes); ``outcome.s_final`` reads one metric as an attribute.

:class:`Notes` keeps what was measured (``measured``) apart from why it happens (``explanations``), so
that a graded notebook or a student's report can show the measurement and leave the reason to the
student (``dlsm.notebook.setup(explain=False)``, ``dlsm report --no-explanations``).
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from dlsm.status import Status

if TYPE_CHECKING:  # (not imported at run time: the CLI's list and show read metric specs without numpy)
    from dlsm.result import Curve, Scalar, Table


def metric(unit: str = "", *, headline: bool = False, default: Any = MISSING, skip_none: bool = False) -> Any:
    """Declare a metric field of an :class:`Outcome`: its unit (a glossary ``[unit]`` key, ``""`` for a
    plain number or a flag) and whether it is a headline metric (shown in sweeps' comparison tables,
    benchmarks and the PDF report).

    ``skip_none``: the metric is left out of ``metrics`` when its value is None (for metrics that exist
    only in some configurations, e.g. a detector that was not run).
    """
    meta = {"metric": True, "unit": unit, "headline": headline, "skip_none": skip_none}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class MetricSpec:
    """One declared metric: name, unit key and whether it is a headline metric."""

    name: str
    unit: str
    headline: bool
    family: bool = False  # a template of ``families`` such as ``ista_nmse_db_t{t}``


@dataclass(kw_only=True)
class Outcome:
    """Base of every lab's outcome (see the module docstring).

    ``tables``, ``curves`` and ``artifacts`` are saved in the run folder; ``data`` holds what the notes and
    figures need beyond the metrics (arrays, trajectories, trained models) and is not saved; ``extra``
    holds the metrics of the declared ``families``.
    """

    tables: dict[str, Table] = field(default_factory=dict)
    curves: dict[str, Curve] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Scalar | None] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    status: Status = Status.COMPLETED

    #: Families of metric names: template (``"ista_nmse_db_t{t}"``) -> unit.
    families: ClassVar[Mapping[str, str]] = {}

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        self._agree_on_divergence()
        for name in self.extra:
            if self.family_of(name) is None:
                raise ValueError(f"{type(self).__name__}: extra metric {name!r} matches no declared family "
                                 f"({', '.join(self.families) or 'none declared'})")

    def _agree_on_divergence(self) -> None:
        """One rule for every lab: status ``diverged`` if and only if the metric ``diverged`` is True.

        A lab that declares the metric may set either; the other follows (an interrupted run keeps its
        status, since it is resumable; its metric still says that what ran had diverged).
        """
        if not any(f.name == "diverged" and f.metadata.get("metric") for f in dataclasses.fields(self)):
            return
        if self.status == Status.DIVERGED:
            self.diverged = True  # type: ignore[attr-defined]
        elif getattr(self, "diverged", False) is True and self.status == Status.COMPLETED:
            self.status = Status.DIVERGED

    # ----- the declared metrics ------------------------------------------------------------------
    @classmethod
    def metric_specs(cls) -> list[MetricSpec]:
        """The declared metrics, in declaration order, then the families."""
        out = [MetricSpec(f.name, f.metadata["unit"], f.metadata["headline"])
               for f in dataclasses.fields(cls) if f.metadata.get("metric")]
        out += [MetricSpec(template, unit, False, family=True) for template, unit in cls.families.items()]
        return out

    @classmethod
    def headline(cls) -> tuple[str, ...]:
        return tuple(s.name for s in cls.metric_specs() if s.headline)

    @classmethod
    def family_of(cls, name: str) -> tuple[str, dict[str, str]] | None:
        """The family template that ``name`` belongs to and the values of its fields, or None."""
        for template in cls.families:
            match = _template_regex(template).fullmatch(name)
            if match:
                return template, match.groupdict()
        return None

    @property
    def metrics(self) -> dict[str, Scalar | None]:
        """The metrics as the plain dict that ``metrics.json`` keeps (declaration order, then ``extra``)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("metric"):
                value = getattr(self, f.name)
                if value is None and f.metadata.get("skip_none"):
                    continue
                out[f.name] = value
        out.update(self.extra)
        return out


def _template_regex(template: str) -> re.Pattern[str]:
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>[A-Za-z0-9_.+-]+?)")
    return re.compile("".join(parts))


@dataclass
class Notes:
    """What a reader is told about a run: what was measured, and (apart) why it happens."""

    measured: list[str] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.measured, *self.explanations]


def describe_metric(lab: str, name: str, outcome: type[Outcome] | None = None,
                    specs: list[MetricSpec] | None = None) -> tuple[str, str]:
    """(meaning, unit) of metric ``name`` of ``lab`` in the current language; ("", "") when not declared.

    The meaning is the glossary's ``<lab>.metric.<name>`` (or of the family the name belongs to), else
    ``common.metric.<name>``; the unit is the declared one, in words (``[unit]`` of the glossary). The
    declarations come from ``outcome`` (the class) or ``specs`` (as :mod:`dlsm.lab_index` caches them).
    """
    from dlsm.i18n import has, t

    if specs is None:
        specs = outcome.metric_specs() if outcome is not None else []
    unit = ""
    key_name, fmt = name, {}
    plain = {s.name: s for s in specs if not s.family}
    if name in plain:
        unit = plain[name].unit
    else:
        for spec in specs:
            if spec.family and spec.name == name:  # the template itself (dlsm show): its fields stay as they are
                fields = [f for _, f, _, _ in string.Formatter().parse(name) if f]
                key_name, fmt, unit = name, {f: "{" + f + "}" for f in fields}, spec.unit
                break
            match = _template_regex(spec.name).fullmatch(name) if spec.family else None
            if match:
                key_name, fmt, unit = spec.name, match.groupdict(), spec.unit
                break
    meaning = ""
    for key in (f"{lab}.metric.{key_name}", f"common.metric.{key_name}"):
        if has(key):
            meaning = t(key, **fmt)
            break
    return meaning, unit_text(unit)


def unit_text(unit: str) -> str:
    """The unit in words in the current language (``fraction`` -> 割合); the key itself when not listed."""
    from dlsm.i18n import has, t

    if not unit:
        return ""
    return t(f"unit.{unit}") if has(f"unit.{unit}") else unit


def meaning_with_unit(lab: str, name: str, outcome: type[Outcome] | None = None,
                      specs: list[MetricSpec] | None = None) -> str:
    """``"meaning [unit]"`` (or just the meaning) for tables and the CLI summary."""
    meaning, unit = describe_metric(lab, name, outcome, specs)
    return f"{meaning} [{unit}]" if meaning and unit else meaning
