"""Shared pieces of the benchmark modules.

Each ``benchmarks/bench_<topic>.py`` defines ``run(quick: bool = False) -> list[BenchSection]``;
``benchmarks/run.py`` collects them into BENCHMARKS.md. ``quick=True`` is a tiny smoke size (used to
check that the benchmark code runs), never the size whose numbers are reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlsm.result import Table


@dataclass
class BenchSection:
    """One titled table of BENCHMARKS.md, with sentences below it (what was measured, how)."""

    title: str
    table: Table
    notes: list[str] = field(default_factory=list)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Call ``fn()`` and return its value and the wall-clock seconds it took."""
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0
