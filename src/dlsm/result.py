"""What a lab's ``run`` returns: metrics, tables, curves, figures and trained artifacts."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from dlsm.status import Status

Scalar = int | float | bool | str

#: Progress callback: ``progress(done, total, info)``; ``info`` holds a few scalars (loss, accuracy).
#: Labs call it as they go; the CLI turns it into a progress bar. It may raise KeyboardInterrupt.
ProgressFn = Callable[[int, int, Mapping[str, float]], None]


def no_progress(done: int, total: int, info: Mapping[str, float]) -> None:
    """The default progress callback: does nothing."""


@dataclass
class Table:
    """A small table: named columns and rows of scalars."""

    columns: list[str]
    rows: list[list[Scalar]]

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {row!r} has {len(row)} cells, expected {len(self.columns)}")

    def column(self, name: str) -> list[Scalar]:
        j = self.columns.index(name)
        return [row[j] for row in self.rows]

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows([[_csv_cell(c) for c in row] for row in self.rows])
        return buf.getvalue()

    def to_markdown(self, max_rows: int | None = None) -> str:
        rows = self.rows if max_rows is None else self.rows[:max_rows]
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(format_scalar(c) for c in row) + " |" for row in rows]
        if max_rows is not None and len(self.rows) > max_rows:
            lines.append(f"\n({len(self.rows) - max_rows} more rows in the CSV file)")
        return "\n".join(lines)


def _csv_cell(value: Scalar) -> Scalar:
    return repr(value) if isinstance(value, float) else value


def format_scalar(value: Any) -> str:
    """Short, exact-enough text for a metric or table cell."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v) or math.isinf(v):
            return str(v)
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.4e}"
        return f"{v:.6g}"
    return str(value)


@dataclass
class Curve:
    """One series y(x), e.g. a loss per step; sweeps overlay the same curve across runs."""

    x: np.ndarray
    y: np.ndarray
    xlabel: str
    ylabel: str
    log_y: bool = False

    def __post_init__(self) -> None:
        self.x = np.asarray(self.x, dtype=float)
        self.y = np.asarray(self.y, dtype=float)
        if self.x.shape != self.y.shape:
            raise ValueError(f"curve x {self.x.shape} and y {self.y.shape} differ in shape")


@dataclass
class Result:
    """Everything a lab run produced: its outcome (what was measured) and what the reader is told.

    ``metrics`` are JSON-able scalars; ``notes`` say what was measured and ``explanations`` why it
    happens (the theory), kept apart so that a graded notebook can leave the reason to the student;
    ``artifacts`` hold trained objects (``state_dict`` s, arrays) that the run folder saves with
    ``torch.save``; ``status`` is a :class:`~dlsm.status.Status` (completed, interrupted, diverged,
    failed). ``figures`` are empty when the run was asked not to draw them (``figures=False``: sweeps,
    benchmarks). ``outcome`` is the lab's typed :class:`~dlsm.outcome.Outcome`; its metrics also read
    as attributes of the result (``result.ser_tpg``).
    """

    metrics: dict[str, Scalar] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    curves: dict[str, Curve] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    status: Status = Status.COMPLETED
    explanations: list[str] = field(default_factory=list)
    outcome: Any = None
    lab: str = ""  # the lab that made it and its config (set by Lab.run), so a notebook can keep the run
    config: Any = None
    elapsed_s: float = 0.0

    def __post_init__(self) -> None:
        self.status = Status(self.status)

    def __getattr__(self, name: str) -> Any:
        outcome = self.__dict__.get("outcome")
        if outcome is not None and not name.startswith("_"):
            try:
                return getattr(outcome, name)
            except AttributeError:
                pass
        metrics = self.__dict__.get("metrics") or {}
        if name in metrics:
            return metrics[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or metric {name!r}")

    @property
    def interrupted(self) -> bool:
        return self.status == Status.INTERRUPTED

    @property
    def all_notes(self) -> list[str]:
        """The notes, then the explanations."""
        return [*self.notes, *self.explanations]


def table_from_columns(columns: Mapping[str, Sequence[Any]]) -> Table:
    """Build a Table from equal-length columns (NumPy scalars become Python scalars)."""
    names = list(columns)
    cols = [list(np.asarray(columns[n]).tolist()) for n in names]
    n_rows = {len(c) for c in cols}
    if len(n_rows) > 1:
        raise ValueError(f"columns have different lengths: {n_rows}")
    return Table(columns=names, rows=[list(r) for r in zip(*cols, strict=True)])
