"""What lecture 1's instructor notes and reference discussions state holds at the notebook's default size.

The configs are the notebook's own (its cells tagged ``settings``, read at ``SIZE = "course"``), so a note
and the run it describes cannot drift apart. Every lab here is small: the whole file takes a few seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlsm.algorithms.quadratic_theory import momentum_rate
from dlsm.labs import activations, gd1d, gd2d, quadfit
from notebook_settings import notebook_settings

NS = notebook_settings("lecture1")


def _close(value: float, stated: float, rel: float = 0.01) -> bool:
    return math.isclose(value, stated, rel_tol=rel)


def _optimizers(result) -> dict[str, dict]:
    table = result.tables["optimizers"]
    return {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}


@pytest.fixture(scope="module")
def base():
    return gd2d.run(NS["BASE_CONFIG"], figures=False)


@pytest.fixture(scope="module")
def lr_runs():
    return {lr: gd2d.run(gd2d.Config.make("course", **NS["LR_BASE"], lr=lr), figures=False)
            for lr in NS["LR_VALUES"]}


@pytest.fixture(scope="module")
def x0_runs():
    return {x0: gd2d.run(gd2d.Config.make("course", **NS["X0_BASE"], x0=x0), figures=False) for x0 in NS["STARTS"]}


def test_the_notebook_runs_the_course_settings():
    assert NS["BASE_CONFIG"] == gd2d.Config()  # x0 = (4, 1), α = 0.18, 20 steps
    assert NS["GD1D_CONFIG"] == gd1d.Config()
    assert NS["LR_VALUES"] == [0.18, 0.2, 0.25, 0.05, 0.005]


def test_activations_note():
    act = activations.run(NS["ACT_CONFIG"], figures=False)
    m = act.metrics
    assert max(v for k, v in m.items() if k.endswith("_max_abs_diff_vs_autograd")) < 1e-15  # 0 or about 1e-16
    assert m["sigmoid_max_slope"] == pytest.approx(0.25) and m["tanh_max_slope"] == pytest.approx(1.0)
    table = act.tables["values"]
    row = dict(zip(table.columns, table.rows[0], strict=True))
    assert row["u"] == -2.0 and row["softplus'"] == pytest.approx(row["sigmoid"]) == pytest.approx(0.119203, abs=1e-6)
    assert np.allclose(table.column("softplus'"), table.column("sigmoid"))
    u, slopes = act.data["u"], act.data["slopes"]
    for name in ("sigmoid", "tanh"):  # largest at u = 0, close to 0 for large |u| (saturation)
        assert abs(u[np.argmax(slopes[name])]) < 1e-12
        assert slopes[name][0] < 0.01 and slopes[name][-1] < 0.01
    assert np.all(slopes["relu"][u > 0] == 1.0)


def test_gd1d_notes():
    r1 = gd1d.run(NS["GD1D_CONFIG"], figures=False).metrics
    assert r1["converged"] and r1["steps_run"] == 25 and _close(r1["s_final"], 5.7e-6, rel=0.02)
    assert r1["local_rate"] == pytest.approx(0.6)
    r4 = gd1d.run(NS["X4_CONFIG"], figures=False)
    s = r4.tables["iterations"].column("s_k")
    assert r4.metrics["diverged"] and r4.metrics["steps_run"] == 4
    assert s[:3] == pytest.approx([2.0, -4.4, 63.7472]) and abs(r4.metrics["s_final"]) > 1e6
    assert 1 / math.sqrt(2 * NS["X4_CONFIG"].lr) == pytest.approx(1.581, abs=1e-3)
    assert 1 / math.sqrt(2 * NS["X4_SMALL_CONFIG"].lr) == pytest.approx(3.162, abs=1e-3)
    small = gd1d.run(NS["X4_SMALL_CONFIG"], figures=False)
    s = np.abs(small.tables["iterations"].column("s_k"))
    assert not small.metrics["converged"] and not small.metrics["diverged"]  # towards 0, slowly
    assert np.all(np.diff(s) < 0) and small.metrics["s_final"] == pytest.approx(0.25, abs=0.01)
    wells = [gd1d.run(c, figures=False).metrics for c in NS["WELL_CONFIGS"]]
    assert NS["WELL_STARTS"] == [2.0, 0.5, -2.0]
    for m, (x, f) in zip(wells, [(1.131, -1.07), (1.131, -1.07), (-1.301, -3.51)], strict=True):
        assert m["s_final"] == pytest.approx(x, abs=1e-3) and m["f_final"] == pytest.approx(f, abs=5e-3)


def test_base_run_note(base):
    m = base.metrics
    assert m["lr_opt"] == pytest.approx(2 / 11) and _close(m["lr_opt"], 0.1818)
    assert base.tables["trajectory"].column("error")[0] == pytest.approx(17.0)
    assert _close(m["error_final"], 0.0058, rel=0.02) and m["behaviour"] == "converged"


def test_learning_rate_discussion(lr_runs):
    m = {lr: r.metrics for lr, r in lr_runs.items()}
    assert m[0.2]["behaviour"] == "oscillates (never converges)" and m[0.2]["rate_measured"] == pytest.approx(1.0)
    assert m[0.2]["error_final"] > 1 and _close(m[0.2]["error_final"], 1.002, rel=1e-3)
    assert m[0.25]["behaviour"] == "diverges" and m[0.25]["rate_measured"] == pytest.approx(1.5)
    assert _close(m[0.25]["x2_final"], 3325, rel=1e-3)
    for lr, error in ((0.05, 2.06), (0.005, 13.2)):
        assert m[lr]["behaviour"] == "converging (not within tol yet)"
        assert m[lr]["rate_measured"] == pytest.approx(1 - lr) and _close(m[lr]["error_final"], error, rel=0.01)
    assert m[0.18]["behaviour"] == "converged"


def test_starting_point_discussion(x0_runs):
    on_axis, off_axis, x2_axis = (x0_runs[x].metrics for x in NS["STARTS"])
    assert on_axis["behaviour"] == "converged" and on_axis["rate_measured"] == pytest.approx(0.75)
    assert _close(on_axis["error_final"], 1.6e-4, rel=0.02)
    assert off_axis["behaviour"] == "diverges" and _close(off_axis["error_final"], 11.06, rel=1e-3)
    assert x2_axis["behaviour"] == "diverges" and x2_axis["rate_measured"] == pytest.approx(1.5)


def test_optimizers_discussion(base):
    o = _optimizers(base)
    assert min(o, key=lambda n: o[n]["error_final"]) == "gd"  # at the course's α, plain gd is best
    assert o["gd"]["t_stays_within_tol"] == 19 and _close(o["gd"]["error_final"], 0.0058, rel=0.02)
    assert _close(o["momentum"]["error_final"], 1.52, rel=0.01) and _close(o["momentum"]["rate_theory"], 0.949, 1e-3)
    assert o["momentum"]["rate_theory"] == pytest.approx(math.sqrt(0.9)) and o["momentum"]["rate_theory"] > 0.82
    assert o["nesterov"]["behaviour"] == "diverges" and _close(o["nesterov"]["rate_theory"], 1.899, rel=1e-3)
    assert 1e11 < o["nesterov"]["error_final"] < 3e11
    assert _close(o["adam"]["error_final"], 0.545, rel=0.01) and o["adam"]["t_stays_within_tol"] is None
    stable = [lr for lr in NS["NESTEROV_GRID"] if momentum_rate((1.0, 10.0), lr, 0.9, nesterov=True) < 1]
    assert max(stable) == pytest.approx(0.136, abs=1e-3)

    small_lr = _optimizers(gd2d.run(NS["SMALL_LR_CONFIG"], figures=False))
    for name, error in (("gd", 2.06), ("momentum", 0.327), ("nesterov", 0.0763), ("adam", 9.12)):
        assert _close(small_lr[name]["error_final"], error, rel=0.01), name
    assert small_lr["nesterov"]["error_final"] < small_lr["momentum"]["error_final"] < small_lr["gd"]["error_final"]
    assert small_lr["gd"]["rate_measured"] == pytest.approx(0.95)

    small_mu = _optimizers(gd2d.run(NS["SMALL_MU_CONFIG"], figures=False))
    assert small_mu["momentum"]["t_stays_within_tol"] == 11 and _close(small_mu["momentum"]["error_final"], 1.7e-5,
                                                                       rel=0.03)
    assert small_mu["momentum"]["error_final"] < small_mu["gd"]["error_final"]
    assert small_mu["nesterov"]["behaviour"] == "diverges"


def test_exercise_1_2a_hidden_test_passes_with_the_model_answer():
    config = NS["SLOW_CONFIG"]
    traj = gd2d.run(config, figures=False).tables["trajectory"]
    first = next(t for t, e in zip(traj.column("t"), traj.column("error"), strict=True) if e <= config.tol)
    alpha, (x1, x2) = config.lr, config.x0
    theory = next(t for t in range(10_000) if ((1 - alpha) ** t * x1) ** 2 + ((1 - 10 * alpha) ** t * x2) ** 2
                  <= config.tol)
    assert isinstance(first, int) and first == theory and 0 < first <= config.steps


def test_quadfit_note():
    m = quadfit.run(NS["QF_CONFIG"], figures=False).metrics
    assert (m["a_ls"], m["b_ls"], m["c_ls"]) == pytest.approx((2.177, -1.013, 0.529), abs=5e-4)
    assert m["distance_to_ls"] < 1e-13 and _close(m["lr_max"], 1.859, rel=1e-3)
    big = quadfit.run(NS["QF_BIG_CONFIG"], figures=False).metrics
    assert NS["QF_BIG_CONFIG"].lr > m["lr_max"] and big["diverged"] and big["steps_run"] == 222
