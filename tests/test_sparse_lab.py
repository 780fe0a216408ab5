"""The sparse lab: metrics against theory at quick size, settings, bad input, notes through the glossary."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlsm.cli import main
from dlsm.i18n import t
from dlsm.labs import sparse
from dlsm.labs.sparse import LAB, Config, Outcome, empirical_boundary
from dlsm.status import Status


@pytest.fixture(scope="module")
def quick():
    return LAB(Config.make("quick"))


def test_quick_run_against_theory(quick):
    m = quick.metrics
    for key in LAB.headline:
        assert m[key] is not None and math.isfinite(m[key])
    assert m["diverged"] is False
    assert m["se_fixed_point_db"] == pytest.approx(-45.6, abs=0.05)
    assert m["amp_bg_nmse_db"] == pytest.approx(m["se_nmse_db"], abs=1.5)  # 10 signals of n = 500
    assert m["genie_nmse_db"] <= m["amp_bg_nmse_db"] + 1.0
    assert m["amp_bg_nmse_db"] < m["fista_nmse_db"] <= m["ista_nmse_db"]
    assert m["ista_nmse_db_t20"] > m["ista_nmse_db_t100"] > m["ista_nmse_db"]
    assert m["pt_boundary_mae"] is not None and m["pt_boundary_mae"] < 0.2
    assert {"nmse", "lambda_sweep", "signal", "phase_transition"} <= set(quick.figures)
    assert len(quick.tables["lambda_sweep"].rows) == len(Config.quick["lam_fracs"])


def test_typed_outcome_and_notes(quick):
    out = quick.outcome
    assert isinstance(out, Outcome) and out.status == Status.COMPLETED
    assert out.amp_bg_nmse_db == quick.metrics["amp_bg_nmse_db"] == out.nmse_db
    assert set(out.extra) == {"ista_nmse_db_t20", "ista_best_lam_t20", "ista_nmse_db_t100", "ista_best_lam_t100"}
    assert LAB.headline == ("nmse_db", "se_fixed_point_db", "genie_nmse_db", "amp_bg_nmse_db", "amp_soft_nmse_db",
                            "fista_nmse_db", "ista_nmse_db", "omp_nmse_db")
    config = Config.make("quick")
    assert quick.notes[0] == t("sparse.note.amp", amp=out.amp_bg_nmse_db, T=config.amp_iters, se=out.se_nmse_db,
                               se_fp=out.se_fixed_point_db, genie_db=out.genie_nmse_db)
    assert t("sparse.note.limits_why") in quick.explanations and t("sparse.note.limits_why") not in quick.notes


def test_each_method_has_its_own_meaning():
    meanings = {name: LAB.metric_meaning(name)[0] for name in LAB.headline}
    assert all(meanings.values()) and len(set(meanings.values())) == len(meanings)
    assert LAB.metric_meaning("ista_nmse_db_t20")[0] == t("sparse.metric.ista_nmse_db_t{t}", t="20")
    assert LAB.metric_meaning("ista_best_lam_t100") == (t("sparse.metric.ista_best_lam_t{t}", t="100"), "")


def test_settings_and_overrides():
    assert Config(setting="S2").sparse_setting().noise_std == 0.05
    s = Config(setting="S2", snr_db=30.0, n=100, m=120).sparse_setting()
    assert (s.n, s.m, s.snr_db, s.noise_std, s.matrix) == (100, 120, 30.0, None, "gauss_1")


def test_fixed_lambda_and_no_phase_transition():
    r = LAB(Config.make("quick", lam=0.02, pt_grid=0, iters=50, setting="S2", n=100, m=60), figures=False)
    assert r.metrics["ista_best_lam"] == 0.02 and r.metrics["pt_boundary_mae"] is None
    assert len(r.tables["lambda_sweep"].rows) == 1
    assert "ista_nmse_db_t20" in r.metrics and "ista_nmse_db_t100" not in r.metrics  # only t ≤ iters
    assert t("sparse.note.pt_skipped") in r.notes and r.figures == {}


def test_interrupt_keeps_what_was_reached(monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sparse, "omp", stop)
    r = LAB(Config.make("quick", pt_grid=0, iters=20))
    assert r.status == Status.INTERRUPTED and r.figures == {}
    assert r.metrics["genie_nmse_db"] is not None and r.metrics["omp_nmse_db"] is None
    assert r.metrics["se_fixed_point_db"] == pytest.approx(-45.6, abs=0.05)
    assert r.notes == [t("sparse.note.interrupted")]


def test_empirical_boundary_interpolates():
    b = empirical_boundary(np.array([0.5]), np.array([0.1, 0.2, 0.3]), np.array([[1.0], [0.75], [0.25]]))
    assert b[0] == pytest.approx(0.25)


@pytest.mark.parametrize("arg, key", [("p=0", "p"), ("p=1.5", "p"), ("m=0", "m"), ("n=-3", "n"),
                                      ("snr_db=inf", "snr_db"), ("lam=-1", "lam"), ("setting=S3", "setting")])
def test_bad_input_exits_2(arg, key, capsys, run_root):
    assert main(["run", "sparse", arg, "--out", str(run_root)]) == 2
    err = capsys.readouterr().err
    assert key in err and "Traceback" not in err


def test_both_noise_specs_is_an_error(capsys, run_root):
    assert main(["run", "sparse", "snr_db=20", "noise_std=0.1", "--out", str(run_root)]) == 2
    assert "snr_db" in capsys.readouterr().err


def test_per_signal_nmse_of_bayes_amp(quick):
    m, per_signal = quick.metrics, quick.outcome.data["amp_bg_signal_nmse_db"]
    assert per_signal.shape == (Config.quick["batch"],)
    assert m["amp_bg_nmse_db_median"] == pytest.approx(float(np.median(per_signal)))
    assert m["amp_bg_nmse_db_worst"] == pytest.approx(float(per_signal.max()))
    assert m["amp_bg_nmse_db_median"] <= m["amp_bg_nmse_db_worst"]
    assert abs(m["amp_bg_nmse_db"] - m["amp_bg_nmse_db_median"]) < 1.5  # no failed signal at S1: no spread note
    assert t("sparse.note.amp_per_signal_why") not in quick.explanations and len(quick.notes) == 3
    assert "amp_bg_nmse_db_median" not in LAB.headline and "amp_bg_nmse_db_worst" not in LAB.headline
    assert LAB.metric_meaning("amp_bg_nmse_db_worst")[1] == "dB"


def test_signal_nmse_db_is_each_row_on_its_own():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    x_hat = torch.tensor([[0.9, 0.0], [0.0, 0.0], [0.0, 0.0]])
    got = sparse.signal_nmse_db(x_hat, x)
    assert got[0] == pytest.approx(-20.0) and got[1] == pytest.approx(0.0) and np.isnan(got[2])


def test_a_few_failed_signals_get_a_note_and_bayes_amp_signals_matches_the_lab():
    """n = 200 at p = 0.2 (lecture 5's exercise 5-2): AMP fails on one of 20 signals, which dominates the NMSE."""
    config = Config.make("quick", n=200, m=100, p=0.2, batch=20, amp_iters=50, iters=20, pt_grid=0)
    r = LAB(config, figures=False)
    m = r.metrics
    assert m["amp_bg_nmse_db"] > m["amp_bg_nmse_db_median"] + sparse.SPREAD_NOTE_DB
    assert t("sparse.note.amp_per_signal", amp=m["amp_bg_nmse_db"], median=m["amp_bg_nmse_db_median"],
             worst=m["amp_bg_nmse_db_worst"], batch=20) in r.notes
    assert t("sparse.note.amp_per_signal_why") in r.explanations
    spread = sparse.bayes_amp_signals(config)
    np.testing.assert_allclose(spread.per_signal_db, r.outcome.data["amp_bg_signal_nmse_db"], atol=1e-9)
    assert spread.nmse_db == pytest.approx(m["amp_bg_nmse_db"], abs=1e-9)
    assert spread.se_fixed_point_db == pytest.approx(m["se_fixed_point_db"], abs=1e-9)
    assert spread.failed(10.0) == 1


def test_vamp_beside_amp_and_its_state_evolution(quick):
    m, out = quick.metrics, quick.outcome
    assert m["vamp_nmse_db"] == pytest.approx(m["vamp_se_nmse_db"], abs=1.5)  # 10 signals of n = 500
    assert m["vamp_nmse_db_median"] <= m["vamp_nmse_db_worst"]
    assert "vamp_nmse" in quick.curves and "vamp_se_nmse" in quick.curves
    methods = quick.tables["methods"]
    assert any(str(row[0]).startswith("VAMP t=") for row in methods.rows)
    assert out.vamp_nmse_db == m["vamp_nmse_db"]
    assert t("sparse.note.vamp_why") not in quick.explanations  # VAMP and AMP agree on S1: no note


def test_vamp_on_the_condition_15_matrix_where_amp_diverges():
    r = LAB(Config.make("quick", matrix="cond", cond=15.0, pt_grid=0, iters=20, lam_fracs=(0.05,), n=200, m=100),
            figures=False)
    m = r.metrics
    assert m["vamp_nmse_db"] == pytest.approx(m["vamp_se_nmse_db"], abs=2.0)  # 10 signals of n = 200
    assert m["amp_bg_nmse_db"] > m["vamp_nmse_db"] + 20
    out = r.outcome
    assert t("sparse.note.vamp", vamp=out.vamp_nmse_db, T=20, median=out.vamp_nmse_db_median,
             worst=out.vamp_nmse_db_worst, se=out.vamp_se_nmse_db) in r.notes
    assert t("sparse.note.vamp_why") in r.explanations


def test_vamp_without_noise_stays_finite():
    r = LAB(Config.make("quick", setting="S2", noise_std=0.0, pt_grid=0, iters=20, lam_fracs=(0.05,), n=100, m=60),
            figures=False)
    assert math.isfinite(r.metrics["vamp_nmse_db"]) and r.metrics["vamp_nmse_db"] < -40
