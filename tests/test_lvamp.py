"""Learned VAMP (LVAMP): at VAMP's values it is VAMP layer by layer, training does not make it worse, the lab runs it
(also on the condition-number-15 matrix) and reloads it."""

import pytest
import torch

from dlsm.algorithms.sparse import vamp
from dlsm.errors import ConfigError
from dlsm.labs import unfold
from dlsm.metrics import nmse_db
from dlsm.models.unfolded import LVAMP
from dlsm.problems.sparse import SparseProblem, SparseSetting

SMALL = {"m": 40, "n": 80, "T": 3, "steps_per_generation": 10, "n_test": 100, "batch_size": 32, "du_ista": False,
         "lista": False, "lista_tied": False, "tista": False, "lvamp": True}


def _problem(setting: SparseSetting, seed: int = 0, batch: int = 32):
    g = torch.Generator().manual_seed(seed)
    problem = SparseProblem.create(setting, g, dtype=torch.float64)
    return problem, *problem.draw(batch, g)


@pytest.mark.parametrize("setting, damping", [
    (SparseSetting(120, 60, 0.1, snr_db=40.0), None),  # i.i.d. N(0, 1/m), undamped
    (SparseSetting(120, 60, 0.1, matrix="cond", cond=15.0, snr_db=40.0), 0.7),  # ill-conditioned, damped
    (SparseSetting(90, 60, 0.2, sigma_x=2.0, matrix="gauss_1", noise_std=0.05), None),  # another prior and scale
])
def test_lvamp_at_vamps_values_is_vamp_at_every_layer(setting, damping):
    problem, x, y = _problem(setting)
    T, sx2 = 8, problem.sigma_x**2
    ref = []
    vamp(problem.A, y, T, p=problem.p, sigma_x2=sx2, noise_var=problem.noise_var, damping=damping,
         track=lambda _t, xt: ref.append(xt.clone()))
    net = LVAMP(problem.A, T, problem.noise_var, problem.p, sx2, damping=damping)
    with torch.no_grad():
        traj = net.trajectory(y)
    assert len(traj) == T
    for a, b in zip(traj, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert nmse_db(traj[-1], x) < nmse_db(traj[0], x) - 10  # and it is a working estimator, not two equal failures


def test_lvamp_refuses_what_vamp_refuses():
    A = torch.randn(10, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with pytest.raises(ValueError, match="noise_var"):
        LVAMP(A, 3, 0.0, 0.1)
    with pytest.raises(ValueError, match="damping"):
        LVAMP(A, 3, 0.01, 0.1, damping=1.5)


def test_short_training_is_no_worse_than_vamp_on_held_out_signals():
    problem, _, _ = _problem(SparseSetting(100, 50, 0.1, matrix="cond", cond=15.0, snr_db=30.0))
    net = LVAMP(problem.A, 4, problem.noise_var, problem.p)
    x, y = problem.draw(500, torch.Generator().manual_seed(7))  # held out: never a training batch
    with torch.no_grad():
        before = nmse_db(net(y), x)  # = VAMP (the test above)
    plan = unfold.TrainPlan(steps_per_generation=15, batch_size=32)
    log = unfold.train(net, problem, plan, torch.Generator().manual_seed(3), "t", None, 0.01)
    with torch.no_grad():
        after = nmse_db(net(y), x)
    assert log.skipped == 0 and len(log.logs) == net.T
    assert after <= before + 0.3
    assert any(float((v - 1).abs().max()) > 0 for v in net.learned().values())  # training moved the parameters


def test_lab_runs_lvamp_beside_vamp_and_reloads_it(tmp_path):
    from dlsm.labs import get_lab
    from dlsm.runner import execute

    config = unfold.Config.make("quick", **SMALL)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    first = execute(get_lab("unfold"), config, run_dir).result
    m = first.metrics
    for key in ("lvamp_nmse_db", "lvamp_nmse_db_std", "vamp_nmse_db", "vamp_se_nmse_db", "amp_nmse_db"):
        assert key in m
    table = first.tables["nmse_per_layer"]
    assert m["lvamp_nmse_db"] == table.column(unfold.METHODS["lvamp"])[-1] == m["nmse_db"]
    assert m["vamp_nmse_db"] == table.column("VAMP (MMSE)")[-1]
    assert m["vamp_se_nmse_db"] == table.column("VAMP state evolution")[-1]
    assert "params_lvamp" in first.tables and m["steps"] == config.T * config.steps_per_generation
    again = unfold.run(config.replace(load=str(run_dir)), figures=False)
    for key in ("lvamp_nmse_db", "vamp_nmse_db", "amp_nmse_db"):
        assert again.metrics[key] == pytest.approx(m[key], abs=1e-9)
    assert again.metrics["steps"] == 0


def test_the_lab_draws_the_condition_number_15_matrix():
    config = unfold.Config.make("quick", **{**SMALL, "steps_per_generation": 2, "T": 6}, setting="S1", matrix="cond",
                                cond=15.0)
    result = unfold.run(config, figures=False)
    s = torch.linalg.svdvals(result.artifacts["lvamp/0"]["A"].double())  # the A the network was trained for
    assert float(s[0] / s[-1]) == pytest.approx(15.0, rel=1e-5)
    assert result.metrics["vamp_nmse_db"] < result.metrics["amp_nmse_db"]  # VAMP copes with it where AMP does not
    with pytest.raises(ConfigError) as err:
        unfold.Config.make("quick", matrix="cond")  # no condition number
    assert err.value.key == "cond"
