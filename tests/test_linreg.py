"""linreg and least squares against NumPy: lstsq, eigenvalues of AᵀA, and gradient descent written in NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlsm.algorithms.least_squares import Standardizer, gd_excess_loss, least_squares, mse, mse_hessian
from dlsm.cli import main
from dlsm.errors import ConfigError
from dlsm.i18n import language, t
from dlsm.labs import linreg
from dlsm.problems.regression import crop_yields
from dlsm.status import Status

# The course's table, typed in again here so that the tests do not read it from the code under test.
X_COURSE = np.array([[73, 67, 43], [91, 88, 64], [87, 134, 58], [102, 43, 37], [69, 96, 70]], dtype=float)
APPLES = np.array([56, 81, 119, 22, 103], dtype=float)
ORANGES = np.array([70, 101, 133, 37, 119], dtype=float)


def numpy_lstsq(X, y):
    A = np.hstack([X, np.ones((len(X), 1))])
    theta, *_ = np.linalg.lstsq(A, y, rcond=None)
    return theta, float(np.mean((A @ theta - y) ** 2))


def numpy_hessian_eigs(X):
    A = np.hstack([X, np.ones((len(X), 1))])
    return np.linalg.eigvalsh(2 / len(X) * A.T @ A)


def test_table_is_the_course_table():
    for target, y_ref in (("apples", APPLES), ("oranges", ORANGES)):
        X, y = crop_yields(target)
        np.testing.assert_array_equal(X.numpy(), X_COURSE)
        np.testing.assert_array_equal(y.numpy(), y_ref)


@pytest.mark.parametrize("y_ref", [APPLES, ORANGES], ids=["apples", "oranges"])
def test_least_squares_equals_numpy_lstsq_on_the_course_table(y_ref):
    theta_ref, loss_ref = numpy_lstsq(X_COURSE, y_ref)
    fit = least_squares(torch.from_numpy(X_COURSE), torch.from_numpy(y_ref))
    np.testing.assert_allclose(fit.w.numpy(), theta_ref[:3], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(float(fit.b), theta_ref[3], rtol=1e-8, atol=1e-9)
    loss = float(mse(torch.from_numpy(X_COURSE), torch.from_numpy(y_ref), fit.w, fit.b))
    assert loss == pytest.approx(loss_ref, rel=1e-9)


def test_least_squares_equals_numpy_lstsq_on_random_data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 4)) * np.array([1, 10, 100, 0.1]) + 5
    y = rng.normal(size=50)
    theta_ref, _ = numpy_lstsq(X, y)
    fit = least_squares(torch.from_numpy(X), torch.from_numpy(y))
    np.testing.assert_allclose(np.append(fit.w.numpy(), float(fit.b)), theta_ref, rtol=1e-9, atol=1e-10)


def test_standardizer_maps_weights_back_to_raw_units():
    Xt = torch.from_numpy(X_COURSE)
    scaler = Standardizer.fit(Xt)
    Z = scaler.transform(Xt).numpy()
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-12)
    w, b = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64), torch.tensor(4.0, dtype=torch.float64)
    raw = scaler.to_raw(w, b)
    np.testing.assert_allclose(X_COURSE @ raw.w.numpy() + float(raw.b), Z @ w.numpy() + 4.0, rtol=1e-12)


def test_hessian_and_the_gd_theory_match_numpy():
    H = mse_hessian(torch.from_numpy(X_COURSE)).numpy()
    np.testing.assert_allclose(np.linalg.eigvalsh(H), numpy_hessian_eigs(X_COURSE), rtol=1e-9)
    # theory's loss curve = gradient descent written in NumPy
    rng = np.random.default_rng(0)
    A = np.hstack([X_COURSE, np.ones((5, 1))])
    theta_star, loss_star = numpy_lstsq(X_COURSE, APPLES)
    theta = theta_star + rng.normal(size=4)
    e0 = theta - theta_star
    losses = []
    for _ in range(50):
        losses.append(np.mean((A @ theta - APPLES) ** 2))
        theta = theta - 2e-5 * (2 / 5) * A.T @ (A @ theta - APPLES)
    predicted = loss_star + gd_excess_loss(torch.from_numpy(H), torch.from_numpy(e0), 2e-5, torch.arange(50)).numpy()
    np.testing.assert_allclose(predicted, losses, rtol=1e-8)


def test_lab_default_matches_lstsq_and_theory():
    res = linreg.run(linreg.Config())
    m = res.metrics
    theta_ref, loss_ref = numpy_lstsq(X_COURSE, APPLES)
    lam = numpy_hessian_eigs(X_COURSE)
    assert m["lstsq_loss"] == pytest.approx(loss_ref, rel=1e-9)
    assert m["lstsq_prediction"] == pytest.approx(float(np.array([80, 80, 80, 1]) @ theta_ref), rel=1e-9)
    assert m["lr_max"] == pytest.approx(2 / lam.max(), rel=1e-9)
    assert m["condition_number"] == pytest.approx(lam.max() / lam.min(), rel=1e-6)
    # the figures (measured by its author) agree with the NumPy oracle
    assert m["lr_max"] == pytest.approx(5.6e-5, rel=0.01)
    assert 1.5e6 < m["condition_number"] < 2.5e6
    assert m["lr"] == 1e-5 and not m["diverged"] and m["stable_by_theory"]
    assert m["loss"] < m["loss_initial"]
    assert set(res.tables) == {"weights", "data", "curvature"}
    assert res.curves["loss"].x.shape == (100,)


def test_lab_gradient_descent_equals_numpy_gradient_descent():
    cfg = linreg.Config(steps=200, seed=5)
    res = linreg.run(cfg)
    A = np.hstack([X_COURSE, np.ones((5, 1))])
    theta = np.append(res.artifacts["w_init"].numpy(), float(res.artifacts["b_init"]))
    losses = []
    for _ in range(cfg.steps):
        r = A @ theta - APPLES
        losses.append(np.mean(r**2))
        theta = theta - 1e-5 * (2 / 5) * A.T @ r
    np.testing.assert_allclose(res.curves["loss"].y, losses, rtol=1e-9)
    np.testing.assert_allclose(res.artifacts["w"].numpy(), theta[:3], rtol=1e-9)
    assert res.metrics["loss"] == pytest.approx(np.mean((A @ theta - APPLES) ** 2), rel=1e-9)
    assert res.metrics["prediction"] == pytest.approx(float(np.array([80, 80, 80, 1]) @ theta), rel=1e-9)


def test_lr_1e4_diverges_and_the_note_gives_the_bound():
    res = linreg.run(linreg.Config(lr=1e-4))
    m = res.metrics
    assert m["diverged"] and not m["stable_by_theory"]
    # what was measured is in the notes, the bound 2/λmax (the theory) in the explanations
    assert t("linreg.note.diverged", steps=m["steps_run"], loss=m["loss"], loss_initial=m["loss_initial"]) in res.notes
    growth = abs(1 - m["lr"] * m["lambda_max"])
    why = t("linreg.note.diverged_why", lr=m["lr"], lr_max=m["lr_max"], growth=growth, growth2=growth**2)
    assert why in res.explanations and why not in res.notes
    assert growth == pytest.approx(abs(1 - 1e-4 * numpy_hessian_eigs(X_COURSE).max()), rel=1e-9)


def test_notes_follow_the_language_and_the_numbers_do_not():
    config = linreg.Config(lr=1e-4)
    english = linreg.LAB.run(config, figures=False)
    with language("ja"):
        japanese = linreg.LAB.run(config, figures=False)
        expected = t("linreg.note.tol_not_reached", percent=1, steps=english.metrics["steps_run"])
    assert japanese.metrics == english.metrics
    assert expected in japanese.notes and "steps_to_tol" in expected  # the None headline metric is named
    assert not english.figures and not japanese.figures


def test_stability_bound_separates_convergence_from_divergence():
    lr_max = 2 / numpy_hessian_eigs(X_COURSE).max()
    below = linreg.run(linreg.Config(lr=0.95 * lr_max, steps=3000))
    above = linreg.run(linreg.Config(lr=1.05 * lr_max, steps=3000))
    assert not below.metrics["diverged"] and below.metrics["loss"] < below.metrics["loss_initial"]
    assert above.metrics["diverged"]


@pytest.mark.parametrize("target", ["apples", "oranges"])
def test_standardized_gradient_descent_reaches_least_squares_fast(target):
    res = linreg.run(linreg.Config(target=target, standardize=True, steps=400, predict_at=(70.0, 100.0, 50.0)))
    y_ref = APPLES if target == "apples" else ORANGES
    theta_ref, loss_ref = numpy_lstsq(X_COURSE, y_ref)
    m = res.metrics
    assert m["lr"] == 0.1 and m["condition_number"] < 10
    assert m["steps_to_tol"] < 300
    assert m["loss"] == pytest.approx(loss_ref, rel=1e-3)
    np.testing.assert_allclose(res.artifacts["w_raw"].numpy(), theta_ref[:3], rtol=1e-3, atol=1e-3)
    assert m["prediction"] == pytest.approx(float(np.array([70, 100, 50, 1]) @ theta_ref), abs=1e-2)
    assert m["lstsq_prediction"] == pytest.approx(float(np.array([70, 100, 50, 1]) @ theta_ref), rel=1e-9)


def test_same_seed_same_numbers_other_seed_other_start():
    a = linreg.run(linreg.Config(seed=7))
    b = linreg.run(linreg.Config(seed=7))
    c = linreg.run(linreg.Config(seed=8))
    assert a.metrics == b.metrics
    assert a.metrics["loss_initial"] != c.metrics["loss_initial"]


def test_ctrl_c_keeps_what_was_done():
    def progress(done, total, info):
        if done == 30:
            raise KeyboardInterrupt

    res = linreg.run(linreg.Config(steps=100), progress=progress)
    assert res.status == Status.INTERRUPTED
    assert res.metrics["steps_run"] == 30 and "loss" in res.figures
    assert res.notes[0] == t("linreg.note.interrupted", steps=30, total=100)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"lr": -1e-5}, "lr: got -1e-05; allowed: float > 0"),
        ({"lr": 0.0}, "lr: got 0.0"),
        ({"steps": 0}, "steps: got 0"),
        ({"target": "bananas"}, "target: got 'bananas'; allowed: one of: apples, oranges"),
        ({"predict_at": (80.0, 80.0)}, "predict_at: expected 3 elements"),
    ],
)
def test_invalid_values_raise_config_error(overrides, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace("+", r"\+")):
        linreg.Config.make("quick", **overrides)


def test_cli_sweep_over_lr(tmp_path, capsys):
    assert main(["run", "linreg", "lr=1e-5,1e-4", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[1].split()
    assert header[0] == "lr" and "diverged" in header and "True" in out and "False" in out
    (sweep_dir,) = (tmp_path / "linreg").iterdir()
    assert (sweep_dir / "figures" / "overlay_loss.png").is_file()
