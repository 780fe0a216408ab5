"""What lecture 4's reference discussions and prose state holds at the notebook's default size.

The configs come from the notebook's ``settings`` cells (``notebook_settings("lecture4")``); each runs once
(module-scoped fixtures). The default regression run (1000 epochs) is read from the long run's curves: the prose
says that its first 1000 epochs are the same computation, and the test checks that property on a short run.

The tests marked ``slow`` (the 1000- and 10000-step gradient descents, the four regression trainings: about 20 s
of CPU) run with ``pytest -m slow``, outside the default suite; the rest takes about a second.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlsm.algorithms.least_squares import gd_excess_loss, least_squares, mse_hessian
from dlsm.labs import autograd, linreg, regression
from dlsm.problems.regression import crop_yields
from notebook_settings import notebook_settings

NS = notebook_settings("lecture4")
SIZE = NS["SIZE"]


def column(table, name: str) -> list:
    i = table.columns.index(name)
    return [row[i] for row in table.rows]


def at_epoch(curve, epoch: int) -> float:
    (i,) = np.flatnonzero(curve.x == epoch)
    return float(curve.y[i])


@pytest.fixture(scope="module")
def derivatives():
    return autograd.LAB.run(NS["AUTOGRAD"], figures=False)


@pytest.fixture(scope="module")
def by_lr():
    return {lr: linreg.LAB.run(linreg.Config.make(SIZE, lr=lr), figures=False) for lr in NS["LRS"]}


@pytest.fixture(scope="module")
def by_steps():
    return {s: linreg.LAB.run(linreg.Config.make(SIZE, steps=s), figures=False) for s in NS["STEPS"] if s != 100}


@pytest.fixture(scope="module")
def standardized():
    return linreg.LAB.run(NS["STANDARDIZED"], figures=False)


@pytest.fixture(scope="module")
def long_run():
    return regression.LAB.run(NS["LONG"], figures=False)


def test_the_sweeps_start_from_the_course_settings():
    course = NS["LINREG"]
    assert SIZE == "course" and course == linreg.Config.make(SIZE, steps=100)  # the steps sweep's first point
    assert course.lr is None and course.lr_used == 1e-5 == linreg.Config.make(SIZE, lr=1e-5).lr_used  # lr sweep's
    assert NS["STEPS"] == [100, 1000, 10000] and 1e-5 in NS["LRS"]
    assert NS["LONG"].epochs == 2000 and NS["LONG"] == regression.Config.make(SIZE, epochs=2000)
    assert NS["REGRESSION"].epochs == 1000 and NS["REGRESSION"].n_train == 40


def test_discussion_4_1_autograd_agrees_to_rounding_and_the_sigmoid_saturates(derivatives):
    table = derivatives.tables["derivatives"]
    assert max(column(table, "abs_error")) <= 1e-15  # "0 か 1e-16 程度"
    rows = [r for r in table.rows if r[0].startswith("y = σ") and r[1] == "∂y/∂b"]
    assert len(rows) == 1 and derivatives.metrics["y"] == 17  # u = w x + b = 17
    slope = rows[0][table.columns.index("autograd")]
    assert 3.5e-8 < slope < 4.5e-8 and math.isclose(slope, math.exp(-17) / (1 + math.exp(-17)) ** 2, rel_tol=1e-9)


def test_discussion_4_4_the_curvature_explains_which_learning_rate_diverges(by_lr):
    course = by_lr[1e-5]
    m = course.metrics
    assert math.isclose(m["lambda_max"], 35819, rel_tol=1e-4) and math.isclose(m["lambda_min"], 0.0164, rel_tol=0.01)
    assert math.isclose(m["condition_number"], 2.2e6, rel_tol=0.02)
    assert math.isclose(m["lr_max"], 5.58e-5, rel_tol=1e-3)
    curvature = course.tables["curvature"]
    mostly = dict(zip(column(curvature, "lambda"), column(curvature, "mostly"), strict=True))
    assert mostly[max(mostly)].startswith("w (rainfall") and mostly[min(mostly)] == "b"
    growth = abs(1 - 1e-4 * m["lambda_max"])
    assert math.isclose(growth, 2.58, abs_tol=0.01) and math.isclose(growth**2, 6.7, abs_tol=0.05)
    bad = by_lr[1e-4]
    assert bad.metrics["diverged"] and bad.metrics["steps_run"] == 11 and bad.metrics["loss"] > 1e12
    losses = bad.curves["loss"].y
    assert 6.5 < losses[-1] / losses[-2] < 6.9  # the loss grows about 6.7 times per step
    assert all(not by_lr[lr].metrics["diverged"] for lr in (1e-6, 1e-5, 5e-5))
    assert 5e-5 < m["lr_max"] < 1e-4
    assert by_lr[5e-5].metrics["loss"] < m["loss"] < by_lr[1e-6].metrics["loss"]


@pytest.mark.slow
def test_discussion_4_5_more_steps_do_not_reach_least_squares(by_steps):
    loss = {s: r.metrics["loss"] for s, r in by_steps.items()}
    lstsq = by_steps[1000].metrics["lstsq_loss"]
    assert math.isclose(loss[1000], 16.2, abs_tol=0.05) and math.isclose(loss[10000], 1.0014, abs_tol=5e-5)
    assert loss[10000] > 1.01 * lstsq and by_steps[10000].metrics["steps_to_tol"] is None


def test_discussion_4_5_the_slowest_direction_and_standardizing(by_lr, standardized):
    run = by_lr[1e-5]  # the course run: the first point of the steps sweep
    m = run.metrics
    lstsq = m["lstsq_loss"]
    assert math.isclose(m["loss"], 733, abs_tol=0.5) and math.isclose(lstsq, 0.9615, abs_tol=5e-5)
    slow = m["lr"] * m["lambda_min"]
    assert 1.55e-7 < slow < 1.7e-7 and 5.5e6 < 1 / slow < 6.5e6  # "1.6e-7", "約 6e6 ステップで e 分の 1"
    # theory (the eigen-modes of H, which the lab's tests check against the GD run): steps to within 1 %
    X, y = crop_yields("apples")
    best = least_squares(X, y)
    theta0 = torch.cat([run.artifacts["w_init"], run.artifacts["b_init"].reshape(1)])  # (4,)
    e0 = theta0 - torch.cat([best.w, best.b.reshape(1)])  # (4,)
    H = mse_hessian(X)
    lo, hi = 10_000, 100_000_000
    while hi - lo > 1000:
        mid = (lo + hi) // 2
        excess = float(gd_excess_loss(H, e0, m["lr"], torch.tensor([mid]))[0])
        lo, hi = (mid, hi) if excess > 0.01 * lstsq else (lo, mid)
    assert 3e6 < hi < 5e6  # "数百万ステップ (約 4e6)"
    s = standardized.metrics
    assert math.isclose(s["condition_number"], 6.9, abs_tol=0.06) and math.isclose(s["lr_max"], 0.50, abs_tol=0.005)
    assert s["steps_to_tol"] == 68 and s["lr"] == 0.1
    weights = standardized.tables["weights"]
    gd, ls = np.array(column(weights, "gradient descent")), np.array(column(weights, "least squares"))
    assert np.allclose(gd, ls, rtol=0.05, atol=0.05)  # "ほぼ一致"


def test_discussion_4_6_the_prediction_at_80_80_80_is_an_extrapolation(by_lr):
    course = by_lr[1e-5].metrics
    assert math.isclose(course["prediction"], 34.3, abs_tol=0.05)
    assert math.isclose(course["lstsq_prediction"], 91.03, abs_tol=0.005)
    predicted = linreg.LAB.run(NS["PREDICT"], figures=False).metrics
    assert NS["PREDICT"].predict_at == (80.0, 80.0, 80.0)
    assert abs(predicted["prediction"] - predicted["lstsq_prediction"]) < 1e-3
    X, _ = crop_yields("apples")
    humidity = X[:, 2]
    assert float(humidity.min()) == 37 and float(humidity.max()) == 70 < 80


@pytest.mark.slow
def test_discussion_4_7_under_and_over_fitting_and_early_stopping(long_run):
    sigma2 = NS["REGRESSION"].noise_std ** 2
    assert math.isclose(sigma2, 0.04)
    short = regression.LAB.run(regression.Config.make(SIZE, epochs=100), figures=False)  # same seed, fewer epochs
    assert short.metrics["test_loss"] == pytest.approx(at_epoch(long_run.curves["test_loss"], 100), rel=1e-6)
    train, test = long_run.curves["loss"], long_run.curves["test_loss"]
    default_train, default_test = at_epoch(train, 1000), at_epoch(test, 1000)  # the 1000-epoch default run
    assert math.isclose(default_train, 0.0217, abs_tol=5e-5) and math.isclose(default_test, 0.0592, abs_tol=5e-5)
    assert math.isclose(long_run.metrics["test_floor"], 0.0399, abs_tol=5e-5)
    small = regression.LAB.run(NS["SMALL"], figures=False).metrics
    assert math.isclose(small["train_loss"], 0.36, abs_tol=0.005) and small["train_loss"] > 2 * sigma2
    few = regression.LAB.run(NS["FEW_POINTS"], figures=False).metrics
    assert math.isclose(few["train_loss"], 0.0010, abs_tol=5e-5) and few["train_loss"] < sigma2 / 10
    assert math.isclose(few["test_loss"], 0.0708, abs_tol=5e-5) and few["test_loss"] > default_test
    floor = np.median(test.y[(test.x >= 300) & (test.x <= 1000)])  # the bottom of the test curve
    assert 0.055 < floor < 0.065  # "300〜1000 エポックあたりの約 0.06"
    m = long_run.metrics
    assert m["test_loss"] > floor and m["best_epoch"] == 288 and math.isclose(m["best_test_loss"], 0.0552, abs_tol=5e-5)
    assert math.isclose(m["train_loss"], 0.013, abs_tol=5e-4) and m["train_loss"] < default_train
    assert math.isclose(m["test_loss"], 0.066, abs_tol=5e-4) and m["test_loss"] > m["best_test_loss"]
