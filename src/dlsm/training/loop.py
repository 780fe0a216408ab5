"""The inner loop: run steps, log scalars, stop cleanly on Ctrl-C or on a diverging loss.

Every lab that trains something calls :func:`fit` with a ``step(k)`` closure that does one
optimisation step and returns its scalars (at least ``"loss"``). The loop never prints; it reports
through the ``progress`` callback and returns a :class:`FitLog` whose ``status`` says how it ended,
so a lab can still build its figures from what was done before Ctrl-C or divergence.

Labs that train a ``torch.nn.Module`` use :class:`dlsm.training.Trainer`, which runs this loop with its
own step; the hand-written gradient-descent labs of lecture 1 call :func:`fit` with a closure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dlsm.result import ProgressFn, no_progress
from dlsm.status import Status

StepFn = Callable[[int], Mapping[str, float]]
#: Keys a step may add to its scalars: the step was not applied (non-finite gradient), or training should stop.
SKIPPED, STOP = "_skipped", "_stop"
#: A loss above this counts as divergence (see :func:`fit`).
CEILING = 1e30
#: This many skipped (non-finite gradient) steps in a row count as divergence (see :func:`fit`).
MAX_SKIPPED = 25


@dataclass
class FitLog:
    """What :func:`fit` recorded: the logged steps, each scalar's history and how the loop ended.

    ``status`` is completed, interrupted (Ctrl-C) or diverged (a non-finite or exploding loss).
    ``skipped`` counts steps whose gradient was not finite and was therefore not applied (NaN-safe training).
    ``event`` records how the loop ended when it did not run to the end (kind, step, losses), from which
    :meth:`text` writes the reader's sentence in the current language; ``message`` is the same in English
    (kept in checkpoints and logs).
    """

    steps: list[int] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    steps_done: int = 0
    status: Status = Status.COMPLETED
    message: str = ""
    skipped: int = 0
    event: dict = field(default_factory=dict)
    skipped_in_a_row: int = 0  # the latest consecutive skipped steps (kept so that a resumed run counts the same)

    def text(self) -> str:
        """How the loop ended, in the current language ('' when it ran to the end)."""
        from dlsm.i18n import t

        kind = self.event.get("kind")
        if kind == "interrupted_at":
            return t("training.interrupted_at", step=self.event["step"], end=self.event["end"])
        if kind == "interrupted_after":
            return t("training.interrupted_after", step=self.event["step"], end=self.event["end"])
        if kind == "stopped_early":
            return t("training.stopped_early", step=self.event["step"], end=self.event["end"])
        if kind == "diverged":
            return t("training.diverged", loss=self.event["loss"], step=self.event["step"], first=self.event["first"])
        return self.message

    def explanation(self) -> str:
        """Why the loop ended as it did, when theory says ('' otherwise): a diverging loss."""
        from dlsm.i18n import t

        return t("training.diverged_why") if self.event.get("kind") == "diverged" else ""

    @property
    def losses(self) -> list[float]:
        return self.history.get("loss", [])

    def record(self, step: int, scalars: Mapping[str, float]) -> None:
        self.steps.append(step)
        for key, value in scalars.items():
            self.history.setdefault(key, []).append(float(value))

    def to_state(self) -> dict:
        """Plain data (for checkpoints loaded with ``weights_only=True``)."""
        return {"steps": list(self.steps), "history": {k: list(v) for k, v in self.history.items()},
                "steps_done": self.steps_done, "status": self.status.value, "message": self.message,
                "skipped": self.skipped, "event": dict(self.event), "skipped_in_a_row": self.skipped_in_a_row}

    @classmethod
    def from_state(cls, state: Mapping) -> FitLog:
        return cls(steps=list(state["steps"]), history={k: list(v) for k, v in state["history"].items()},
                   steps_done=int(state["steps_done"]), status=Status(state["status"]),
                   message=str(state["message"]), skipped=int(state.get("skipped", 0)),
                   event=dict(state.get("event", {})), skipped_in_a_row=int(state.get("skipped_in_a_row", 0)))


def fit(
    step: StepFn,
    n_steps: int,
    *,
    progress: ProgressFn | None = None,
    log_every: int = 1,
    start: int = 0,
    log: FitLog | None = None,
    blowup: float | None = 1e8,
    ceiling: float | None = CEILING,
    max_skipped: int | None = MAX_SKIPPED,
) -> FitLog:
    """Run ``step(k)`` for ``k = start .. start + n_steps - 1``.

    Scalars are recorded every ``log_every`` steps and at the last step. A KeyboardInterrupt (from the
    step or from the progress callback) ends the loop with status ``"interrupted"``; a non-finite
    ``loss`` ends it with status ``"diverged"``. Pass an existing ``log`` to continue it (incremental
    training, resume). A step that returns ``{SKIPPED: True}`` is counted in ``log.skipped`` and not
    checked; one that returns ``{STOP: True, ...}`` ends the loop after it (early stopping).

    Divergence, one rule for every lab: the loss is not finite, or grows ``blowup`` times above the first
    logged loss, or exceeds ``ceiling`` (no lab's data has a loss anywhere near 1e30, so a loss above it is an
    iteration that blew up from its first steps, e.g. step sizes initialised far too large), or ``max_skipped``
    steps in a row were skipped for a non-finite gradient (the weights are stuck where every gradient is
    non-finite; the step is then logged with a NaN loss). None turns a criterion off.
    """
    progress = progress or no_progress
    log = log or FitLog()
    log.status, log.message, log.event = Status.COMPLETED, "", {}
    end = start + n_steps
    for k in range(start, end):
        try:
            scalars = step(k)
        except KeyboardInterrupt:
            log.status = Status.INTERRUPTED
            log.message = f"interrupted by the user at step {k} of {end}"
            log.event = {"kind": "interrupted_at", "step": k, "end": end}
            return log
        scalars = dict(scalars)
        stop = bool(scalars.pop(STOP, False))
        if scalars.pop(SKIPPED, False):  # a non-finite gradient that the step did not apply
            log.steps_done = k + 1
            log.skipped += 1
            log.skipped_in_a_row += 1
            if max_skipped is not None and log.skipped_in_a_row >= min(max_skipped, end):
                first = log.losses[0] if log.losses else math.nan
                return _diverged(log, k, {"loss": math.nan}, math.nan, first)
            continue
        log.skipped_in_a_row = 0
        loss = float(scalars["loss"])
        log.steps_done = k + 1
        first = log.losses[0] if log.losses else loss
        if (not math.isfinite(loss) or (blowup is not None and first > 0 and loss > blowup * first)
                or (ceiling is not None and abs(loss) > ceiling)):
            return _diverged(log, k, scalars, loss, first)
        if k % log_every == 0 or k == end - 1:  # steps counted from 0, so a resumed run logs the same
            log.record(k, scalars)
        try:
            progress(k + 1 - start, n_steps, scalars)
        except KeyboardInterrupt:
            log.status = Status.INTERRUPTED
            log.message = f"interrupted by the user after step {k + 1} of {end}"
            log.event = {"kind": "interrupted_after", "step": k + 1, "end": end}
            return log
        if stop:
            log.message = f"stopped early after step {k + 1} of {end}"
            log.event = {"kind": "stopped_early", "step": k + 1, "end": end}
            if k % log_every != 0 and k != end - 1:
                log.record(k, scalars)
            return log
    return log


def _diverged(log: FitLog, k: int, scalars: Mapping[str, float], loss: float, first: float) -> FitLog:
    """End ``log`` as diverged at step ``k`` (the step is recorded)."""
    log.record(k, scalars)
    log.status = Status.DIVERGED
    log.message = (
        f"the loss became {loss:.4g} at step {k} (first loss {first:.4g}): training diverged "
        "(typically the learning rate is too large for the curvature of the loss)"
    )
    log.event = {"kind": "diverged", "step": k, "loss": loss, "first": first}
    return log
