"""Lecture 1: gradient descent on the course quadratic, measured rate against theory, per step size."""

from __future__ import annotations

from _common import BenchSection, timed
from dlsm.labs import gd2d, quadfit
from dlsm.result import Table


def run(quick: bool = False) -> list[BenchSection]:
    steps = 50 if quick else 2000
    rows = []
    for lr in (0.005, 0.05, 0.1, 0.18, 2 / 11, 0.19, 0.2, 0.21, 0.25):
        res = gd2d.run(gd2d.Config(lr=lr, steps=steps, tol=1e-12, compare=False), figures=False)
        m = res.metrics
        hit = [t for t, e in zip(res.tables["trajectory"].column("t"), res.tables["trajectory"].column("error"),
                                 strict=True) if e <= 1e-12]
        rows.append([round(lr, 6), m["behaviour"], m["rate_measured"], m["rate_theory"],
                     hit[0] if hit else "-"])
    gd = BenchSection(
        "gd2d: step size vs convergence on f = 1/2 x1² + 5 x2² from (4, 1)",
        Table(["α", "behaviour", "rate measured", "rate theory max_i abs(1-αλ_i)",
               f"first t with ‖x-x*‖² ≤ 1e-12 (of {steps})"], rows),
        ["Theory: converges iff α < 2/λmax = 0.2, fastest at α* = 2/(λmin+λmax) = 2/11 ≈ 0.1818 with rate 9/11.",
         "Measured rate: per-coordinate ratio over the last 10 iterations (see `gd2d.behaviour`)."])
    rows = []
    for n in (50, 1000) if quick else (50, 1000, 100_000):
        cfg = quadfit.Config(n=n, steps=300 if quick else 3000)
        res, seconds = timed(lambda cfg=cfg: quadfit.run(cfg, figures=False))
        m = res.metrics
        rows.append([n, cfg.steps, m["distance_to_ls"], m["loss_final"], m["loss_ls"], round(seconds, 2)])
    qf = BenchSection(
        "quadfit: gradient descent against the least-squares oracle",
        Table(["n samples", "steps", "‖Θ - Θ*‖", "final loss", "least-squares loss", "time_s"], rows),
        ["Θ* from numpy lstsq; α = 0.5; float64 on the CPU."])
    return [gd, qf]
