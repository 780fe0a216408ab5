"""Lecture 2: how often a small network learns XOR, by hidden width and by variant, over 20 seeds."""

from __future__ import annotations

import numpy as np

from _common import BenchSection, timed
from dlsm.labs import gates
from dlsm.result import Table

WIDTHS = (1, 2, 3, 4, 8, 16)
VARIANTS = (  # (label, overrides of the course's 2-2-1 XOR setting)
    ("course: sigmoid, mse, adam lr 0.1", {}),
    ("tanh hidden", {"activation": "tanh"}),
    ("relu hidden", {"activation": "relu"}),
    ("binary cross-entropy", {"loss": "bce"}),
)


def _row(config: gates.Config) -> list:
    runs, seconds = timed(lambda: gates.finished(gates.train_seeds(config)))
    n_success = sum(r.learned for r in runs)
    return [f"{n_success}/{len(runs)}", n_success / len(runs),
            float(np.median([r.table_loss for r in runs])), round(seconds, 2)]


def run(quick: bool = False) -> list[BenchSection]:
    seeds, steps = (2, 50) if quick else (20, 1000)
    base = gates.Config.make("course", gate="xor", seeds=seeds, steps=steps)
    rows = [[w, *_row(base.replace(hidden=w))] for w in ((2, 8) if quick else WIDTHS)]
    by_width = BenchSection(
        f"gates: XOR success rate versus hidden width ({seeds} seeds)",
        Table(["hidden", "learned", "success rate", "median loss on the 4 inputs", "time_s"], rows),
        [f"Course settings otherwise: sigmoid after both layers, MSE, Adam lr 0.1, batches of 5, {steps} steps; "
         f"seeds 0..{seeds - 1} (each seed fixes the initial weights and the mini-batches).",
         "Learned = all four outputs on the right side of 0.5; time = wall-clock for all seeds of one width."])
    rows = [[label, *_row(base.replace(**overrides))] for label, overrides in VARIANTS]
    variants = BenchSection(
        f"gates: XOR with the 2-2-1 network, variants ({seeds} seeds)",
        Table(["variant", "learned", "success rate", "median loss on the 4 inputs", "time_s"], rows),
        ["One change at a time from the course setting; the loss column is in each variant's own loss."])
    return [by_width, variants]


if __name__ == "__main__":
    import sys

    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.table.to_markdown()}\n")
        print("\n".join(f"- {n}" for n in section.notes) + "\n")
