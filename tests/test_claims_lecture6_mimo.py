"""What lecture 6 (MIMO)'s instructor notes and reference discussions state holds at the notebook's default size.

The configs are the notebook's own (its cells tagged ``settings``); each runs once, without figures. Two of
them run here without the SER-versus-SNR grid and, for the course run, without the detectors no note speaks
of: a detector's SER at the operating point is counted on the same vectors whatever else is listed, and
before the grid (tests/test_mimo.py checks that), so those numbers are the notebook's.

The tests marked ``slow`` train the costliest configs (the course's 10,000-step NN, the widths, random H with
TPG); ``-m "not slow"`` leaves them out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dlsm.labs import mimo
from notebook_settings import notebook_settings

# Minutes of CPU at the notebook's exercise sizes: outside the default suite (CI); run with pytest -m slow.
pytestmark = pytest.mark.slow

NS = notebook_settings("lecture6_mimo")
BENCHMARKS = Path(__file__).parents[1] / "BENCHMARKS.md"


def _run(config):
    return mimo.run(config, figures=False).metrics


@pytest.fixture(scope="module")
def course():
    return _run(NS["CFG_COURSE"].replace(detectors=("zf", "lmmse", "ml", "nn"), snr_grid=()))


@pytest.fixture(scope="module")
def fast():
    return _run(NS["CFG_FAST"])


@pytest.fixture(scope="module")
def by_snr(fast):
    return {**{snr: _run(c) for snr, c in NS["CFG_SNR"].items()}, 12.0: fast}


@pytest.fixture(scope="module")
def by_width(fast):
    return {**{w: _run(c) for w, c in NS["CFG_WIDTH"].items()}, 50: fast}


@pytest.fixture(scope="module")
def random_h():
    return _run(NS["CFG_RANDOM"].replace(snr_grid=()))


def test_settings_are_the_course_and_the_recipe_the_prose_states():
    assert NS["CFG_COURSE"] == mimo.Config.make("course", snr_grid=(0.0, 4.0, 8.0, 12.0))
    fast = NS["CFG_FAST"]
    assert (fast.steps, fast.batch_size, fast.lr, fast.schedule, fast.noise_std, fast.snr_db) == (
        1000, 250, 0.01, "cosine", 0.5, None)
    assert set(NS["CFG_SNR"]) == {4.0, 8.0} and set(NS["CFG_WIDTH"]) == {8, 200}
    rnd = NS["CFG_RANDOM"]
    assert (rnd.channel, rnd.tpg_steps, rnd.tpg_layers, rnd.steps) == ("random", 100, 10, 1000)
    long = NS["CFG_TPG_LONG"]
    assert (long.tpg_layers, long.tpg_finetune, long.tpg_finetune_loss, long.tpg_restarts) == (20, 2000, "ser", 4)


@pytest.mark.slow
def test_course_nn_beats_zf_and_lmmse_and_is_near_ml(course):
    assert course["ser_nn"] == pytest.approx(0.0027, abs=0.0003)
    assert course["ser_zf"] == pytest.approx(0.006, abs=0.0006)
    assert course["ser_lmmse"] == pytest.approx(0.006, abs=0.0006)
    assert course["ser_nn"] < min(course["ser_zf"], course["ser_lmmse"]) / 1.8
    assert 1.1 < course["nn_over_ml"] < 1.3  # "約 1.2 倍"


@pytest.mark.slow
def test_fast_recipe_gives_about_the_course_ser(course, fast):
    assert fast["nn_over_ml"] == pytest.approx(course["nn_over_ml"], abs=0.1)


def test_m2_sers_fall_with_snr_and_ml_pulls_away_from_linear_detection(by_snr):
    snrs = sorted(by_snr)
    for detector in ("zf", "lmmse", "ml", "map", "nn"):
        sers = [by_snr[s][f"ser_{detector}"] for s in snrs]
        assert sers[0] > 2 * sers[1] > 4 * sers[2], detector  # "大きく下がる"
    assert [by_snr[s]["ser_ml"] for s in snrs] == pytest.approx([0.11, 0.029, 0.0023], rel=0.1)
    zf_over_ml = [by_snr[s]["ser_zf"] / by_snr[s]["ser_ml"] for s in snrs]
    assert zf_over_ml == pytest.approx([1.2, 1.6, 2.8], abs=0.1)
    nn_over_ml = [by_snr[s]["nn_over_ml"] for s in snrs]
    assert nn_over_ml == pytest.approx([1.0, 1.05, 1.2], abs=0.05) and nn_over_ml[0] < nn_over_ml[2]
    low = by_snr[snrs[0]]
    assert low["ser_nn"] < low["ser_ml"] and low["ser_map"] < low["ser_ml"]  # 4 dB: NN (like MAP) beats ML


@pytest.mark.slow
def test_m3_width_8_is_far_from_ml_and_200_no_better_than_50(by_width):
    params = {w: by_width[w]["n_params"] for w in sorted(by_width)}
    assert params == {8: 148, 50: 3004, 200: 42_004}
    ratio = {w: by_width[w]["nn_over_ml"] for w in by_width}
    assert ratio[8] == pytest.approx(1.7, abs=0.1)
    assert ratio[50] == pytest.approx(1.2, abs=0.05) and ratio[200] == pytest.approx(1.2, abs=0.05)
    assert abs(ratio[200] - ratio[50]) < 0.1 < ratio[8] - ratio[50]


@pytest.mark.slow
def test_m4_the_mlp_fails_with_random_h(fast, random_h):
    assert fast["nn_over_ml"] == pytest.approx(1.2, abs=0.05)
    assert random_h["nn_over_ml"] == pytest.approx(7, abs=0.5)
    assert random_h["ser_lmmse"] / random_h["ser_ml"] == pytest.approx(3.4, abs=0.2)
    assert random_h["ser_lmmse"] < random_h["ser_nn"] < random_h["ser_zf"]


@pytest.mark.slow
def test_m5_tpg_beats_lmmse_and_the_mlp(random_h):
    assert random_h["ser_tpg"] < random_h["ser_lmmse"] < random_h["ser_nn"]
    assert random_h["lmmse_over_tpg"] == pytest.approx(1.3, abs=0.1)
    assert random_h["tpg_over_ml"] == pytest.approx(2.7, abs=0.2)
    assert 2 * NS["CFG_RANDOM"].tpg_layers + 1 == 21


def test_long_tpg_numbers_are_those_of_the_benchmark():
    """The optional cell and the last note quote BENCHMARKS.md's run 9 (TPG trained for the SER, 3 seeds)."""
    text = BENCHMARKS.read_text()
    start = text.index("## Run 9")
    end = text.find("\n## Run ", start + 1)
    run9 = text[start:end if end >= 0 else None]  # run 9's own part: later runs have tables of their own
    rows = [line for line in run9.splitlines() if line.startswith(("| 0 |", "| 1 |", "| 2 |")) and "yes" in line]
    ratios = sorted(float(r.split("|")[7]) for r in rows)
    gains = sorted(float(r.split("|")[9]) for r in rows)
    times = sorted(float(r.split("|")[11]) for r in rows)
    assert ratios == pytest.approx([2.136, 2.178, 2.196]) and (gains[0], gains[-1]) == (1.584, 1.619)
    assert (times[0], times[-1]) == (427.5, 446.9)
