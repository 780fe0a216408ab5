"""Lecture 5's instructor notes and 考察 reference answers hold at the notebook's default size.

The configs come from the notebook's cells tagged ``settings`` (tests/notebook_settings.py), so each claim is
checked on exactly what a student runs: section 3's run of every method on S1, exercise 5-1's λ grid at its
iteration count, exercise 5-2's sweep over p (run here with ``LAB.run``, the configs ``sweep`` builds) and
Bayes AMP alone at a growing n. Numbers the notes quote are checked within the rounding they are quoted with.
"""

from __future__ import annotations

import numpy as np
import pytest

from dlsm.algorithms.sparse import ista, l1_phase_transition
from dlsm.labs import sparse
from dlsm.problems.sparse import SparseProblem
from dlsm.seeds import generator
from notebook_settings import notebook_settings

NS = notebook_settings("lecture5")


@pytest.fixture(scope="module")
def main():
    return sparse.LAB.run(NS["MAIN"], figures=False)


@pytest.fixture(scope="module")
def ex1_grid_best(main):
    """The λ of the lab's grid that is best after EX1_T ISTA iterations (what the hidden test of exercise 5-1 gets
    from the lab, here from the lab's own λ sweep alone, without FISTA, AMP and OMP)."""
    config = NS["MAIN"]
    g = generator(config.seed, "main")
    prob = SparseProblem.create(config.sparse_setting(), g)
    x, y = prob.draw(config.batch, g)
    lams = [float(v) for v in main.outcome.data["lams"]]
    curve = sparse.lasso_sweep(ista, prob.A, x, y, lams, NS["EX1_T"], lambda _info: None)  # (T, len(lams))
    return lams[int(np.argmin(curve[-1]))]


@pytest.fixture(scope="module")
def ex2():
    """Exercise 5-2's sweep over p, one run per value (the configs that ``sweep`` builds from EX2_BASE)."""
    return {p: sparse.LAB.run(sparse.Config.make("course", **NS["EX2_BASE"], p=p), figures=False)
            for p in NS["EX2_PS"]}


@pytest.fixture(scope="module")
def spread():
    return {(c.p, c.n): sparse.bayes_amp_signals(c) for c in NS["EX2_NS_CONFIGS"]}


def test_settings_are_the_sizes_the_prose_states():
    main = NS["MAIN"]
    assert (main.setting, main.batch, main.iters, main.amp_iters, main.pt_n, main.pt_trials) == ("S1", 10, 1000, 20,
                                                                                                    40, 5)
    assert NS["EX1_T"] == 300 and NS["EX1_T"] not in (20, 100, main.iters)  # no reported count gives the answer
    base = NS["EX2_BASE"]
    assert (base["n"], base["m"], base["batch"], base["amp_iters"]) == (200, 100, 20, 50)


# ---- section 3: the reading guide of the NMSE-per-iteration figure -------------------------------------------

def test_bayes_amp_reaches_the_fixed_point_and_the_genie(main):
    m = main.metrics
    amp, se = main.curves["amp_bg_nmse"].y, main.curves["se_nmse"].y
    assert m["se_fixed_point_db"] == pytest.approx(-45.6, abs=0.05)
    assert m["amp_bg_nmse_db"] == pytest.approx(-45.9, abs=0.3)
    assert abs(m["amp_bg_nmse_db"] - m["se_fixed_point_db"]) < 0.5  # "不動点とほぼ同じ"
    assert m["genie_nmse_db"] == pytest.approx(-46.3, abs=0.3)
    assert abs(m["amp_bg_nmse_db"] - m["genie_nmse_db"]) < 1.0
    first_within_1db = int(np.argmax(amp <= m["se_fixed_point_db"] + 1.0)) + 1
    assert 10 <= first_within_1db <= 12  # "11 回ほど"
    assert np.max(np.abs(amp - se)) < 5.0  # "5 dB 以内"
    assert np.all(amp[:10] > se[:10])  # a little behind the prediction during the transition (up to t = 10)


def test_fista_is_faster_than_ista_and_stays_8db_above_bayes_amp(main):
    m = main.metrics
    ista, fista = main.curves["ista_nmse"].y, main.curves["fista_nmse"].y
    assert m["ista_nmse_db"] == pytest.approx(-31.6, abs=0.1)
    assert m["fista_nmse_db"] == pytest.approx(-37.0, abs=0.1)
    assert int(np.argmax(fista <= ista[-1])) + 1 < 200  # FISTA reaches ISTA's t = 1000 value in under 200
    assert 8.0 <= m["fista_nmse_db"] - m["amp_bg_nmse_db"] <= 10.0  # "9 dB ほど"


def test_soft_amp_beats_ista_and_nears_fista(main):
    m = main.metrics
    assert m["amp_soft_nmse_db"] < m["ista_nmse_db"]
    assert 0 < m["amp_soft_nmse_db"] - m["fista_nmse_db"] < 3.0


# ---- exercise 5-1 and 考察 5-1 ----------------------------------------------------------------------------------

def test_best_lambda_shrinks_with_the_iterations(main, ex1_grid_best):
    m = main.metrics
    frac = {key: m[key] / m["lam_max"] for key in ("ista_best_lam_t20", "ista_best_lam_t100", "ista_best_lam",
                                                   "fista_best_lam")}
    assert frac == pytest.approx({"ista_best_lam_t20": 0.075, "ista_best_lam_t100": 0.05, "ista_best_lam": 0.005,
                                  "fista_best_lam": min(NS["MAIN"].lam_fracs)}, rel=1e-5)
    at_t = ex1_grid_best  # the λ a student finds after T iterations lies in between
    assert m["ista_best_lam"] < at_t < m["ista_best_lam_t100"]
    assert m["fista_nmse_db"] < m["ista_nmse_db"] - 3


# ---- section 5: the phase transition --------------------------------------------------------------------------

def test_phase_transition_boundary_near_the_curve_and_gradual(main):
    m = main.metrics
    assert m["pt_boundary_mae"] == pytest.approx(0.034, abs=0.005)
    assert m["l1_transition_rho"] == pytest.approx(0.386, abs=0.001) and m["rho"] == pytest.approx(0.2)
    boundary = main.tables["phase_boundary"]
    gap = np.abs(np.subtract(boundary.column("rho_empirical"), boundary.column("rho_theory")))
    assert 0.08 <= np.nanmax(gap) <= 0.13  # "0.1 ほどずれる δ もある"
    cells = main.tables["phase_transition"]
    success, deltas = np.array(cells.column("success")), np.array(cells.column("delta"))
    for delta in np.unique(deltas):
        column = success[deltas == delta]
        assert np.any((column > 0) & (column < 1)), delta  # every δ has a cell between failure and success


# ---- exercise 5-2, 考察 5-2 (a): crossing the ℓ1 transition, then AMP's own ------------------------------------

def test_fista_breaks_down_past_the_l1_transition(ex2):
    delta = NS["EX2_BASE"]["m"] / NS["EX2_BASE"]["n"]
    p_star = delta * float(l1_phase_transition(delta))
    assert p_star == pytest.approx(0.193, abs=0.0005)
    fista = {p: r.metrics["fista_nmse_db"] for p, r in ex2.items()}
    for p, quoted in ((0.1, -37), (0.15, -28), (0.2, -15), (0.25, -10)):
        assert fista[p] == pytest.approx(quoted, abs=1.0), p
    assert fista[0.2] - fista[0.15] > 10 > fista[0.15] - fista[0.1]  # the big drop is across p*
    assert all(fista[p] > -16 for p in fista if p > p_star)


def test_bayes_amp_goes_past_p_star_until_its_own_transition(ex2):
    m = {p: r.metrics for p, r in ex2.items()}
    assert m[0.25]["amp_bg_nmse_db_median"] == pytest.approx(-39, abs=1.0)
    assert m[0.25]["se_fixed_point_db"] == pytest.approx(-39, abs=0.5)
    assert m[0.3]["se_fixed_point_db"] == pytest.approx(-37, abs=0.5)
    assert m[0.35]["se_fixed_point_db"] == pytest.approx(-6, abs=0.5)
    assert m[0.3]["se_nmse_db"] == pytest.approx(-17, abs=0.5)  # SE after 50 iterations, far from its fixed point
    assert m[0.3]["amp_bg_nmse_db_median"] == pytest.approx(-11, abs=1.0)
    for p in (0.1, 0.15, 0.2, 0.25):
        assert abs(m[p]["amp_bg_nmse_db_median"] - m[p]["se_fixed_point_db"]) < 1.0, p


# ---- 考察 5-2 (b): a few failed signals dominate the ratio of sums ----------------------------------------------

def _signal_energy(config) -> np.ndarray:
    g = generator(config.seed, "main")
    prob = SparseProblem.create(config.sparse_setting(), g)
    x, _ = prob.draw(config.batch, g)
    return (x.double() ** 2).sum(1).numpy()  # (batch,)


def test_one_failed_signal_dominates_the_ratio_at_p_0_2(ex2):
    run = ex2[0.2]
    m, per_signal = run.metrics, run.outcome.data["amp_bg_signal_nmse_db"]
    assert m["se_fixed_point_db"] == pytest.approx(-41, abs=0.5)
    assert m["amp_bg_nmse_db"] == pytest.approx(-27, abs=1.0)
    assert m["amp_bg_nmse_db_median"] == pytest.approx(-41, abs=1.0)
    assert m["amp_bg_nmse_db_worst"] == pytest.approx(-12, abs=1.0)
    assert int(np.sum(per_signal > m["se_fixed_point_db"] + NS["EX2_FAIL_DB"])) == 1
    error = 10 ** (per_signal / 10) * _signal_energy(run.config)  # ‖x̂_i − x_i‖²
    worst = int(np.argmax(per_signal))
    assert error[worst] > 5 * (error.sum() - error[worst])  # "残り 19 本の誤差の合計よりずっと大きく"
    assert 10 * np.log10(error.sum() / _signal_energy(run.config).sum()) == pytest.approx(m["amp_bg_nmse_db"],
                                                                                         abs=1e-3)
    m25 = ex2[0.25].metrics
    assert m25["amp_bg_nmse_db_median"] == pytest.approx(-39, abs=1.0)
    assert m25["amp_bg_nmse_db"] == pytest.approx(-18, abs=1.0)


def test_failures_become_rarer_as_n_grows(spread):
    ns, fail = NS["EX2_NS"], NS["EX2_FAIL_DB"]
    assert ns == (200, 500, 1000) and NS["EX2_NS_BATCH"] == 100
    assert [spread[0.2, n].failed(fail) for n in ns] == [4, 0, 0]
    for n in ns[1:]:
        assert spread[0.2, n].nmse_db == pytest.approx(-41, abs=0.5)
    failed = [spread[0.25, n].failed(fail) for n in ns]
    assert failed[0] > failed[1] > failed[2] > 0
    assert failed[0] == pytest.approx(24, abs=2) and failed[2] == pytest.approx(7, abs=2)
    for (p, n), s in spread.items():
        assert abs(float(np.median(s.per_signal_db)) - s.se_fixed_point_db) < 1.5, (p, n)
