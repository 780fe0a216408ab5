"""The labs and their registry.

A lab is a module in this package that defines a frozen ``Config`` (a :class:`dlsm.config.LabConfig`),
a ``run(config, progress=None) -> Result`` and a module-level ``LAB = Lab(...)`` naming it. The
registry finds every such module, so adding a lab is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from dlsm.config import LabConfig
from dlsm.errors import ConfigError, DlsmError
from dlsm.result import ProgressFn, Result


@dataclass(frozen=True)
class Lab:
    """A registered lab: its name, the lecture it belongs to, one line of description, its Config and run.

    ``headline`` names the metrics shown in tables of many runs (sweeps, benchmarks).
    """

    name: str
    lecture: int
    description: str
    config: type[LabConfig]
    run: Callable[..., Result]
    headline: tuple[str, ...] = ()

    def __call__(self, config: LabConfig | None = None, progress: ProgressFn | None = None) -> Result:
        return self.run(config if config is not None else self.config(), progress=progress)


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
        raise DlsmError(f"lab {name!r} cannot be loaded ({_BROKEN[name]}); the other labs work: {', '.join(labs)}")
    if name not in labs:
        raise ConfigError(f"unknown lab {name!r}; valid labs: {', '.join(labs)}", key=name)
    return labs[name]
