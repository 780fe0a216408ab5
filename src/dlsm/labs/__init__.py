"""The labs and their registry.

A lab is a module in this package that defines a frozen ``Config`` (a :class:`dlsm.config.LabConfig`),
an ``Outcome`` (a :class:`dlsm.outcome.Outcome`: its metrics as typed fields, with units), and three
functions, computing apart from reporting:

* ``compute(config, progress=None) -> Outcome``: the numbers (metrics, tables, curves, artifacts), no prose
  and no figure;
* ``notes(config, outcome) -> Notes``: what was measured and, apart, why (through :func:`dlsm.i18n.t`);
* ``figures(config, outcome) -> dict[str, Figure]``: drawn only when figures are wanted;

and a module-level ``LAB = Lab(...)`` naming them, with ``run = LAB.run``. ``LAB.run(config, progress,
figures=True)`` calls the three and returns a :class:`~dlsm.result.Result`. The registry finds every such
module, so adding a lab is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from dlsm.config import LabConfig
from dlsm.errors import ConfigError, DlsmError
from dlsm.i18n import t
from dlsm.outcome import Notes, Outcome
from dlsm.result import ProgressFn, Result


@dataclass(frozen=True)
class Lab:
    """A registered lab: its name, the lecture it belongs to, one line of description (English; the
    glossary's ``<name>.description`` in other languages), its Config, Outcome and the three functions.

    ``headline`` names the metrics shown in tables of many runs (sweeps, benchmarks, the PDF report); by
    default the outcome's fields declared with ``headline=True``.
    """

    name: str
    lecture: int
    description: str
    config: type[LabConfig]
    compute: Callable[..., Outcome]
    notes: Callable[[Any, Outcome], Notes]
    figures: Callable[[Any, Outcome], dict]
    outcome: type[Outcome]
    headline: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.headline:
            object.__setattr__(self, "headline", self.outcome.headline())

    def run(self, config: LabConfig | None = None, progress: ProgressFn | None = None, *,
            figures: bool = True) -> Result:
        """Compute, then write the notes and (when ``figures``) draw the figures."""
        config = config if config is not None else self.config()
        start = time.perf_counter()
        outcome = self.compute(config, progress=progress)
        notes = self.notes(config, outcome)
        drawn = self.figures(config, outcome) if figures else {}
        return Result(metrics=outcome.metrics, tables=outcome.tables, curves=outcome.curves, figures=drawn,
                      artifacts=outcome.artifacts, notes=list(notes.measured),
                      explanations=list(notes.explanations), status=outcome.status, outcome=outcome,
                      lab=self.name, config=config, elapsed_s=time.perf_counter() - start)

    __call__ = run

    def describe(self) -> str:
        """The one-line description in the current language."""
        from dlsm.i18n import has

        key = f"{self.name}.description"
        return t(key) if has(key) else self.description

    def metric_meaning(self, name: str) -> tuple[str, str]:
        """(meaning, unit) of one of this lab's metrics, in the current language."""
        from dlsm.outcome import describe_metric

        return describe_metric(self.name, name, self.outcome)


_BROKEN: dict[str, str] = {}  # lab module -> why it failed to import


@cache
def registry() -> dict[str, Lab]:
    """All labs by name, sorted by lecture then name.

    A lab module that fails to import (a bug, a missing optional package) is left out and recorded in
    :func:`broken_labs`, so that one broken lab does not take every command down.
    """
    labs: list[Lab] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{__name__}.{info.name}")
        except Exception as exc:  # noqa: BLE001 - any import failure of one lab is reported, not raised
            _BROKEN[info.name] = f"{type(exc).__name__}: {exc}"
            continue
        lab = getattr(module, "LAB", None)
        if isinstance(lab, Lab):
            labs.append(lab)
    labs.sort(key=lambda lab: (lab.lecture, lab.name))
    return {lab.name: lab for lab in labs}


def broken_labs() -> dict[str, str]:
    """Lab modules that failed to import: name -> the error (the other labs work)."""
    registry()
    return dict(_BROKEN)


def get_lab(name: str) -> Lab:
    labs = registry()
    if name in _BROKEN:
        raise DlsmError(t("cli.err.broken_lab", name=name, error=_BROKEN[name], labs=", ".join(labs)))
    if name not in labs:
        raise ConfigError(t("cli.err.unknown_lab", name=name, labs=", ".join(labs)), key=name)
    return labs[name]
