"""Lecture 4 benchmarks: how fast gradient descent reaches least squares (raw vs standardized inputs),
and the regression lab's train/test losses from under- to over-fitting."""

from __future__ import annotations

import numpy as np
import torch

from _common import BenchSection, timed
from dlsm.algorithms.least_squares import Standardizer, gd_excess_loss, least_squares, mse, mse_hessian
from dlsm.algorithms.quadratic_theory import gd_theory
from dlsm.labs import linreg, regression
from dlsm.problems.regression import crop_yields
from dlsm.result import table_from_columns

TOL = 0.01


def predicted_steps(H: torch.Tensor, e0: torch.Tensor, lr: float, target_excess: float,
                    limit: int = 10**13) -> int | None:
    """First t with L(θ_t) - L* ≤ target_excess by the eigen-mode formula (monotone in t), by bisection."""
    def excess(t: int) -> float:
        return float(gd_excess_loss(H, e0, lr, torch.tensor([t]))[0])

    if excess(limit) > target_excess:
        return None
    lo, hi = -1, limit  # excess(lo) > target (or lo = -1), excess(hi) <= target
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if excess(mid) <= target_excess:
            hi = mid
        else:
            lo = mid
    return hi


def linreg_section(quick: bool) -> BenchSection:
    seeds = range(3 if quick else 20)
    X, y = crop_yields("apples")
    fit = least_squares(X, y)
    loss_star = float(mse(X, y, fit.w, fit.b))
    Z = Standardizer.fit(X).transform(X)
    lr_opt_std = gd_theory(mse_hessian(Z).numpy(), 0.1).lr_opt
    lr_max_raw = gd_theory(mse_hessian(X).numpy(), 1e-5).lr_max
    settings = [  # (inputs, lr, step cap for the measured run)
        ("raw", 1e-5, 300 if quick else 10_000),
        ("raw", round(0.9 * lr_max_raw, 7), 300 if quick else 10_000),
        ("standardized", 0.1, 300 if quick else 2_000),
        ("standardized", round(lr_opt_std, 4), 300 if quick else 2_000),
    ]
    cols: dict[str, list] = {k: [] for k in (
        "inputs", "lr", "condition number", "steps cap", "reached within cap", "measured steps (median)",
        "theory steps (median)", "theory steps (min)", "theory steps (max)", "time per run (s)")}
    for inputs, lr, cap in settings:
        measured, theory, times = [], [], []
        kappa = 0.0
        for seed in seeds:
            cfg = linreg.Config(lr=lr, steps=cap, standardize=inputs == "standardized", seed=seed, tol=TOL)
            res, t = timed(lambda cfg=cfg: linreg.run(cfg))
            times.append(t)
            kappa = res.metrics["condition_number"]
            if res.metrics.get("steps_to_tol") is not None:  # None: not within tol inside the cap
                measured.append(res.metrics["steps_to_tol"])
            feats = Z if inputs == "standardized" else X
            star = least_squares(feats, y)
            e0 = torch.cat([res.artifacts["w_init"], res.artifacts["b_init"].reshape(1)]) - torch.cat(
                [star.w, star.b.reshape(1)])
            theory.append(predicted_steps(mse_hessian(feats), e0, lr, TOL * loss_star))
        finite = [t for t in theory if t is not None]
        cols["inputs"].append(inputs)
        cols["lr"].append(lr)
        cols["condition number"].append(round(kappa, 1) if kappa < 100 else float(f"{kappa:.3g}"))
        cols["steps cap"].append(cap)
        cols["reached within cap"].append(f"{len(measured)}/{len(seeds)}")
        cols["measured steps (median)"].append(int(np.median(measured)) if measured else "not reached")
        cols["theory steps (median)"].append(int(np.median(finite)) if len(finite) == len(theory) else "never")
        cols["theory steps (min)"].append(min(finite) if finite else "never")
        cols["theory steps (max)"].append(max(finite) if finite else "never")
        cols["time per run (s)"].append(round(float(np.mean(times)), 3))
    notes = [
        f"Apples table, loss = MSE, plain gradient descent from the lab's random start (seeds 0-{len(seeds) - 1}); "
        f"a run has converged when its loss is within {100 * TOL:g} % of the least-squares loss {loss_star:.6g} "
        "(numbers from the lab's steps_to_tol metric). Measured steps: the median over the seeds that got there "
        "within the step cap.",
        "Theory steps: the first t with L(θ_t) - L* ≤ 0.01 L* from the eigen-modes of the Hessian, "
        "L(θ_t) - L* = ½ Σ λ_i z_i(0)² (1 - αλ_i)^(2t), found by bisection; it equals the measured count where "
        "both exist and extends the comparison past the step cap.",
        f"Raw rows: 1e-5 is the course's step; {settings[1][1]:g} is 0.9 × 2/λmax. Standardized rows: the lab's "
        f"default 0.1 and the best fixed step 2/(λmin+λmax) = {settings[3][1]:g}.",
    ]
    return BenchSection("linreg: steps to reach the least-squares loss within 1 %, raw vs standardized",
                        table_from_columns(cols), notes)


REGRESSION_SETTINGS = (  # (label, overrides)
    ("underfit: 1-2-1", {"width": 2, "depth": 1}),
    ("too few epochs (100)", {"epochs": 100}),
    ("course default", {}),
    ("long training (5000 epochs)", {"epochs": 5000}),
    ("large net 1-128-128-128-1, 3000 epochs", {"width": 128, "depth": 3, "epochs": 3000, "lr": 0.003}),
    ("few points (n_train 20)", {"n_train": 20}),
)


def regression_section(quick: bool) -> BenchSection:
    seeds = range(1 if quick else 3)
    cols: dict[str, list] = {k: [] for k in (
        "setting", "n_params", "train loss", "test loss", "best test loss", "best epoch", "test floor (true f)",
        "time per run (s)")}
    for label, overrides in REGRESSION_SETTINGS:
        if quick:
            overrides = {**overrides, "epochs": 30, "n_test": 50}
        runs = []
        for seed in seeds:
            cfg = regression.Config.make("quick" if quick else "full", seed=seed, **overrides)
            runs.append(timed(lambda cfg=cfg: regression.run(cfg)))
        ms = [r.metrics for r, _ in runs]

        def mean(key: str, ms=ms) -> float:
            return float(np.mean([m[key] for m in ms]))

        cols["setting"].append(label)
        cols["n_params"].append(ms[0]["n_params"])
        cols["train loss"].append(round(mean("train_loss"), 4))
        cols["test loss"].append(round(mean("test_loss"), 4))
        cols["best test loss"].append(round(mean("best_test_loss"), 4))
        cols["best epoch"].append(int(np.median([m["best_epoch"] for m in ms])))
        cols["test floor (true f)"].append(round(mean("test_floor"), 4))
        cols["time per run (s)"].append(round(float(np.mean([t for _, t in runs])), 2))
    cfg = regression.Config.make("quick" if quick else "full")
    notes = [
        f"f(x) = sin(2πx) on [-1, 1], noise σ = {cfg.noise_std:g} (σ² = {cfg.noise_std**2:g}), {cfg.n_train} "
        f"training and {cfg.n_test} test points unless said otherwise; MLP with tanh, Adam lr {cfg.lr:g}, full "
        f"batch; means over seeds 0-{len(seeds) - 1} (best epoch: median).",
        "Test floor: the test MSE of the true f, the least any model can reach on that test set. Underfitting: "
        "training loss far above σ²; overfitting: training loss below σ²/2 and the test loss above its best.",
    ]
    return BenchSection("regression: training and test loss from under- to over-fitting", table_from_columns(cols),
                        notes)


def run(quick: bool = False) -> list[BenchSection]:
    return [linreg_section(quick), regression_section(quick)]


if __name__ == "__main__":
    import sys

    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.table.to_markdown()}\n")
        for note in section.notes:
            print(f"- {note}")
        print()
