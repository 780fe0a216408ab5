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
from dlsm.errors import ConfigError
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


@cache
def registry() -> dict[str, Lab]:
    """All labs by name, sorted by lecture then name."""
    labs: list[Lab] = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        lab = getattr(module, "LAB", None)
        if isinstance(lab, Lab):
            labs.append(lab)
    labs.sort(key=lambda lab: (lab.lecture, lab.name))
    return {lab.name: lab for lab in labs}


def get_lab(name: str) -> Lab:
    labs = registry()
    if name not in labs:
        raise ConfigError(f"unknown lab {name!r}; valid labs: {', '.join(labs)}", key=name)
    return labs[name]
