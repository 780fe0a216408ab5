"""The sparse lab: metrics against theory at quick size, settings, bad input."""

from __future__ import annotations

import math

import pytest

from dlsm.cli import main
from dlsm.labs.sparse import LAB, Config, empirical_boundary


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


def test_settings_and_overrides():
    assert Config(setting="S2").sparse_setting().noise_std == 0.05
    s = Config(setting="S2", snr_db=30.0, n=100, m=120).sparse_setting()
    assert (s.n, s.m, s.snr_db, s.noise_std, s.matrix) == (100, 120, 30.0, None, "gauss_1")


def test_fixed_lambda_and_no_phase_transition():
    r = LAB(Config.make("quick", lam=0.02, pt_grid=0, iters=50, setting="S2", n=100, m=60))
    assert r.metrics["ista_best_lam"] == 0.02 and r.metrics["pt_boundary_mae"] is None
    assert len(r.tables["lambda_sweep"].rows) == 1


def test_empirical_boundary_interpolates():
    import numpy as np

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
