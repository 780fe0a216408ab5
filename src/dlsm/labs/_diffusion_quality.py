"""Sample quality of the ``diffusion`` lab: the metrics of generated 2-D points and of generated digits.

Each number comes beside the same number for a second held-out set (the floor: what a perfect model gets)
and for noise (the ceiling: what no model gets). For 2-D points: the energy distance to a held-out set and
its sampling error, k-NN precision and recall (Kynkäänniemi et al. 2019) and the share of points off the
clean curve. For digits the judge is the lecture-3 CNN (:mod:`dlsm.labs._digit_quality`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from dlsm.labs._digit_quality import CEILING_ROW, FLOOR_ROW, GENERATED_ROW, quality_table
from dlsm.metrics import energy_distance, knn_precision_recall
from dlsm.problems.toy2d import off_share
from dlsm.result import Table, table_from_columns

#: Row labels of the quality table of 2-D samples (kept as in the run folders written before).
GENERATED, FLOOR, CEILING = "generated", "held-out (floor)", "N(0, I) (ceiling)"
#: The floor rows computed in this process, by data set, radius and the two held-out sets (the oldest dropped first).
_FLOOR_ROWS: dict[tuple, dict[str, Any]] = {}
FLOOR_ROWS_KEPT = 8


def differs(model: torch.nn.Module, sampled: torch.nn.Module) -> bool:
    """True when ``sampled`` (the EMA model) has weights other than ``model``'s."""
    if sampled is model:
        return False
    return any(not torch.equal(a, b) for a, b in zip(model.parameters(), sampled.parameters(), strict=True))


def null_std(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator, n_perm: int = 20) -> float:
    """Sampling error of the energy distance: its standard deviation over random relabellings of a ∪ b."""
    pooled = torch.cat([a, b]).double()  # (n + m, 2)
    d = torch.cdist(pooled, pooled)  # (n + m, n + m)
    n, m = len(a), len(b)
    values = []
    for _ in range(n_perm):
        perm = torch.randperm(n + m, generator=generator)
        u = torch.zeros(n + m, dtype=d.dtype)  # indicator of the relabelled a (n + m,)
        u[perm[:n]] = 1
        v = 1 - u
        du, dv = d @ u, d @ v  # the sums of blocks as quadratic forms: no (n, n) copies of d
        within = (u @ du) / (n * (n - 1)) + (v @ dv) / (m * (m - 1))
        values.append(float(2 * (u @ dv) / (n * m) - within))
    return float(np.std(values))


def point_quality(data: str, x0: torch.Tensor, splits: Any, radius: float,
                  generator: torch.Generator) -> tuple[dict[str, Any], Table]:
    """The metrics (keyed as the lab's Outcome fields) and the quality table of 2-D samples ``x0`` (n, 2).

    ``splits`` holds the two held-out sets (``heldout``: the reference, ``heldout2``: the floor); the
    ceiling is N(0, I) noise drawn from ``generator`` (the sampler's starting distribution).
    """
    ref = splits.heldout  # (n_eval, 2)
    noise = torch.randn(x0.shape, generator=generator)  # (n_samples, 2)
    finite = torch.isfinite(x0).all(dim=1)
    rows = {}
    for label, pts in ((GENERATED, x0[finite]), (FLOOR, splits.heldout2), (CEILING, noise)):
        key = (data, radius, ref.numpy().tobytes(), pts.numpy().tobytes()) if label == FLOOR else None
        if key in _FLOOR_ROWS:  # the floor depends on the held-out sets only: the same for every run on them
            rows[label] = _FLOOR_ROWS[key]
            continue
        ok = len(pts) >= 2
        p, r = knn_precision_recall(ref, pts) if ok else (None, None)
        rows[label] = {"energy_distance": energy_distance(pts, ref) if ok else None, "precision": p, "recall": r,
                       "off_share": off_share(data, pts, radius)}
        if key is not None:
            _FLOOR_ROWS[key] = rows[label]
            while len(_FLOOR_ROWS) > FLOOR_ROWS_KEPT:
                _FLOOR_ROWS.pop(next(iter(_FLOOR_ROWS)))
    g, f, c = rows[GENERATED], rows[FLOOR], rows[CEILING]
    metrics = {
        "energy_distance": g["energy_distance"], "energy_floor": f["energy_distance"],
        "energy_noise": c["energy_distance"], "energy_error": null_std(splits.heldout2, ref, generator),
        "precision": g["precision"], "recall": g["recall"], "precision_floor": f["precision"],
        "recall_floor": f["recall"], "precision_noise": c["precision"], "recall_noise": c["recall"],
        "off_share": g["off_share"] if bool(finite.all()) else off_share(data, x0, radius),  # not finite: off
        "off_floor": f["off_share"], "off_noise": c["off_share"],
        "off_radius": radius, "nonfinite_samples": int((~finite).sum()),
    }
    table = table_from_columns({
        "samples": list(rows), **{key: [rows[k][key] for k in rows]
                                  for key in ("energy_distance", "precision", "recall", "off_share")}})
    return metrics, table


def digit_metrics(rows: dict[str, dict[str, float]], judge_acc: float) -> tuple[dict[str, Any], Table]:
    """The metrics (keyed as the lab's Outcome fields) and the quality table of generated digits, from the
    rows of :func:`dlsm.labs._digit_quality.quality_table_rows`."""
    g, f, c = rows[GENERATED_ROW], rows[FLOOR_ROW], rows[CEILING_ROW]
    metrics = {
        "confident_share": g["confident_share"], "class_entropy": g["class_entropy"], "frechet": g["frechet"],
        "confident_floor": f["confident_share"], "class_entropy_floor": f["class_entropy"],
        "frechet_floor": f["frechet"], "confident_noise": c["confident_share"],
        "class_entropy_noise": c["class_entropy"], "frechet_noise": c["frechet"], "judge_accuracy": judge_acc,
    }
    return metrics, quality_table(rows)


#: Row of the quality table for the autoencoder's reconstructions of the floor digits (latent diffusion).
RECON_ROW = "autoencoder reconstructions"


def guidance_table(rows: dict[float, dict[str, float]]) -> Table:
    """One row per guidance scale s: read as asked, confident share, class entropy, Fréchet distance."""
    scales = sorted(rows)
    return table_from_columns({"guidance": scales, **{
        key: [rows[s][key] for s in scales] for key in ("read_as_asked", "confident_share", "class_entropy",
                                                        "frechet")}})
