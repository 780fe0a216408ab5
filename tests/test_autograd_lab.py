"""The autograd lab: the course's numbers, autograd against finite differences, broadcasting against NumPy."""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch

from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import autograd


def test_course_example():
    m = autograd.run(autograd.Config()).metrics
    # course, lecture 4: y = w x + b at x = 3, w = 4, b = 5 gives dy/dw = 3, dy/db = 1
    assert m["y"] == 17.0
    assert m["dy_dw"] == 3.0
    assert m["dy_db"] == 1.0
    assert m["dy_dx"] == 4.0


@pytest.mark.parametrize("point", [(3.0, 4.0, 5.0), (-0.7, 0.3, -0.2)])
def test_derivatives_table_agrees_with_central_differences(point):
    x, w, b = point
    res = autograd.run(autograd.Config(x=x, w=w, b=b))
    table = res.tables["derivatives"]
    rows = {(r[0], r[1]): r for r in table.rows}
    h = 1e-6
    checked = 0
    for ex in autograd.SCALAR_EXAMPLES:
        for var in ex.partials:
            def f(delta, var=var, ex=ex):
                args = {"x": x, "w": w, "b": b}
                args[var] += delta
                return float(ex.f(*(torch.tensor(args[k], dtype=torch.float64) for k in ("x", "w", "b"))))

            fd = (f(h) - f(-h)) / (2 * h)
            row = rows[(ex.name, f"∂y/∂{var}")]
            auto, hand = row[table.columns.index("autograd")], row[table.columns.index("hand value")]
            assert auto == pytest.approx(fd, rel=1e-6, abs=1e-6), (ex.name, var)
            assert hand == pytest.approx(fd, rel=1e-6, abs=1e-6), (ex.name, var)
            checked += 1
    assert checked == len(table.rows) >= 10
    assert res.metrics["max_abs_error"] < 1e-9


def test_derivative_on_a_grid_equals_pointwise_autograd():
    ex = next(e for e in autograd.SCALAR_EXAMPLES if e.name == "y = sin(x²)")
    grid = torch.linspace(-2, 2, 9, dtype=torch.float64)
    on_grid = autograd.derivative_on_grid(ex, grid)
    for xi, d in zip(grid.tolist(), on_grid.tolist(), strict=True):
        _, grads = autograd.autograd_partials(ex, xi, 0.0, 0.0)
        assert d == pytest.approx(grads["x"], rel=1e-12, abs=1e-12)


def test_vector_gradients_agree_with_finite_differences():
    # the table's f(v) = vᵀ A v row, checked independently: central differences of vᵀ A v
    n = 5
    res = autograd.run(autograd.Config(n=n, seed=2))
    g = torch.Generator().manual_seed(2)
    v = torch.randn(n, generator=g, dtype=torch.float64)
    A = torch.randn(n, n, generator=g, dtype=torch.float64)
    h = 1e-6
    fd = np.array([(float((v + h * e) @ A @ (v + h * e)) - float((v - h * e) @ A @ (v - h * e))) / (2 * h)
                   for e in torch.eye(n, dtype=torch.float64)])
    table = res.tables["gradients"]
    row = next(r for r in table.rows if r[0] == "f(v) = vᵀ A v")
    shown = ast.literal_eval(row[table.columns.index("autograd")])
    np.testing.assert_allclose(shown, fd[:6], atol=1e-4)
    assert max(table.column("max_abs_error")) < 1e-9


NUMPY_BROADCASTS = {
    "2 * x + 1": lambda x: 2 * x + 1,
    "torch.sigmoid(x)": lambda x: 1 / (1 + np.exp(-x)),
    "x @ torch.ones(3, 1) + 1": lambda x: x @ np.ones((3, 1)) + 1,
    "x + torch.tensor([10., 20., 30.])": lambda x: x + np.array([10.0, 20.0, 30.0]),
    "x + torch.tensor([[100.], [200.]])": lambda x: x + np.array([[100.0], [200.0]]),
    "torch.arange(3.).reshape(3, 1) + torch.arange(4.)": lambda x: np.arange(3.0).reshape(3, 1) + np.arange(4.0),
    "x + torch.tensor([1., 2.])": lambda x: x + np.array([1.0, 2.0]),
}


def test_broadcasting_table_agrees_with_numpy():
    table = autograd.run(autograd.Config()).tables["broadcasting"]
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert set(table.column("expression")) == set(NUMPY_BROADCASTS)
    for row in table.rows:
        expr, shape, value = row[0], row[table.columns.index("result shape")], row[table.columns.index("result")]
        try:
            expected = NUMPY_BROADCASTS[expr](x)
        except ValueError:  # NumPy refuses the same shapes
            assert shape == "error" and "must match" in value
            continue
        assert shape == str(expected.shape)
        np.testing.assert_allclose(np.array(ast.literal_eval(value)), expected, atol=1e-4)


def test_same_seed_same_tables():
    a = autograd.run(autograd.Config(seed=3))
    b = autograd.run(autograd.Config(seed=3))
    assert a.metrics == b.metrics
    assert a.tables["gradients"].rows == b.tables["gradients"].rows


def test_notes_give_the_course_numbers_and_keep_the_reason_apart():
    cfg = autograd.Config()
    res = autograd.LAB.run(cfg, figures=False)
    m = res.metrics
    assert res.notes == [t("autograd.note.course", x=3.0, w=4.0, b=5.0, y=17.0, dw=3.0, db=1.0),
                         t("autograd.note.agree", n=m["n_checks"], error=m["max_abs_error"])]
    assert res.explanations == [t("autograd.note.course_by_hand", x=3.0), t("autograd.note.agree_why")]
    assert not res.figures and "derivatives" in autograd.run(cfg).figures


@pytest.mark.parametrize(("overrides", "fragment"),
                         [({"n": 0}, "n: got 0; allowed: int >= 1"), ({"x": float("nan")}, "x: got nan")])
def test_invalid_values_raise_config_error(overrides, fragment):
    with pytest.raises(ConfigError, match=fragment):
        autograd.Config.make("quick", **overrides)
