"""Backpropagation in NumPy against PyTorch's autograd (float64), finite differences and torch's SGD.

The torch references here are written out by hand from tensors (not through dlsm's own MLP), so they
are independent of the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlsm.algorithms.backprop import (
    ACTIVATIONS,
    LOSSES,
    NumpyMLP,
    finite_difference_gradients,
    relative_error,
)
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import backprop
from dlsm.labs._gates_train import loss_function
from dlsm.problems.gates import INPUTS, sample_batch
from dlsm.status import Status

TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda u: u,
             "softplus": torch.nn.functional.softplus}
TORCH_LOSS = {
    "mse": lambda y_hat, y: ((y_hat - y) ** 2).mean(),
    "bce": lambda y_hat, y: -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean(),
}


def torch_loss_and_grads(net: NumpyMLP, X, y, activation, output_activation, loss):
    """L and ∂L/∂θ by autograd on the network written out by hand (float64)."""
    params = [torch.tensor(p, requires_grad=True) for p in net.params]
    h = torch.tensor(X)
    n_layers = len(params) // 2
    for l in range(n_layers):
        W, b = params[2 * l], params[2 * l + 1]
        act = TORCH_ACT[output_activation if l == n_layers - 1 else activation]
        h = act(h @ W.T + b)
    L = TORCH_LOSS[loss](h, torch.tensor(y))
    L.backward()
    return L.item(), [p.grad.numpy() for p in params]


def random_problem(widths, seed, loss):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(7, widths[0]))
    y = rng.uniform(0.05, 0.95, size=(7, widths[-1])) if loss == "bce" else rng.normal(size=(7, widths[-1]))
    return rng, X, y


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_derivatives_match_autograd(name):
    u = torch.tensor(np.random.default_rng(0).normal(scale=3, size=50), requires_grad=True)
    u_np = u.detach().numpy().copy()
    assert np.all(np.abs(u_np) > 1e-6)  # away from the ReLU kink
    (du,) = torch.autograd.grad(TORCH_ACT[name](u).sum(), u)
    np.testing.assert_allclose(ACTIVATIONS[name].np_f(u_np), TORCH_ACT[name](u).detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(ACTIVATIONS[name].np_df(u_np), du.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradients_match_autograd(name):
    rng = np.random.default_rng(1)
    y_hat = torch.tensor(rng.uniform(0.05, 0.95, size=(6, 2)), requires_grad=True)
    y = torch.tensor(rng.uniform(0, 1, size=(6, 2)))
    L = TORCH_LOSS[name](y_hat, y)
    (g,) = torch.autograd.grad(L, y_hat)
    assert LOSSES[name].f(y_hat.detach().numpy(), y.numpy()) == pytest.approx(L.item(), rel=1e-14)
    np.testing.assert_allclose(LOSSES[name].grad(y_hat.detach().numpy(), y.numpy()), g.numpy(), rtol=1e-12)


@pytest.mark.parametrize(("widths", "activation", "output_activation", "loss"), [
    ((2, 2, 1), "sigmoid", "sigmoid", "mse"),
    ((2, 5, 1), "tanh", "sigmoid", "bce"),
    ((3, 4, 6, 2), "relu", "identity", "mse"),
    ((4, 3, 3, 3, 1), "sigmoid", "sigmoid", "bce"),
])
def test_backprop_gradients_equal_autograd(widths, activation, output_activation, loss):
    rng, X, y = random_problem(widths, 2, loss)
    net = NumpyMLP.init(widths, rng, activation, output_activation)
    L, dW, db = net.loss_and_gradients(X, y, LOSSES[loss])
    L_ref, grads_ref = torch_loss_and_grads(net, X, y, activation, output_activation, loss)
    assert L == pytest.approx(L_ref, rel=1e-12)
    ours = [g for pair in zip(dW, db, strict=True) for g in pair]
    assert [g.shape for g in ours] == [p.shape for p in net.params]
    for g, g_ref in zip(ours, grads_ref, strict=True):
        assert relative_error(g, g_ref) < 1e-12


def test_finite_differences_agree_with_autograd():
    rng, X, y = random_problem((2, 3, 1), 3, "bce")
    net = NumpyMLP.init((2, 3, 1), rng, "tanh", "sigmoid")
    before = [p.copy() for p in net.params]
    fd = finite_difference_gradients(net, X, y, LOSSES["bce"], eps=1e-5)
    _, grads_ref = torch_loss_and_grads(net, X, y, "tanh", "sigmoid", "bce")
    for g, g_ref in zip(fd, grads_ref, strict=True):
        assert relative_error(g, g_ref) < 1e-6
    for p, q in zip(net.params, before, strict=True):  # the parameters are restored
        np.testing.assert_array_equal(p, q)


def test_relative_error():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([3.0, 4.0]), np.array([3.0, 4.0])) == 0.0
    assert relative_error(np.array([3.0, 4.0]), np.zeros(2)) == 1.0
    assert relative_error(np.array([1.0, 0.0]), np.array([1.1, 0.0])) == pytest.approx(0.1 / 1.1)


def test_gradient_descent_follows_torch_sgd():
    """50 steps of NumPy backprop + gradient descent equal torch.optim.SGD on the same batches."""
    net = NumpyMLP.init((2, 3, 1), np.random.default_rng(4), "sigmoid", "sigmoid")
    params = [torch.tensor(p, requires_grad=True) for p in net.params]
    opt = torch.optim.SGD(params, lr=1.5)
    g = torch.Generator().manual_seed(4)
    for _ in range(50):
        X, y = sample_batch("xor", 5, g, torch.float64)
        _, dW, db = net.loss_and_gradients(X.numpy(), y.numpy(), LOSSES["mse"])
        net.gradient_descent_step(dW, db, 1.5)
        h = torch.sigmoid(X @ params[0].T + params[1])
        loss = ((torch.sigmoid(h @ params[2].T + params[3]) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p, q in zip(net.params, params, strict=True):
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_init_is_seeded_and_bounded():
    a = NumpyMLP.init((2, 50, 1), np.random.default_rng(0))
    b = NumpyMLP.init((2, 50, 1), np.random.default_rng(0))
    for p, q in zip(a.params, b.params, strict=True):
        np.testing.assert_array_equal(p, q)
    assert np.abs(a.W[0]).max() <= 1 / np.sqrt(2) and np.abs(a.W[1]).max() <= 1 / np.sqrt(50)


# ----- the lab -----------------------------------------------------------------------------------------
def test_lab_gradient_check_passes_and_its_table_matches_autograd():
    res = backprop.run(backprop.Config.make("quick"))
    m = res.metrics
    assert m["max_rel_err_autograd"] < 1e-6 and m["max_rel_err_fd"] < 1e-6 and m["grad_check_passed"]
    check = res.tables["gradient_check"]
    assert check.column("point") == ["initial"] * 4 + ["trained"] * 4
    assert check.column("parameter")[:4] == ["W1", "b1", "W2", "b2"]
    # Independent check of the "trained" rows: autograd at the trained parameters on the 4 inputs
    trained = NumpyMLP([res.artifacts["W1"].numpy(), res.artifacts["W2"].numpy()],
                       [res.artifacts["b1"].numpy(), res.artifacts["b2"].numpy()])
    X = np.array(INPUTS, dtype=float)
    y = np.array([[0], [0], [0], [1]], dtype=float)  # AND
    _, grads_ref = torch_loss_and_grads(trained, X, y, "sigmoid", "sigmoid", "mse")
    norms = [float(np.linalg.norm(g)) for g in grads_ref]
    assert check.column("grad_norm")[4:] == pytest.approx(norms, rel=1e-9)


def test_lab_learns_and_at_course_size():
    res = backprop.run(backprop.Config())
    assert res.metrics["learned"] and res.status == Status.COMPLETED
    for a, b, target, output, correct in res.tables["truth_table"].rows:
        assert target == int(a and b) and (output > 0.5) == bool(target) and correct
    assert set(res.figures) == {"loss", "decision_surface", "gradient_check"}
    assert len(res.curves["loss"].x) == 1000


@pytest.mark.parametrize(("activation", "loss", "gate"), [("tanh", "bce", "or"), ("relu", "mse", "xor")])
def test_lab_gradient_check_other_settings(activation, loss, gate):
    res = backprop.run(backprop.Config.make("quick", activation=activation, loss=loss, gate=gate, hidden=3))
    assert res.metrics["max_rel_err_autograd"] < 1e-6
    assert res.metrics["max_rel_err_fd"] < 1e-6


def test_lab_reproducible_and_validated():
    config = backprop.Config.make("quick", steps=50)
    assert backprop.run(config).metrics == backprop.run(config).metrics
    for key, value in (("gate", "xnand"), ("hidden", 0), ("lr", -2.0), ("fd_eps", 0.0)):
        with pytest.raises(ConfigError, match=key):
            backprop.Config.make("course", **{key: value})


def test_lab_reports_divergence():
    res = backprop.run(backprop.Config.make("quick", loss="bce", lr=1e4))
    assert res.metrics["diverged"] is True and res.status == Status.DIVERGED
    log = res.outcome.data["log"]
    out = res.outcome
    errors = {"autograd": out.max_rel_err_autograd, "fd": out.max_rel_err_fd, "tol": backprop.TOLERANCE}
    assert res.notes == [t("backprop.note.diverged", message=log.text()),  # what was measured (no "learned") ...
                         t("backprop.note.grad_check_passed_initial", **errors)]
    assert t("backprop.note.diverged_why") in res.explanations  # ... apart from why


def test_lab_notes_measure_and_explain():
    """The measured notes carry the metrics; the explanations say why (separability, the two references)."""
    config = backprop.Config.make("quick")
    res = backprop.run(config, figures=False)
    out = res.outcome
    assert res.figures == {} and isinstance(out, backprop.Outcome) and out.learned == res.metrics["learned"]
    assert res.notes == [
        t("backprop.note.grad_check_passed", autograd=out.max_rel_err_autograd, fd=out.max_rel_err_fd,
          tol=backprop.TOLERANCE),
        t("backprop.note.learned", gate="AND", steps=config.steps, loss=out.table_loss, error=out.max_abs_error)]
    assert res.explanations == [t("backprop.note.references_why", eps=config.fd_eps)]
    xor = backprop.run(backprop.Config.make("quick", gate="xor", steps=20), figures=False)
    assert not xor.metrics["learned"]
    assert t("backprop.note.not_separable", gate="XOR") in xor.explanations
    assert t("backprop.note.not_learned", gate="XOR", steps=20, loss=xor.metrics["table_loss"],
             error=xor.metrics["max_abs_error"]) in xor.notes


def test_headline_and_metric_order():
    assert backprop.LAB.headline == ("max_rel_err_autograd", "max_rel_err_fd", "table_loss", "learned")
    assert [s.name for s in backprop.Outcome.metric_specs()] == [
        "max_rel_err_fd", "max_rel_err_autograd", "grad_check_passed", "table_loss", "max_abs_error", "learned",
        "diverged"]


def test_unknown_loss_name_is_a_config_error():
    with pytest.raises(ConfigError, match="loss: got 'hinge'"):
        loss_function("hinge")


def test_lab_ctrl_c():
    def progress(done, total, info):
        if done == 10:
            raise KeyboardInterrupt

    res = backprop.run(backprop.Config.make("quick"), progress=progress)
    assert res.status == Status.INTERRUPTED and len(res.curves["loss"].x) == 10
    assert t("backprop.note.interrupted", message=res.outcome.data["log"].text()) in res.notes
