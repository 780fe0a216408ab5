"""Lecture 6, issue 25 item 5: a learned detector near ML. EP-Net (EP unfolded with a learned damping β_t and
cavity scale ξ_t per layer) against ML, EP and TPG at 4×4 BPSK, σ = 0.5, random H (target: ≤ 1.3 × ML's SER,
stretch ≤ 1.15 ×, below EP's), and against EP and TPG at 16×16 and 32×32 (same SNR n/σ² = 12.04 dB), where ML is out
of reach."""

from __future__ import annotations

import math
import os
from typing import Any

from _common import BenchSection, timed
from bench_tpg import RECIPE as TPG_RECIPE
from dlsm.labs import mimo
from dlsm.result import Table

#: EP-Net's recipe (lab keys): 15 layers, 800 Adam steps on batches of 2000 vectors with a new H each.
EPNET: dict[str, Any] = {"epnet_layers": 15, "epnet_steps": 800, "epnet_batch": 2000, "epnet_lr": 0.01}
#: Sizes: (n = m, detectors). ML only where its 2^n search is cheap.
SIZES = ((4, ("ml", "ep", "tpg", "epnet")), (16, ("ep", "tpg", "epnet")), (32, ("ep", "tpg", "epnet")))
#: SNR n/σ² of 4×4 at σ = 0.5 (12.04 dB), kept at every size (σ = 0.5 would make 32×32 a 21 dB, error-free case).
SNR_DB = 10 * math.log10(16)
COUNT = {"target_errors": 10_000, "max_symbols": 4_000_000}
QUICK = {"epnet_layers": 3, "epnet_steps": 10, "epnet_batch": 100, "tpg_layers": 3, "tpg_steps": 10,
         "tpg_finetune": 10, "tpg_finetune_batch": 100, "tpg_restarts": 1, "target_errors": 30, "max_symbols": 4000}


def _interval(low: float, high: float) -> str:
    return f"[{low:.3g}, {high:.3g}]"


def run(quick: bool = False) -> list[BenchSection]:
    """``DLSM_BENCH_MIMO_SIZES=4,16`` measures only those sizes (the 32×32 TPG with restarts takes long);
    ``DLSM_BENCH_MIMO_ERRORS=2000`` counts each detector to that many errors instead of 10,000."""
    chosen = {int(v) for v in os.environ.get("DLSM_BENCH_MIMO_SIZES", "4,16,32").split(",")}
    errors = int(os.environ.get("DLSM_BENCH_MIMO_ERRORS", COUNT["target_errors"]))  # fewer: a shorter count
    count = {**COUNT, "target_errors": errors}
    rows = []
    for n, detectors in SIZES[:2] if quick else [s for s in SIZES if s[0] in chosen]:
        cfg = mimo.Config.make("full", **{**TPG_RECIPE, **EPNET, "channel": "random", "n": n, "m": n,
                                          "snr_db": SNR_DB, "snr_grid": (), "detectors": detectors,
                                          **(QUICK if quick else count)})
        res, sec = timed(lambda cfg=cfg: mimo.run(cfg, figures=False))
        m, tab = res.metrics, res.tables["ser"]
        col = {k: dict(zip(tab.column("detector"), tab.column(k), strict=True))
               for k in ("ser", "ci_low", "ci_high", "errors", "symbols")}
        for d in detectors:
            over_ml = None if m["ser_ml"] in (None, 0) else round(col["ser"][d] / m["ser_ml"], 3)
            over_ep = None if not m["ser_ep"] else round(col["ser"][d] / m["ser_ep"], 3)
            rows.append([f"{n}×{n}", mimo.LABELS[d], col["ser"][d], _interval(col["ci_low"][d], col["ci_high"][d]),
                         col["errors"][d], col["symbols"][d], over_ml, over_ep, round(sec, 1)])
    keys = " ".join(f"{k}={v}" for k, v in {**EPNET, **count}.items())
    notes = [f"`dlsm run mimo --full channel=random n=N m=N snr_db={SNR_DB:.4g} {keys}` plus bench_tpg's TPG recipe: "
             "BPSK, SNR n/σ² = 12.04 dB at every size (σ = 0.5 at 4×4), "
             "H drawn anew for every vector; every detector counted on the same test vectors until "
             f"{errors:,} errors or 4,000,000 symbols (quick: fewer); 95 % Wilson intervals. time_s = all training "
             "plus the SER counts of that size, one torch thread.",
             "EP-Net starts at EP (β_t = 0.9, ξ_t = 1: it equals EP) and is trained by Adam (lr 0.01) on the smoothed "
             "symbol error σ(−x μ̂/0.1) of its soft output μ̂, 800 steps of 2000 fresh vectors.",
             "Targets of issue 25 item 5: EP-Net ≤ 1.3 × ML at 4×4 (stretch ≤ 1.15 ×), below EP; at 16×16 and "
             "32×32 below EP and TPG."]
    return [BenchSection("mimo: EP-Net (learned damping) against ML, EP and TPG on random H (BPSK, 12 dB)",
                         Table(["size", "detector", "SER", "95 % CI", "errors", "symbols", "/ ML", "/ EP",
                                "time_s"], rows), notes)]


if __name__ == "__main__":
    import sys

    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.table.to_markdown()}\n")
        print("\n".join(f"- {n}" for n in section.notes) + "\n")
