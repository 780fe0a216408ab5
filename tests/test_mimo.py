"""The MIMO channel, the Monte-Carlo SER with its confidence interval, and the mimo lab."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dlsm.algorithms.detectors import ZF
from dlsm.errors import ConfigError
from dlsm.i18n import has, t
from dlsm.labs import mimo
from dlsm.labs._mimo_eval import detector_fns
from dlsm.metrics import ser_confidence_interval
from dlsm.problems.mimo import (
    MimoChannel,
    constellation,
    draw_channel,
    monte_carlo_ser,
    noise_var_from_snr,
    snr_db_from_noise_var,
    symbol_error_rate_zf_bpsk,
)
from dlsm.status import Status

BPSK = constellation("bpsk")
ZF_HARD = {"zf": lambda y, H, v: ZF(BPSK)(y, H, v).x_hat}


def test_snr_definition_matches_the_course_noise():
    assert snr_db_from_noise_var(0.25, 4) == pytest.approx(10 * math.log10(16))
    assert noise_var_from_snr(10 * math.log10(16), 4) == pytest.approx(0.25)
    g = torch.Generator().manual_seed(0)
    b = MimoChannel(8, 8, BPSK, noise_var_from_snr(10.0, 8), g).sample(20_000)
    signal = float((torch.einsum("bmn,bn->bm", b.H, b.x) ** 2).mean())  # E|(Hx)_i|² = n
    noise = float(((b.y - torch.einsum("bmn,bn->bm", b.H, b.x)) ** 2).mean())
    assert 10 * math.log10(signal / noise) == pytest.approx(10.0, abs=0.1)


def test_zf_ser_agrees_with_theory_on_a_fixed_channel():
    g = torch.Generator().manual_seed(1)
    H = draw_channel(4, 4, g)
    s2 = 0.5
    est = monte_carlo_ser(ZF_HARD, MimoChannel(4, 4, BPSK, s2, g, H_fixed=H), target_errors=10**9,
                          max_symbols=200_000)["zf"]
    p = symbol_error_rate_zf_bpsk(H, s2)
    assert est.symbols == 200_000
    # the four streams are independent Bernoulli; the variance of their mean is at most p(1-p)/N
    assert abs(est.ser - p) < 4 * math.sqrt(p * (1 - p) / est.symbols)
    assert est.low < p < est.high


def test_confidence_interval_covers_the_true_ser_at_its_nominal_rate():
    # H = I: every symbol is an independent trial with error probability Q(1/σ)
    sigma = 1.0
    p = 0.5 * math.erfc(1 / sigma / math.sqrt(2))
    g = torch.Generator().manual_seed(2)
    ch = MimoChannel(4, 4, BPSK, sigma**2, g, H_fixed=torch.eye(4))
    reps = 400
    covered = 0
    for _ in range(reps):
        est = monte_carlo_ser(ZF_HARD, ch, target_errors=10**9, max_symbols=200)["zf"]
        covered += est.low <= p <= est.high
    rate = covered / reps
    assert abs(rate - 0.95) < 4 * math.sqrt(0.95 * 0.05 / reps), rate


def test_monte_carlo_stops_on_target_errors_or_budget():
    g = torch.Generator().manual_seed(3)
    ch = MimoChannel(4, 4, BPSK, 4.0, g, H_fixed=torch.eye(4))
    est = monte_carlo_ser(ZF_HARD, ch, target_errors=100, max_symbols=10**7, batch=50)["zf"]
    assert 100 <= est.errors < 100 + 200 and est.symbols < 10**7
    est = monte_carlo_ser(ZF_HARD, ch, target_errors=10**9, max_symbols=1000, batch=50)["zf"]
    assert est.symbols == 1000


def test_ser_confidence_interval_edges():
    low, high = ser_confidence_interval(0, 1000)
    assert low == 0.0 and 0 < high < 0.005
    assert all(math.isnan(v) for v in ser_confidence_interval(0, 0))
    with pytest.raises(ValueError):
        ser_confidence_interval(5, 3)


@pytest.mark.parametrize(("overrides", "key"), [
    ({"n": 21}, "detectors"), ({"n": 0}, "n"), ({"m": 0}, "m"), ({"snr_grid": (0.0, math.nan)}, "snr_grid"),
    ({"snr_grid": (0.0, math.inf)}, "snr_grid"), ({"snr_db": math.inf}, "snr_db"),
    ({"detectors": ("zf", "sphere")}, "detectors"), ({"detectors": ()}, "detectors"),
    ({"modulation": "pam4", "n": 11}, "detectors"), ({"modulation": "pam4", "tpg_loss": "ce"}, "tpg_loss"),
    ({"tpg_finetune_loss": "ser", "tpg_finetune": 0}, "tpg_finetune_loss"), ({"tpg_restarts": 0}, "tpg_restarts"),
    ({"tpg_finetune_lr": 0.0}, "tpg_finetune_lr")])
def test_bad_input_is_a_config_error(overrides, key):
    with pytest.raises(ConfigError) as err:
        mimo.Config.make("quick", **overrides)
    assert err.value.key == key and str(err.value)


def test_large_systems_run_without_exhaustive_detectors():
    mimo.Config.make("quick", n=32, m=32, detectors=("lmmse", "ep", "kbest", "tpg"))


SMALL = {"steps": 100, "tpg_layers": 2, "tpg_steps": 20, "snr_grid": (4.0, 10.0), "target_errors": 20,
         "max_symbols": 4000}


def test_quick_lab_course_setting():
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    cfg = mimo.Config.make("quick", **SMALL)
    res = mimo.run(cfg)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    m = res.metrics
    for name in mimo.DETECTORS:
        assert f"ser_{name}" in m
    assert m["ser_tpgsearch"] is None and t("mimo.note.not_listed", metric="ser_tpgsearch") in res.notes
    assert m["ser"] == m["ser_nn"] and m["ser_detector"] == "nn"
    assert m["diverged"] is False and m["steps"] == 100 + 2 * 20
    assert m["n_params"] == (4 * 50 + 50) + (50 * 50 + 50) + (50 * 4 + 4)
    assert m["snr_db"] == pytest.approx(10 * math.log10(16))
    assert m["ser_ml"] <= m["ser_zf"]
    assert set(res.tables["ser_vs_snr"].column("snr_db")) == {4.0, 10.0}
    assert {"ser_vs_snr", "training", "tpg_parameters"} <= set(res.figures)
    assert res.ser_tpg == m["ser_tpg"] and isinstance(res.outcome, mimo.Outcome)
    assert t("mimo.note.zf_theory", measured=m["ser_zf"], theory=m["ser_zf_theory"]) in res.notes
    assert t("mimo.note.why_zf_theory") in res.explanations
    again = mimo.run(cfg, figures=False)
    assert again.metrics == m and not again.figures


def test_sweepable_scalar_snr_and_random_overloaded_pam4():
    cfg = mimo.Config.make("quick", **{**SMALL, "snr_db": 8.0, "channel": "random", "n": 6, "m": 4,
                                       "detectors": ("lmmse", "ml", "tpg", "tpgsearch", "kbest", "ep")})
    res = mimo.run(cfg)
    assert res.metrics["snr_db"] == pytest.approx(8.0)
    assert res.metrics["ser_nn"] is None and res.metrics["ser"] == res.metrics["ser_tpg"]
    assert res.metrics["ser_tpgsearch"] <= res.metrics["ser_tpg"] + 0.05
    res = mimo.run(mimo.Config.make("quick", **{**SMALL, "modulation": "pam4", "detectors": ("zf", "ml", "nn")}))
    assert 0 <= res.metrics["ser_ml"] <= res.metrics["ser_zf"]
    assert mimo.LAB.name == "mimo" and mimo.LAB.config is mimo.Config


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_lab_runs_on_the_gpu():
    cfg = mimo.Config.make("quick", **{**SMALL, "detectors": ("zf", "lmmse", "kbest", "ep", "ml", "map", "nn", "tpg",
                                                              "tpgsearch")})
    gpu = mimo.run(cfg.replace(device="cuda"))
    cpu = mimo.run(cfg.replace(device="cpu"))
    assert gpu.metrics["device"] == "cuda" and cpu.metrics["device"] == "cpu"
    # the channel draws are made on the CPU: the classical detectors see the same vectors on both devices
    for name in ("zf", "lmmse", "ml", "map"):
        assert gpu.metrics[f"ser_{name}"] == pytest.approx(cpu.metrics[f"ser_{name}"], abs=2e-3)
    assert all(t.device.type == "cpu" for t in gpu.artifacts["tpg"].values())


def test_smoothed_symbol_error_is_the_sigmoid_for_bpsk_and_the_ser_as_tau_vanishes():
    g = torch.Generator().manual_seed(5)
    r = 2 * torch.randn(400, 4, generator=g, dtype=torch.float64)
    x = BPSK.points.double()[torch.randint(0, 2, (400, 4), generator=g)]
    tau = 0.05
    closed_form = torch.sigmoid(-x * r / tau).mean()
    assert float(mimo.smoothed_symbol_error(r, x, BPSK, tau)) == pytest.approx(float(closed_form), rel=1e-12)
    pam4 = constellation("pam4")
    x4 = pam4.points.double()[torch.randint(0, 4, (400, 4), generator=g)]
    hard = float((pam4.decide(r) != x4).double().mean())  # the SER of the hard decision of r
    assert float(mimo.smoothed_symbol_error(r, x4, pam4, 1e-6)) == pytest.approx(hard, abs=1e-9)
    assert BPSK.spacing == 2.0 and pam4.spacing == pytest.approx(2 / math.sqrt(5))


def test_tpg_restarts_keep_the_one_with_the_lowest_validation_ser():
    """Each restart is the single-run training on its own data; the one kept has the lowest validation SER,
    and that SER is what its hard decisions give on the validation vectors."""
    cfg = mimo.Config.make("quick", channel="random", tpg_layers=2, tpg_steps=15, tpg_finetune=10,
                           tpg_finetune_loss="ser", tpg_finetune_batch=50, tpg_finetune_schedule="cosine")

    def channel(seed):
        return MimoChannel(4, 4, BPSK, 0.25, torch.Generator().manual_seed(seed))

    validation = channel(99).sample(2000)
    tpg_cfg = mimo.tpg_config(cfg)
    assert (tpg_cfg.layers, tpg_cfg.steps, tpg_cfg.finetune, tpg_cfg.finetune_loss) == (2, 15, 10, "ser")
    tpg, log, sers, kept = mimo.train_tpg_restarts(tpg_cfg, [channel(s) for s in (1, 2, 3)], validation, None)
    assert len(sers) == 3 and kept == int(np.argmin(sers)) and log.steps_done == 2 * 15 + 10

    def validation_ser(model):
        return float((BPSK.decide(model(validation.y, validation.H, 0.25)) != validation.x).double().mean())

    assert validation_ser(tpg) == sers[kept]
    single, _ = mimo.train_tpg(tpg_cfg, channel(1), None)
    assert validation_ser(single) == sers[0]
    res = mimo.run(cfg.replace(tpg_restarts=2, detectors=("lmmse", "tpg"), snr_grid=()))
    table = res.tables["tpg_restarts"]
    assert table.column("kept").count("yes") == 1
    assert res.metrics["tpg_validation_ser"] == min(table.column("validation_ser"))


def test_tpg_config_takes_the_labs_tpg_keys():
    cfg = mimo.Config.make("quick", tpg_finetune=5, tpg_finetune_lr=0.002, tpg_restarts=3)
    tpg = mimo.tpg_config(cfg)
    for name in ("layers", "steps", "batch", "lr", "loss", "finetune", "finetune_loss", "finetune_lr",
                 "finetune_batch", "finetune_schedule", "restarts"):
        assert getattr(tpg, name) == getattr(cfg, f"tpg_{name}")
    assert tpg.steps_per_restart == cfg.tpg_layers * cfg.tpg_steps + 5


def test_every_metric_and_setting_has_a_meaning():
    for spec in mimo.Outcome.metric_specs():
        assert mimo.LAB.metric_meaning(spec.name)[0], spec.name
    assert mimo.LAB.headline == ("ser", "ser_ml", "ser_lmmse", "ser_tpg", "nn_over_ml", "tpg_over_ml")
    assert all(f"ser_{name}" in {s.name for s in mimo.Outcome.metric_specs()} for name in mimo.DETECTORS)
    assert all(has(f"mimo.param.{s.name}") for s in mimo.Config.specs() if s.name != "seed")


def test_unknown_detector_name_raises():
    """The Config rejects it (exit status 2); the dispatch below it raises too rather than skip it."""
    with pytest.raises(ConfigError):
        mimo.Config.make("quick", detectors=("zf", "sphere"))
    unchecked = SimpleNamespace(detectors=("zf", "sphere"), kbest_k=8, ep_iterations=10, search_flips=2)
    with pytest.raises(ValueError, match="sphere"):
        detector_fns(unchecked, BPSK, None, None)


def test_an_interrupted_training_is_reported_and_counts_no_ser():
    def progress(done, total, info):
        if done >= 5:
            raise KeyboardInterrupt

    cfg = mimo.Config.make("quick", **SMALL)
    res = mimo.run(cfg, progress)
    assert res.status == Status.INTERRUPTED and res.metrics["steps"] == 5
    assert res.metrics["ser"] is None and res.metrics["ser_detector"] == "none" and "tpg_alpha" not in res.metrics
    assert res.notes[0] == t("mimo.note.interrupted", which="NN", steps=5, total=SMALL["steps"])
    assert t("mimo.note.not_trained", metric="ser_tpg") in res.notes
    assert "training" in res.figures and "ser_vs_snr" not in res.figures


def test_operating_point_sers_do_not_depend_on_the_grid_or_the_other_detectors():
    """Every detector's SER at the operating point is counted on the same vectors whatever else is listed, before
    the SNR grid; the NN trains before TPG. So a run with fewer detectors and no grid gives the same numbers
    (tests/test_claims_lecture6_mimo.py relies on it to check the course run's notes quickly)."""
    full = mimo.run(mimo.Config.make("quick", **SMALL), figures=False).metrics
    few = mimo.run(mimo.Config.make("quick", **{**SMALL, "detectors": ("zf", "ml", "nn"), "snr_grid": ()}),
                   figures=False).metrics
    for key in ("ser_zf", "ser_ml", "ser_nn", "nn_over_ml", "train_loss"):
        assert few[key] == full[key], key
