"""Issue 25, item 3: Bayes AMP and VAMP at t = 20 beside their state evolutions, on S2 (n 300, m 150, A ~ N(0, 1),
σw 0.05) over 10 draws of A × 200 signals, and on the condition-number-15 matrix of the LAMP paper (n 500, m 250,
SNR 40 dB). No timing: accuracy only. ``quick`` (or the environment variable DLSM_BENCH_VAMP_DRAWS / _SIGNALS)
shrinks the size."""

from __future__ import annotations

import os

import numpy as np
import torch

from _common import BenchSection
from dlsm.algorithms.amp import amp, column_scale
from dlsm.algorithms.state_evolution import state_evolution
from dlsm.algorithms.vamp import SVD, vamp
from dlsm.algorithms.vamp_se import vamp_se_nmse_db
from dlsm.labs._sparse_sweeps import signal_nmse_db
from dlsm.metrics import nmse_db
from dlsm.problems.sparse import SETTINGS, SparseProblem, SparseSetting
from dlsm.result import Table

ITERS = 20
CASES = {"S2": SETTINGS["S2"], "cond15": SparseSetting(500, 250, 0.1, matrix="cond", cond=15.0, snr_db=40.0)}


def _rows(name: str, setting: SparseSetting, draws: int, signals: int) -> list[list]:
    rows = []
    for d in range(draws):
        g = torch.Generator().manual_seed(1000 + d)
        prob = SparseProblem.create(setting, g, dtype=torch.float64)
        x, y = prob.draw(signals, g)  # (signals, n), (signals, m)
        svd = SVD.of(prob.A)
        x_v = vamp(prob.A, y, ITERS, p=prob.p, noise_var=prob.noise_var, svd=svd)
        se_v = vamp_se_nmse_db(svd.s.numpy() ** 2, prob.n, prob.p, 1.0, prob.noise_var, ITERS)[-1]
        x_a = amp(prob.A, y, ITERS, denoiser="bg", p=prob.p, noise_var=prob.noise_var)
        nv = prob.noise_var / column_scale(prob.A) ** 2
        se_a = 10 * np.log10(state_evolution(prob.m / prob.n, prob.p, 1.0, nv, ITERS)[-1] / prob.p)
        for method, x_hat, se in (("AMP", x_a, se_a), ("VAMP", x_v, se_v)):
            per = signal_nmse_db(x_hat, x)
            rows.append([name, d, method, round(nmse_db(x_hat, x), 2), round(float(np.nanmedian(per)), 2),
                         round(float(np.nanmax(per)), 2), round(float(se), 2)])
    return rows


def run(quick: bool = False) -> list[BenchSection]:
    torch.set_num_threads(1)
    draws = int(os.environ.get("DLSM_BENCH_VAMP_DRAWS", 2 if quick else 10))
    signals = int(os.environ.get("DLSM_BENCH_VAMP_SIGNALS", 20 if quick else 200))
    rows = [r for name, st in CASES.items() for r in _rows(name, st, draws, signals)]
    return [BenchSection(
        f"message passing: Bayes AMP and VAMP at t = {ITERS} against state evolution, {draws} draws of A × "
        f"{signals} signals",
        Table(["matrix", "draw", "method", "NMSE dB (ratio of sums)", "median signal dB", "worst signal dB",
               "SE dB"], rows),
        ["AMP = dlsm.algorithms.amp.amp (Bayes-Gauss MMSE denoiser), SE = its scalar state evolution (i.i.d. A). "
         "VAMP = dlsm.algorithms.vamp.vamp (Rangan, Schniter & Fletcher 2019, one SVD of A), SE = "
         "dlsm.algorithms.vamp_se over the drawn A's singular values. cond15: A = U diag(s) Vᵀ, s geometric with "
         "s_max/s_min = 15 (the LAMP paper). Issue 25 target: VAMP within 0.5 dB of SE on every draw of S2."])]
