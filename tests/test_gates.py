"""The gates lab and its pieces: truth tables, the mini-batch sampler, the MLP module, success rates.

Oracles: Python's boolean operators for the gates, a hand-written forward pass for the MLP, the
definition of "learned" re-applied to the reported outputs, and separate single-seed runs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from dlsm.cli import main
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import gates
from dlsm.models.mlp import MLP
from dlsm.plotting.gates import plot_success_rate
from dlsm.problems.gates import GATE_NAMES, INPUTS, gate_targets, sample_batch, truth_table
from dlsm.status import Status

ORACLE = {
    "and": lambda a, b: a and b,
    "or": lambda a, b: a or b,
    "nand": lambda a, b: not (a and b),
    "nor": lambda a, b: not (a or b),
    "xor": lambda a, b: a != b,
    "xnor": lambda a, b: a == b,
}


def sigmoid(u):
    return 1.0 / (1.0 + np.exp(-u))


# ----- problems/gates.py -------------------------------------------------------------------------------
@pytest.mark.parametrize("gate", GATE_NAMES)
def test_truth_tables_match_boolean_operators(gate):
    X, y = truth_table(gate)
    assert X.shape == (4, 2) and y.shape == (4, 1)
    for (a, b), row, target in zip(INPUTS, X.tolist(), y[:, 0].tolist(), strict=True):
        assert row == [a, b]
        assert target == float(ORACLE[gate](bool(a), bool(b)))


def test_sampler_draws_bits_with_their_gate_values():
    g = torch.Generator().manual_seed(3)
    X, y = sample_batch("xor", 5, g)
    assert X.shape == (5, 2) and y.shape == (5, 1)  # the course's batch of 5
    X, y = sample_batch("nor", 4000, g, dtype=torch.float64)
    assert X.dtype == torch.float64
    assert set(X.unique().tolist()) == {0.0, 1.0}
    expected = [float(ORACLE["nor"](bool(a), bool(b))) for a, b in X.tolist()]
    assert y[:, 0].tolist() == expected
    # each bit Bernoulli(0.5), independently: mean 1/2, the four inputs equally likely (±5 sigma)
    assert abs(X.mean().item() - 0.5) < 5 * math.sqrt(0.25 / X.numel())
    index = (2 * X[:, 0] + X[:, 1]).long()
    counts = torch.bincount(index, minlength=4).double() / len(index)
    assert torch.all((counts - 0.25).abs() < 5 * math.sqrt(0.25 * 0.75 / len(index)))


def test_sampler_is_reproducible_from_the_generator():
    X1, _ = sample_batch("and", 50, torch.Generator().manual_seed(7))
    X2, _ = sample_batch("and", 50, torch.Generator().manual_seed(7))
    X3, _ = sample_batch("and", 50, torch.Generator().manual_seed(8))
    assert torch.equal(X1, X2) and not torch.equal(X1, X3)


def test_unknown_gate_is_a_config_error():
    with pytest.raises(ConfigError, match="gate.*'nope'.*xor"):
        truth_table("nope")
    with pytest.raises(ConfigError, match="gate"):
        gate_targets("nope", torch.zeros(1, 2))


# ----- models/mlp.py -----------------------------------------------------------------------------------
def test_mlp_forward_is_affine_maps_and_activations():
    net = MLP((2, 3, 4, 1), "tanh", output_activation="sigmoid", generator=torch.Generator().manual_seed(0))
    W = [layer.weight.detach().numpy().astype(float) for layer in net.linears]
    b = [layer.bias.detach().numpy().astype(float) for layer in net.linears]
    assert [w.shape for w in W] == [(3, 2), (4, 3), (1, 4)]
    x = np.random.default_rng(0).normal(size=(6, 2))
    h = np.tanh(x @ W[0].T + b[0])
    h = np.tanh(h @ W[1].T + b[1])
    y_ref = sigmoid(h @ W[2].T + b[2])
    y = net(torch.tensor(x, dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-6)
    relu_net = MLP((2, 3, 1), "relu", generator=torch.Generator().manual_seed(0))  # no output activation
    W0, b0 = relu_net.linears[0].weight.detach().numpy(), relu_net.linears[0].bias.detach().numpy()
    W1, b1 = relu_net.linears[1].weight.detach().numpy(), relu_net.linears[1].bias.detach().numpy()
    y_ref = np.maximum(x @ W0.T + b0, 0) @ W1.T + b1
    np.testing.assert_allclose(relu_net(torch.tensor(x, dtype=torch.float32)).detach().numpy(), y_ref,
                               rtol=1e-5, atol=1e-6)


def test_mlp_init_is_seeded_and_bounded_like_nn_linear():
    a = MLP((2, 64, 1), generator=torch.Generator().manual_seed(1))
    b = MLP((2, 64, 1), generator=torch.Generator().manual_seed(1))
    c = MLP((2, 64, 1), generator=torch.Generator().manual_seed(2))
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb) and not torch.equal(pa, pc)
    for layer in a.linears:
        bound = 1 / math.sqrt(layer.in_features)
        assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound
    assert a.linears[0].weight.std() > 0.5 * bound  # not all zeros


def test_mlp_rejects_bad_widths_and_activations():
    with pytest.raises(ConfigError, match="widths"):
        MLP((2, 0, 1))
    with pytest.raises(ConfigError, match="widths"):
        MLP((2,))
    with pytest.raises(ConfigError, match="activation.*'swish'"):
        MLP((2, 2, 1), "swish")
    assert isinstance(MLP((2, 2, 1), torch.nn.GELU()).net[1], torch.nn.GELU)


# ----- the lab -----------------------------------------------------------------------------------------
def test_defaults_are_the_course_settings():
    c = gates.Config()
    assert (c.gate, c.hidden, c.activation, c.loss, c.optimizer) == ("and", 2, "sigmoid", "mse", "adam")
    assert (c.lr, c.batch_size, c.steps, c.seeds) == (0.1, 5, 1000, 1)


@pytest.mark.parametrize(("key", "value", "pattern"), [
    ("gate", "nope", r"gate: got 'nope'; allowed: one of: and, or, nand, nor, xor, xnor"),
    ("hidden", 0, r"hidden: got 0; allowed: int >= 1"),
    ("hidden", -3, r"hidden: got -3"),
    ("lr", -0.1, r"lr: got -0.1; allowed: float > 0"),
    ("lr", 0.0, r"lr: got 0.0"),
    ("seeds", 0, r"seeds: got 0"),
    ("optimizer", "rmsprop", r"optimizer: got 'rmsprop'"),
])
def test_invalid_values_are_config_errors(key, value, pattern):
    with pytest.raises(ConfigError, match=pattern):
        gates.Config.make("course", **{key: value})


def test_cli_reports_bad_values_without_a_traceback(capsys):
    assert main(["run", "gates", "gate=nope"]) == 2
    assert "gate: got 'nope'" in capsys.readouterr().err
    assert main(["run", "gates", "hidden=0"]) == 2
    assert main(["run", "gates", "lr=-1"]) == 2
    assert "lr: got -1.0; allowed: float > 0" in capsys.readouterr().err


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_learns_the_separable_gates_at_quick_size(gate):
    res = gates.run(gates.Config.make("quick", gate=gate))
    rows = res.tables["truth_table"]
    for a, b, target, output, correct in rows.rows:
        assert target == int(ORACLE[gate](bool(a), bool(b)))
        assert (output > 0.5) == bool(target) and correct
    assert res.metrics["learned"] and res.metrics["success_rate"] == 1.0
    assert res.metrics["max_abs_error"] < 0.25


def test_course_and_run_outputs_follow_from_the_learned_parameters():
    res = gates.run(gates.Config())
    art = res.artifacts
    W1, b1, W2, b2 = (art[k].numpy().astype(float) for k in ("W1", "b1", "W2", "b2"))
    assert W1.shape == (2, 2) and b1.shape == (2,) and W2.shape == (1, 2) and b2.shape == (1,)
    y_hat = sigmoid(sigmoid(np.array(INPUTS) @ W1.T + b1) @ W2.T + b2)[:, 0]  # hand-written forward
    np.testing.assert_allclose(res.tables["truth_table"].column("output"), y_hat, rtol=1e-5, atol=1e-6)
    assert np.all((y_hat > 0.5) == np.array([0, 0, 0, 1], dtype=bool))
    table = res.tables["parameters"]
    assert table.column("value")[:4] == pytest.approx(W1.ravel().tolist(), rel=1e-6)
    assert len(table.rows) == 2 * 2 + 2 + 2 + 1
    mse = float(np.mean((y_hat - np.array([0, 0, 0, 1])) ** 2))
    assert res.metrics["table_loss"] == pytest.approx(mse, rel=1e-4)
    loss = res.curves["loss"]
    assert len(loss.x) == 1000 and loss.x[-1] == 999
    assert set(res.figures) == {"loss", "decision_surface"}
    assert res.status == Status.COMPLETED


def test_success_rate_is_computed_from_each_seed():
    config = gates.Config.make("course", gate="xor", steps=300, seeds=3, seed=5)
    res = gates.run(config)
    seeds = res.tables["seeds"]
    assert seeds.column("seed") == [5, 6, 7]
    targets = np.array([0, 1, 1, 0])
    n_learned = 0
    for row_i, seed in enumerate(seeds.column("seed")):
        outputs = np.array([seeds.column(f"output_{a}{b}")[row_i] for a, b in INPUTS])
        learned = bool(np.all((outputs > 0.5) == (targets == 1)) and np.all(outputs != 0.5))
        n_learned += learned
        assert seeds.column("learned")[row_i] == learned
        single = gates.run(config.replace(seed=seed, seeds=1))  # each seed trains as a run of its own
        np.testing.assert_array_equal(single.tables["truth_table"].column("output"), outputs)
    assert res.metrics["n_success"] == n_learned and res.metrics["n_seeds"] == 3
    assert res.metrics["success_rate"] == pytest.approx(n_learned / 3)
    assert {"loss_seeds", "surfaces_seeds"} <= set(res.figures)


def test_wide_hidden_layer_learns_xor():
    res = gates.run(gates.Config.make("course", gate="xor", hidden=8, seeds=3))
    assert res.metrics["success_rate"] == 1.0
    for a, b, target, output, _ in res.tables["truth_table"].rows:
        assert (output > 0.5) == ORACLE["xor"](bool(a), bool(b)) == bool(target)


def test_a_shorter_run_is_the_start_of_a_longer_one():
    """steps=n trains exactly the first n updates of a longer run (same initial weights and mini-batches), so
    its table loss is the longer run's table-loss curve at step n (lecture 2's claims use this)."""
    config = gates.Config.make("course", steps=60)
    long = gates.run(config, figures=False)
    for n in (1, 7, 30):
        short = gates.run(config.replace(steps=n), figures=False)
        assert short.metrics["table_loss"] == long.curves["table_loss"].y[n - 1]
        assert list(short.curves["table_loss"].y) == list(long.curves["table_loss"].y[:n])


def test_same_config_same_numbers():
    config = gates.Config.make("course", gate="or", steps=100, optimizer="momentum", lr=0.5)
    assert gates.run(config).metrics == gates.run(config).metrics


@pytest.mark.parametrize(("activation", "loss", "optimizer"), [
    ("tanh", "bce", "sgd"), ("relu", "mse", "momentum"), ("sigmoid", "bce", "adam")])
def test_every_option_trains(activation, loss, optimizer):
    config = gates.Config.make("course", activation=activation, loss=loss, optimizer=optimizer, steps=60,
                               hidden=3)
    res = gates.run(config)
    losses = res.curves["table_loss"].y
    assert np.all(np.isfinite(losses)) and res.status == Status.COMPLETED
    assert losses[-1] < losses[0]  # the loss on the four inputs went down
    assert res.tables["parameters"].column("parameter").count("W1") == 3 * 2


def test_ctrl_c_keeps_what_was_trained():
    def progress(done, total, info):
        if done == 45:  # during the second of three seeds (30 steps each)
            raise KeyboardInterrupt

    res = gates.run(gates.Config.make("course", steps=30, seeds=3), progress=progress)
    assert res.status == Status.INTERRUPTED
    assert res.metrics["n_seeds"] == 1  # the success rate counts only the fully trained seed
    assert len(res.tables["seeds"].rows) == 2
    stopped = res.outcome.data["runs"][1]
    assert stopped.log.status == Status.INTERRUPTED and stopped.log.steps_done == 15
    assert t("gates.note.interrupted_seeds", message=stopped.log.text(), seed=1) in res.notes


def test_notes_measure_and_explain():
    """Measured notes carry the numbers; the explanations say why (linear separability), apart."""
    config = gates.Config.make("course", steps=200)
    res = gates.run(config, figures=False)
    out = res.outcome
    assert res.figures == {} and isinstance(out, gates.Outcome) and out.table_loss == res.metrics["table_loss"]
    assert res.notes == [t("gates.note.learned", gate="AND", seed=0, steps=200, loss=out.table_loss,
                           error=out.max_abs_error)]
    assert res.explanations == [t("gates.note.separable", gate="AND")]
    # one hidden unit draws one line: XOR cannot be represented, whatever the seed
    one = gates.run(gates.Config.make("course", gate="xor", hidden=1, steps=40, seeds=2), figures=False)
    assert one.metrics["n_success"] == 0
    assert one.notes[0] == t("gates.note.seeds", n=0, total=2, gate="XOR", seed=0)
    assert one.explanations == [t("gates.note.not_separable", gate="XOR"),
                                t("gates.note.one_hidden_unit", gate="XOR")]
    two = gates.run(gates.Config.make("course", gate="xor", steps=40, seeds=2), figures=False)
    assert two.metrics["n_success"] < 2 and t("gates.note.local_minima", gate="XOR") in two.explanations


def test_metric_declarations():
    assert gates.LAB.headline == ("success_rate", "table_loss", "max_abs_error")
    names = [s.name for s in gates.Outcome.metric_specs()]
    assert names == ["success_rate", "n_success", "n_seeds", "table_loss", "max_abs_error", "final_batch_loss",
                     "learned", "steps", "n_params", "diverged", "median_table_loss"]
    single = gates.run(gates.Config.make("course", steps=5), figures=False)
    assert "median_table_loss" not in single.metrics  # only with several seeds
    several = gates.run(gates.Config.make("course", steps=5, seeds=2), figures=False)
    assert several.metrics["median_table_loss"] == pytest.approx(
        float(np.median(several.tables["seeds"].column("table_loss"))))


def test_unknown_loss_is_a_config_error():
    with pytest.raises(ConfigError, match="loss: got 'l1'"):
        gates.loss_function("l1")


def test_success_by_width_and_its_plot():
    table = gates.success_by_width(gates.Config.make("course", gate="xor", steps=40, seeds=2), [1, 2])
    assert table.column("hidden") == [1, 2] and table.column("n_seeds") == [2, 2]
    single = gates.run(gates.Config.make("course", gate="xor", steps=40, seeds=2, hidden=2))
    assert table.column("n_success")[1] == single.metrics["n_success"]
    fig = plot_success_rate(table.column("hidden"), table.column("n_success"), table.column("n_seeds"))
    assert isinstance(fig, Figure)


def test_cli_multi_seed_run_and_show(tmp_path, capsys):
    assert main(["run", "gates", "gate=xor", "seeds=2", "steps=20", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "success_rate = " in out
    run_dir = next((tmp_path / "gates").iterdir())
    assert (run_dir / "tables" / "seeds.csv").is_file()
    assert (run_dir / "figures" / "decision_surface.png").is_file()
    assert (run_dir / "curves" / "loss.csv").is_file()
    assert main(["show", "gates"]) == 0
    shown = capsys.readouterr().out
    assert "one of: and, or, nand, nor, xor, xnor" in shown and "seeds" in shown
