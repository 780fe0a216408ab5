"""Advice of the classify lab, diagnosed from what ran: a diverged loss, too few updates, data at chance level,
or over-fitting (training accuracy well above test accuracy).

:func:`diagnose` returns a :class:`Diagnosis` (what went wrong and what to try, as settings: no prose), and
:func:`advice_notes` writes it through the glossary, the measurement apart from the explanation. Only settings
that the run did not already use are suggested.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dlsm.i18n import t
from dlsm.outcome import Notes
from dlsm.status import Status

if TYPE_CHECKING:
    from dlsm.labs.classify import Config

ENOUGH_UPDATES = 500  # below this, a network near chance has simply not trained long enough

#: The kinds of suggestion; each has a text ``classify.try.<kind>`` in the glossary.
SUGGESTIONS = ("setting", "smaller_lr", "onecycle", "more_updates", "relu", "full", "small_cnn", "early_stopping",
               "more_images", "lower_lr")
#: The kinds of diagnosis ("": nothing to say).
DIAGNOSES = ("", "diverged", "too_few_updates", "chance_level", "overfitting")


@dataclass(frozen=True)
class Suggestion:
    """One thing to try: a kind (its text is ``classify.try.<kind>``), the setting it proposes
    (``"optimizer=adam"``; "" when it is no single setting) and the numbers its text shows."""

    kind: str
    setting: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in SUGGESTIONS:
            raise ValueError(f"suggestion: got {self.kind!r}; allowed: {', '.join(SUGGESTIONS)}")

    def text(self) -> str:
        return t(f"classify.try.{self.kind}", setting=self.setting, **self.fields)


@dataclass(frozen=True)
class Diagnosis:
    """What the numbers say (``kind``, one of :data:`DIAGNOSES`) and what to try."""

    kind: str = ""
    tries: tuple[Suggestion, ...] = ()
    sigmoid: bool = False  # too few updates for a sigmoid MLP trained by plain SGD (the course's network)

    def __post_init__(self) -> None:
        if self.kind not in DIAGNOSES:
            raise ValueError(f"diagnosis: got {self.kind!r}; allowed: {', '.join(DIAGNOSES)}")

    @property
    def settings(self) -> list[str]:
        """The settings suggested (``["optimizer=adam", "lr=0.0002"]``)."""
        return [s.setting for s in self.tries if s.setting]

    @property
    def kinds(self) -> list[str]:
        return [s.kind for s in self.tries]


def near_chance(acc: float | None, K: int) -> bool:
    """Within 15 % of the way from chance (1/K) to perfect: 23.5 % for 10 classes, 57.5 % for 2."""
    return acc is not None and acc < 1 / K + 0.15 * (1 - 1 / K)


def _full_used(config: Config) -> bool:
    full = type(config).make("full", model=config.model, data=config.data)
    return all(getattr(config, k) == getattr(full, k)
               for k in ("optimizer", "lr", "schedule", "batch_size", "epochs", "steps", "shift"))


def diagnose(config: Config, m: Mapping[str, Any], status: Status, per_epoch: int) -> Diagnosis:
    """What the metrics ``m`` of a run with ``config`` say, and what to try (settings it did not use)."""
    K, steps, acc, train_acc = m["n_classes"], m["steps"], m["test_accuracy"], m["train_accuracy"]
    if status == Status.DIVERGED:
        tries = [Suggestion("smaller_lr", f"lr={config.lr / 10:g}")]
        if config.optimizer != "adam":
            tries.append(Suggestion("setting", "optimizer=adam"))
        if config.schedule == "constant":
            tries.append(Suggestion("onecycle", "schedule=onecycle"))
        return Diagnosis("diverged", tuple(tries))
    if status == Status.INTERRUPTED:
        return Diagnosis()
    if train_acc is not None and train_acc - acc >= 0.2:
        return _overfitting(config, m)
    if near_chance(acc, K) and steps < ENOUGH_UPDATES:
        more = max(ENOUGH_UPDATES, 5 * steps)
        tries = [Suggestion("more_updates", f"steps={more}", {"epochs": math.ceil(more / per_epoch)})]
        if config.model == "mlp" and config.activation == "sigmoid":
            tries.append(Suggestion("relu", "activation=relu"))
        if config.optimizer != "adam":
            tries.append(Suggestion("setting", "optimizer=adam"))
        if not config.data.startswith("folder:") and not _full_used(config):
            tries.append(Suggestion("full", "--full"))
        sigmoid = config.model == "mlp" and config.activation == "sigmoid" and config.optimizer == "sgd"
        return Diagnosis("too_few_updates", tuple(tries), sigmoid=sigmoid)
    if near_chance(acc, K):
        tries = [] if config.lr <= 1e-4 else [Suggestion("lower_lr", f"lr={config.lr / 10:g}", {"lr": config.lr})]
        if config.model != "small_cnn":
            tries.append(Suggestion("setting", "model=small_cnn"))
        return Diagnosis("chance_level", tuple(tries))
    if train_acc is not None and train_acc - acc >= 0.1 and acc < 0.9:
        return _overfitting(config, m)
    return Diagnosis()


def _overfitting(config: Config, m: Mapping[str, Any]) -> Diagnosis:
    tries = []
    if config.model == "cnn":
        tries.append(Suggestion("small_cnn", "model=small_cnn", {"n_params": m["n_params"]}))
    if config.data.startswith("folder:"):
        unused = (("flip=true", config.flip), ("crop=4", config.crop), ("jitter=0.2", config.jitter))
    else:
        unused = (("shift=2", config.shift), ("rotate=10", config.rotate))
    tries += [Suggestion("setting", setting) for setting, used in unused if not used]
    if config.dropout == 0:
        tries.append(Suggestion("setting", "dropout=0.3"))
    if config.val_fraction == 0:
        tries.append(Suggestion("early_stopping", "val_fraction=0.15 patience=10"))
    tries.append(Suggestion("more_images"))
    return Diagnosis("overfitting", tuple(tries))


def advice_notes(found: Notes, config: Config, m: Mapping[str, Any], diagnosis: Diagnosis, per_epoch: int,
                 divergence: Mapping[str, float] | None) -> None:
    """Add the diagnosis to ``found``: what was measured, and (apart) why and what to try."""
    K, acc, train_acc = m["n_classes"], m["test_accuracy"], m["train_accuracy"]
    kind = diagnosis.kind
    chance = {"K": K, "chance": 100 / K, "accuracy": 100 * acc if acc is not None else math.nan}
    if kind == "diverged":
        where = divergence or {"loss": math.nan, "first": math.nan}
        found.measured.append(t("classify.note.diverged", steps=m["steps"], lr=config.lr, optimizer=config.optimizer,
                                loss=where["loss"], first=where["first"]))
        found.explanations.append(t("classify.note.diverged_why"))
    elif kind == "too_few_updates":
        found.measured.append(t("classify.note.too_few_updates", steps=m["steps"], epochs=m["epochs"],
                                per_epoch=per_epoch, **chance))
        found.explanations.append(t("classify.note.too_few_updates_why", steps=m["steps"]))
        if diagnosis.sigmoid:
            found.explanations.append(t("classify.note.sigmoid_why", lr=config.lr))
    elif kind == "chance_level":
        if train_acc is None:
            found.measured.append(t("classify.note.chance_level", steps=m["steps"], **chance))
        else:
            found.measured.append(t("classify.note.chance_level_train", steps=m["steps"], train=100 * train_acc,
                                    **chance))
        found.explanations.append(t("classify.note.chance_level_why", n_train=m["n_train"],
                                    size=config.image_size or t("classify.word.default_size")))
    elif kind == "overfitting":
        found.measured.append(t("classify.note.overfitting", train=100 * train_acc, test=100 * acc))
        found.explanations.append(t("classify.note.overfitting_why", n_params=m["n_params"], n_train=m["n_train"]))
    if diagnosis.tries:
        found.explanations.append(t("classify.note.try", tries=t("classify.word.separator").join(
            s.text() for s in diagnosis.tries)))
