"""Noisy 1-D data and the regression lab: split, noise statistics, under-/over-fitting against oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import regression
from dlsm.problems.regression import TARGETS, noisy_regression_data, sample_noisy_function, train_test_split
from dlsm.status import Status

# Small sizes: each run takes well under a second.
SMALL = {"n_train": 12, "n_test": 30, "width": 16, "epochs": 150}


def test_sampler_noise_has_the_requested_std():
    g = torch.Generator().manual_seed(0)
    x, y = sample_noisy_function(TARGETS["sin"], 20_000, 0.3, g)
    assert x.shape == y.shape == (20_000, 1)
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    residual = (y - torch.sin(2 * math.pi * x)).numpy()
    assert residual.mean() == pytest.approx(0, abs=0.015)  # 5 standard errors: 5 * 0.3 / sqrt(20000)
    assert residual.std() == pytest.approx(0.3, rel=0.02)


def test_split_is_a_partition_and_reproducible():
    g = torch.Generator().manual_seed(1)
    x = torch.arange(10.0).unsqueeze(1)
    data = train_test_split(x, 2 * x, 3, g)
    assert data.x_train.shape == (7, 1) and data.x_test.shape == (3, 1)
    together = sorted(torch.cat([data.x_train, data.x_test])[:, 0].tolist())
    assert together == list(range(10))
    torch.testing.assert_close(data.y_train, 2 * data.x_train)
    again = noisy_regression_data("abs", 7, 3, 0.1, torch.Generator().manual_seed(4))
    other = noisy_regression_data("abs", 7, 3, 0.1, torch.Generator().manual_seed(4))
    torch.testing.assert_close(again.x_test, other.x_test)
    with pytest.raises(ConfigError, match="n_test"):
        train_test_split(x, x, 10, g)


def test_same_seed_same_numbers():
    a = regression.run(regression.Config(**SMALL, seed=3))
    b = regression.run(regression.Config(**SMALL, seed=3))
    assert a.metrics == b.metrics
    np.testing.assert_array_equal(a.curves["test_loss"].y, b.curves["test_loss"].y)


def test_quick_run_has_curves_figures_and_decreasing_loss():
    res = regression.run(regression.Config.make("quick"))
    assert res.status == Status.COMPLETED
    train, test = res.curves["loss"].y, res.curves["test_loss"].y
    assert train[-1] < 0.5 * train[0]
    assert len(train) == len(test) == regression.Config.quick["epochs"]
    assert {"fit", "loss"} <= set(res.figures)
    m = res.metrics
    # the floor is the test MSE of the true function, recomputed from the saved test set
    x_te, y_te = res.artifacts["x_test"], res.artifacts["y_test"]
    assert m["test_floor"] == pytest.approx(float(((torch.sin(2 * math.pi * x_te) - y_te) ** 2).mean()), rel=1e-5)
    assert m["n_params"] == 1 * 32 + 32 + 32 * 32 + 32 + 32 + 1


def test_depth_0_is_a_line_and_cannot_beat_least_squares():
    """A network without hidden layers is ŷ = w x + b: its training loss is at least the lstsq line's."""
    res = regression.run(regression.Config(**{**SMALL, "depth": 0, "epochs": 400, "lr": 0.05}))
    x, y = res.artifacts["x_train"].double().numpy(), res.artifacts["y_train"].double().numpy()[:, 0]
    A = np.hstack([x, np.ones_like(x)])
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    best_line = float(np.mean((A @ theta - y) ** 2))
    assert res.metrics["train_loss"] >= best_line - 1e-5
    assert res.metrics["train_loss"] == pytest.approx(best_line, rel=0.05)  # and Adam gets close to it
    assert res.metrics["train_loss"] > 2 * 0.2**2
    assert t("regression.note.underfitting") in res.explanations
    assert t("regression.note.train_high", train=res.metrics["train_loss"], s2=res.metrics["noise_var"]) in res.notes


def test_a_large_network_trained_long_fits_the_noise():
    res = regression.run(regression.Config(n_train=10, n_test=50, width=32, epochs=1500, seed=1))
    m = res.metrics
    assert m["train_loss"] < 0.5 * m["noise_var"]
    assert m["test_loss"] > 2 * m["train_loss"]
    assert t("regression.note.overfitting") in res.explanations
    assert t("regression.note.overfitting") not in res.notes  # the reason is kept apart from what was measured


def test_minibatches_and_ctrl_c():
    res = regression.run(regression.Config(**{**SMALL, "batch_size": 5, "epochs": 20}))
    assert res.metrics["epochs"] == 20 and math.isfinite(res.metrics["test_loss"])

    def progress(done, total, info):
        if done == 7:
            raise KeyboardInterrupt

    stopped = regression.run(regression.Config(**SMALL), progress=progress)
    assert stopped.status == Status.INTERRUPTED and stopped.metrics["epochs"] == 7
    assert "fit" in stopped.figures
    assert stopped.notes[0] == t("regression.note.interrupted", epochs=7, total=SMALL["epochs"])


def test_a_too_large_lr_diverges_with_a_note():
    res = regression.run(regression.Config(**{**SMALL, "depth": 3, "activation": "relu", "lr": 1e5}), figures=False)
    assert res.status == Status.DIVERGED and res.metrics["diverged"]
    assert res.explanations == [t("regression.note.diverged_why")]
    assert len(res.notes) == 1 and not res.figures


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"width": 0}, "width: got 0; allowed: int >= 1"),
        ({"depth": -1}, "depth: got -1"),
        ({"lr": -0.1}, "lr: got -0.1; allowed: float > 0"),
        ({"n_train": 1}, "n_train: got 1"),
        ({"activation": "swish"}, "activation: got 'swish'; allowed: one of: tanh, relu, sigmoid"),
        ({"noise_std": -0.2}, "noise_std: got -0.2"),
        ({"batch_size": 0}, "batch_size: got 0"),
    ],
)
def test_invalid_values_raise_config_error(overrides, fragment):
    with pytest.raises(ConfigError, match=fragment):
        regression.Config.make("quick", **overrides)
