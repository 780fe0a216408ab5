"""The one training loop: run steps, log scalars, stop cleanly on Ctrl-C or on a diverging loss.

Every lab that trains something calls :func:`fit` with a ``step(k)`` closure that does one
optimisation step and returns its scalars (at least ``"loss"``). The loop never prints; it reports
through the ``progress`` callback and returns a :class:`FitLog` whose ``status`` says how it ended,
so a lab can still build its figures from what was done before Ctrl-C or divergence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dlsm.result import ProgressFn, no_progress

StepFn = Callable[[int], Mapping[str, float]]


@dataclass
class FitLog:
    """What :func:`fit` recorded: the logged steps, each scalar's history and how the loop ended.

    ``status`` is ``"completed"``, ``"interrupted"`` (Ctrl-C) or ``"diverged"`` (a non-finite loss).
    """

    steps: list[int] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    steps_done: int = 0
    status: str = "completed"
    message: str = ""

    @property
    def losses(self) -> list[float]:
        return self.history.get("loss", [])

    def record(self, step: int, scalars: Mapping[str, float]) -> None:
        self.steps.append(step)
        for key, value in scalars.items():
            self.history.setdefault(key, []).append(float(value))


def fit(
    step: StepFn,
    n_steps: int,
    *,
    progress: ProgressFn | None = None,
    log_every: int = 1,
    start: int = 0,
    log: FitLog | None = None,
    blowup: float | None = 1e8,
) -> FitLog:
    """Run ``step(k)`` for ``k = start .. start + n_steps - 1``.

    Scalars are recorded every ``log_every`` steps and at the last step. A KeyboardInterrupt (from the
    step or from the progress callback) ends the loop with status ``"interrupted"``; a non-finite
    ``loss`` ends it with status ``"diverged"``. Pass an existing ``log`` to continue it (incremental
    training).
    """
    progress = progress or no_progress
    log = log or FitLog()
    end = start + n_steps
    for k in range(start, end):
        try:
            scalars = step(k)
        except KeyboardInterrupt:
            log.status = "interrupted"
            log.message = f"interrupted by the user at step {k} of {end}"
            return log
        loss = float(scalars["loss"])
        log.steps_done = k + 1
        first = log.losses[0] if log.losses else loss
        if not math.isfinite(loss) or (blowup is not None and first > 0 and loss > blowup * first):
            log.record(k, scalars)
            log.status = "diverged"
            log.message = (
                f"the loss became {loss:.4g} at step {k} (first loss {first:.4g}): training diverged "
                "(typically the learning rate is too large for the curvature of the loss)"
            )
            return log
        if (k - start) % log_every == 0 or k == end - 1:
            log.record(k, scalars)
        try:
            progress(k + 1 - start, n_steps, scalars)
        except KeyboardInterrupt:
            log.status = "interrupted"
            log.message = f"interrupted by the user after step {k + 1} of {end}"
            return log
    return log
