"""Deep-unfolded sparse recovery: untrained networks are the classical algorithms, training helps, models reload."""

import pytest
import torch

from dlsm.algorithms.sparse import amp, ista, lipschitz
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import unfold
from dlsm.metrics import nmse_db
from dlsm.models.unfolded import DUISTA, LAMP, LISTA, TISTA
from dlsm.problems.sparse import SparseProblem, SparseSetting

SMALL = {"m": 30, "n": 60, "T": 3, "steps_per_generation": 15, "n_test": 100, "batch_size": 32}


def _problem(seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    problem = SparseProblem.create(SparseSetting(60, 30, 0.1, noise_std=0.01), g, dtype=dtype)
    return problem, *problem.draw(16, g)


def test_untrained_du_ista_and_lista_are_plain_ista():
    problem, x, y = _problem()
    A, lam, T = problem.A, 0.05, 6
    L = lipschitz(A)
    ref = []
    ista(A, y, lam, T, track=lambda _t, xt: ref.append(xt))
    for beta_max in (2.0, None):  # capped (β_t L = β_max σ(b_t)) and uncapped (β_t L = exp(b_t))
        du = DUISTA(A, T, beta_init=1.0, lam_init=lam / L, beta_max=beta_max)
        for a, b in zip(du.trajectory(y), ref, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    for tied in (False, True):
        lista = LISTA(A, T, theta_init=lam / L, tied=tied)
        for a, b in zip(lista.trajectory(y), ref, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_untrained_lamp_is_plain_amp():
    problem, x, y = _problem()
    ref = []
    amp(problem.A, y, 5, denoiser="bg", p=problem.p, noise_var=problem.noise_var, track=lambda _t, xt: ref.append(xt))
    lamp = LAMP(problem.A, 5, problem.p)
    for a, b in zip(lamp.trajectory(y), ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_tista_needs_m_at_most_n():
    A = torch.randn(40, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with pytest.raises(ValueError, match="m <= n"):
        TISTA(A, 3, 0.01, 0.1)
    with pytest.raises(ConfigError) as err:
        unfold.Config.make("quick", m=400, n=300)
    assert err.value.key == "m"
    unfold.Config.make("quick", m=400, n=300, tista=False)  # fine without TISTA


def test_build_knows_every_method_and_refuses_others():
    problem, _, y = _problem()
    for method in unfold.METHODS:
        assert len(unfold.build(method, problem.A, 3, problem).trajectory(y)) == 3
    with pytest.raises(ValueError, match="no_such_method"):
        unfold.build("no_such_method", problem.A, 3, problem)


@pytest.mark.parametrize("key, value", [("T", 0), ("lr", -0.01), ("steps_per_generation", 0), ("setting", "S3")])
def test_bad_input_is_a_config_error(key, value):
    with pytest.raises(ConfigError) as err:
        unfold.Config.make("quick", **{key: value})
    assert err.value.key == key


def test_training_lowers_the_loss_and_beats_ista():
    config = unfold.Config.make("quick", **SMALL, lista=False, lista_tied=False, tista=False, du_ista=True)
    problem, _, _ = _problem(dtype=torch.float32)
    model = DUISTA(problem.A, config.T)
    g = torch.Generator().manual_seed(3)
    x, y = problem.draw(200, g)
    with torch.no_grad():
        before = float(((model(y) - x) ** 2).sum(-1).mean())
    log = unfold.train(model, problem, unfold.TrainPlan.of(config), g, "t", None, 0.05)
    with torch.no_grad():
        after = float(((model(y) - x) ** 2).sum(-1).mean())
    assert log.skipped == 0 and len(log.logs) == config.T
    assert after < 0.8 * before


def test_db_loss_is_the_batch_nmse_in_db():
    """du_loss="db" trains on 10 log10(Σ‖x̂ - x‖² / Σ‖x‖²) of the batch: the NMSE metric of that batch in dB."""
    config = unfold.Config.make("quick", **SMALL, lista=False, lista_tied=False, tista=False)
    problem, _, _ = _problem(dtype=torch.float32)
    model = DUISTA(problem.A, config.T, beta_max=None)
    x, y = problem.draw(config.batch_size, torch.Generator().manual_seed(5))  # the first training batch
    with torch.no_grad():
        expected = nmse_db(model(y, 1), x)
    log = unfold.train(model, problem, unfold.TrainPlan.of(config), torch.Generator().manual_seed(5), "t", None, 0.05,
                       loss_kind="db")
    assert log.logs[0].losses[0] == pytest.approx(expected, abs=1e-4)
    assert log.logs[-1].losses[-1] < expected  # and training lowers it


def test_metrics_of_methods_not_run_are_absent_and_one_draw_has_no_spread():
    only_du = {**SMALL, "steps_per_generation": 2, "lista": False, "lista_tied": False, "tista": False}
    config = unfold.Config.make("quick", **only_du)
    result = unfold.run(config, figures=False)
    m = result.metrics
    assert "du_ista_nmse_db_std" in m and m["du_ista_nmse_db_std"] is None  # trained on one draw of A
    assert not [k for k in m if k.startswith(("lista", "tista", "lamp"))]  # not run: no metrics at all
    table = result.tables["nmse_per_layer"]
    assert m["du_ista_nmse_db"] == table.column("DU-ISTA")[-1] == m["nmse_db"]
    assert m["best_method"] == "DU-ISTA" and m["steps"] == config.T * config.steps_per_generation
    assert t("unfold.note.du_ista_monotone" if m["du_ista_monotone"] else "unfold.note.du_ista_not_monotone") \
        in result.notes
    assert t("unfold.note.limits") in result.explanations
    assert not result.figures


def test_saved_models_reload_to_the_same_nmse(tmp_path):
    from dlsm.labs import get_lab
    from dlsm.runner import execute

    config = unfold.Config.make("quick", **SMALL, lista=False, lista_tied=True)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    first = execute(get_lab("unfold"), config, run_dir).result
    assert (run_dir / "artifacts.pt").is_file()
    again = unfold.run(config.replace(load=str(run_dir)))
    for key in ("du_ista_nmse_db", "lista_tied_nmse_db", "tista_nmse_db", "amp_nmse_db"):
        assert again.metrics[key] == pytest.approx(first.metrics[key], abs=1e-9)
    assert again.metrics["steps"] == 0
    assert t("unfold.note.loaded", path=str(run_dir)) in again.notes
    with pytest.raises(ConfigError):
        unfold.run(config.replace(load=str(tmp_path / "nowhere")))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_path():
    result = unfold.run(unfold.Config.make("quick", **SMALL, device="cuda", lista=False))
    assert result.metrics["diverged"] is False


def test_a_size_this_machine_cannot_hold_is_refused_before_anything_is_allocated(monkeypatch):
    import dlsm.memory

    monkeypatch.setattr(dlsm.memory, "available_bytes", lambda: 8 * 2**30)  # a machine with 8 GiB free
    with pytest.raises(ConfigError) as err:
        unfold.Config.make("quick", n=20000, m=10000)  # LISTA's 4 × (T + 1) matrices of n × (n + m) floats alone
    assert err.value.key == "n" and "GiB" in str(err.value)
    cfg = unfold.Config.make("quick")
    lista = 4 * 4 * (cfg.T + 1) * (300 * 150 + 300 * 300)  # bytes of LISTA's matrices, gradients and moments
    assert lista <= unfold.memory_bytes(cfg) <= 4 * lista  # the estimate is of the order of its largest part


def test_the_vamp_rows_are_vamp_and_its_state_evolution_on_the_labs_own_draws():
    """The lab's VAMP reference and its SE limit, against vamp() and vamp_se_nmse_db() on the same A and signals."""
    from dlsm.algorithms.sparse import vamp, vamp_se_nmse_db
    from dlsm.seeds import generator

    config = unfold.Config.make("quick", **SMALL, du_ista=False, lista=False, lista_tied=False, tista=False)
    result = unfold.run(config, figures=False)
    g = generator(config.seed, "main")  # the lab's draws of A and of the test signals, drawn again
    problem = SparseProblem.create(config.sparse_setting(), g, dtype=torch.float32)
    x, y = problem.draw(config.n_test, g)
    ref = []
    vamp(problem.A, y, config.T, p=problem.p, noise_var=problem.noise_var, track=lambda _t, xt: ref.append(xt))
    table = result.tables["nmse_per_layer"]
    assert table.column("VAMP (MMSE)") == pytest.approx([nmse_db(xt, x) for xt in ref], abs=1e-9)
    s2 = (torch.linalg.svdvals(problem.A.double()) ** 2).numpy()
    se = vamp_se_nmse_db(s2, problem.n, problem.p, 1.0, problem.noise_var, config.T)
    assert table.column("VAMP state evolution") == pytest.approx(se, abs=1e-9)
    assert result.metrics["vamp_se_nmse_db"] == pytest.approx(se[-1], abs=1e-9)
