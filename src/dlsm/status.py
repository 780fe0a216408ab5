"""How a run or a training ended: one enum shared by the training engine, results and run folders."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """The end state of a training loop or a lab run.

    A ``str`` enum, so it compares equal to its value (``Status.COMPLETED == "completed"``) and is written
    to JSON as the plain word.
    """

    COMPLETED = "completed"
    INTERRUPTED = "interrupted"  # Ctrl-C: what was done is kept
    DIVERGED = "diverged"  # a non-finite or exploding loss: a result, with the theory in a note
    FAILED = "failed"  # an error (bad data, ...) stopped the run; the message is recorded
    RUNNING = "running"  # written while training goes on; left behind by a killed run (resume it)

    def __str__(self) -> str:
        return self.value
