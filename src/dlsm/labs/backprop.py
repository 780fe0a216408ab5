"""Lab ``backprop`` (lecture 2): backpropagation written out in NumPy, checked, then used to learn a gate.

The network is :class:`dlsm.algorithms.backprop.NumpyMLP` (2-hidden-1, sigmoid output): its
``forward`` keeps each layer's input and pre-activation, its ``backward`` applies the chain rule layer
by layer from ∂L/∂ŷ down to ∂L/∂W and ∂L/∂b. Before and after training, the backprop gradient on the
four truth-table inputs is compared with

- central finite differences (L(θ + ε e_i) - L(θ - ε e_i)) / 2ε, entry by entry, and
- PyTorch's autograd on the same network (``dlsm.models.mlp.MLP`` in float64 with the same weights),

as the relative error ‖g_backprop - g_ref‖ / max(‖g_backprop‖, ‖g_ref‖) per parameter; it passes below
1e-6. Training is plain gradient descent θ ← θ - lr ∂L/∂θ (lecture 1) on the course's mini-batches of
5 random inputs; plain gradient descent needs a larger lr than Adam (2.0 here, against Adam's 0.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm import outcome
from dlsm.algorithms.backprop import LOSSES, NumpyMLP, finite_difference_gradients, relative_error
from dlsm.config import LabConfig, param
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.labs._gates_train import loss_function
from dlsm.models.mlp import MLP
from dlsm.outcome import Notes, metric
from dlsm.plotting.gates import plot_decision_surface, plot_gate_losses, plot_gradient_check
from dlsm.problems.gates import INPUTS, LINEARLY_SEPARABLE, GateName, sample_batch, truth_table
from dlsm.result import Curve, ProgressFn, Table, table_from_columns
from dlsm.status import Status
from dlsm.training import fit

TOLERANCE = 1e-6  # a backprop gradient passes when its relative error to the reference is below this
GRID_POINTS = 101


@dataclass(frozen=True)
class Config(LabConfig):
    gate: GateName = param("and", "gate to learn (course: AND, then OR and XOR)")
    hidden: int = param(2, "hidden width (course: the 2-2-1 network)", ge=1)
    activation: Literal["sigmoid", "tanh", "relu"] = param(
        "sigmoid", "hidden activation (course: sigmoid; the output is always a sigmoid)")
    loss: Literal["mse", "bce"] = param("mse", "loss: mean squared error (course) or binary cross-entropy")
    lr: float = param(2.0, "learning rate of plain gradient descent (learns AND in 1000 steps)", gt=0)
    batch_size: int = param(5, "random inputs per mini-batch (course: 5)", ge=1)
    steps: int = param(1000, "gradient-descent steps (course: 1000)", ge=1)
    fd_eps: float = param(1e-5, "step ε of the central finite differences (near the optimum, cbrt(machine eps))",
                          gt=0, lt=1)

    quick = {"steps": 400}


def autograd_gradients(net: NumpyMLP, X: np.ndarray, y: np.ndarray, loss: str, activation: str) -> list:
    """∂L/∂θ by PyTorch's autograd on the same network (float64), in the order of ``net.params``."""
    widths = [net.W[0].shape[1]] + [W.shape[0] for W in net.W]
    # every weight is overwritten below; a generator of its own keeps the global RNG untouched
    torch_net = MLP(widths, activation, output_activation="sigmoid", generator=torch.Generator()).double()
    with torch.no_grad():
        for layer, W, b in zip(torch_net.linears, net.W, net.b, strict=True):
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b))
    L = loss_function(loss)(torch_net(torch.from_numpy(X)), torch.from_numpy(y))
    L.backward()
    return [p.grad.numpy() for layer in torch_net.linears for p in (layer.weight, layer.bias)]


def param_names(net: NumpyMLP) -> list[str]:
    return [name for l in range(1, len(net.W) + 1) for name in (f"W{l}", f"b{l}")]


def gradient_check(net: NumpyMLP, X: np.ndarray, y: np.ndarray, config: Config, point: str) -> Table:
    """One row per parameter: the backprop gradient's norm and its relative errors to both references."""
    _, dW, db = net.loss_and_gradients(X, y, LOSSES[config.loss])
    backprop = [g for pair in zip(dW, db, strict=True) for g in pair]
    finite = finite_difference_gradients(net, X, y, LOSSES[config.loss], config.fd_eps)
    autograd = autograd_gradients(net, X, y, config.loss, config.activation)
    rows = []
    for name, g, g_fd, g_ag in zip(param_names(net), backprop, finite, autograd, strict=True):
        err_fd, err_ag = relative_error(g, g_fd), relative_error(g, g_ag)
        rows.append([point, name, "x".join(str(s) for s in g.shape), float(np.linalg.norm(g)), err_fd, err_ag,
                     err_fd < TOLERANCE and err_ag < TOLERANCE])
    return Table(columns=["point", "parameter", "shape", "grad_norm", "rel_err_fd", "rel_err_autograd", "passed"],
                 rows=rows)


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """The gradient check of the NumPy backprop, and how well plain gradient descent with it learned the gate."""

    max_rel_err_fd: float = metric(headline=True)
    max_rel_err_autograd: float = metric(headline=True)
    grad_check_passed: bool = metric()
    table_loss: float = metric("loss", headline=True)
    max_abs_error: float = metric()
    learned: bool = metric(headline=True)
    diverged: bool = metric()


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    rng = np.random.default_rng(config.seed)
    net = NumpyMLP.init((2, config.hidden, 1), rng, config.activation, output_activation="sigmoid")
    loss = LOSSES[config.loss]
    X_t, y_t = truth_table(config.gate, torch.float64)
    X_all, y_all = X_t.numpy(), y_t.numpy()  # (4, 2), (4, 1)

    check = gradient_check(net, X_all, y_all, config, "initial")

    generator = torch.Generator().manual_seed(config.seed)  # the mini-batches

    def step(k: int) -> dict[str, float]:
        X, y = (a.numpy() for a in sample_batch(config.gate, config.batch_size, generator, torch.float64))
        L, dW, db = net.loss_and_gradients(X, y, loss)  # forward, then backward by the chain rule
        net.gradient_descent_step(dW, db, config.lr)
        return {"loss": L, "table_loss": loss.f(net.forward(X_all)[0], y_all)}

    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # a divergence is reported by fit
        log = fit(step, config.steps, progress=progress)
        outputs = net.forward(X_all)[0][:, 0]  # (4,)
        table_loss = loss.f(outputs[:, None], y_all)
    finite_end = bool(np.isfinite(table_loss) and all(np.all(np.isfinite(p)) for p in net.params))
    if finite_end:
        check.rows += gradient_check(net, X_all, y_all, config, "trained").rows
    targets = y_all[:, 0]
    correct = np.where(targets > 0.5, outputs > 0.5, outputs < 0.5)

    a, b = np.array(INPUTS).T
    steps = np.array(log.steps)
    return Outcome(
        max_rel_err_fd=max(float(e) for e in check.column("rel_err_fd")),
        max_rel_err_autograd=max(float(e) for e in check.column("rel_err_autograd")),
        grad_check_passed=bool(all(check.column("passed"))),
        table_loss=float(table_loss),
        max_abs_error=float(np.max(np.abs(outputs - targets))),
        learned=bool(np.all(correct)),
        diverged=log.status == Status.DIVERGED,
        status=log.status,  # completed, interrupted (Ctrl-C) or diverged
        tables={
            "gradient_check": check,
            "truth_table": table_from_columns({"a": a, "b": b, "target": targets.astype(int), "output": outputs,
                                               "correct": correct}),
            "parameters": Table(
                columns=["parameter", "index", "value"],
                rows=[[name, "[" + ",".join(str(i) for i in idx) + "]", float(p[idx])]
                      for name, p in zip(param_names(net), net.params, strict=True) for idx in np.ndindex(p.shape)]),
        },
        curves={
            "loss": Curve(steps, log.losses, t("common.label.step"), t("backprop.label.batch_loss", loss=config.loss),
                          log_y=True),
            "table_loss": Curve(steps, log.history.get("table_loss", []), t("common.label.step"),
                                t("backprop.label.table_loss", loss=config.loss), log_y=True),
        },
        artifacts={name: torch.from_numpy(p.copy()) for name, p in zip(param_names(net), net.params, strict=True)},
        data={"net": net, "targets": targets, "outputs": outputs, "finite_end": finite_end, "log": log},
    )


def notes(config: Config, out: Outcome) -> Notes:
    """The gradient check and the learned gate (measured), and why the two references agree as they do."""
    found = Notes()
    log = out.data["log"]
    gate = config.gate.upper()
    if out.status == Status.INTERRUPTED:
        found.measured.append(t("backprop.note.interrupted", message=log.text()))
    if out.diverged:
        found.measured.append(t("backprop.note.diverged", message=log.text()))
        found.explanations.append(t("backprop.note.diverged_why"))
    check = out.tables["gradient_check"]
    if out.grad_check_passed:
        errors = {"autograd": out.max_rel_err_autograd, "fd": out.max_rel_err_fd, "tol": TOLERANCE}
        if "trained" in check.column("point"):
            found.measured.append(t("backprop.note.grad_check_passed", **errors))
        else:  # training did not end finite: only the initial parameters were checked
            found.measured.append(t("backprop.note.grad_check_passed_initial", **errors))
    else:
        bad = [f"{r[0]} {r[1]}" for r in check.rows if not r[6]]
        found.measured.append(t("backprop.note.grad_check", tol=TOLERANCE, params=", ".join(bad)))
        found.explanations.append(t("backprop.note.grad_check_why"))
    found.explanations.append(t("backprop.note.references_why", eps=config.fd_eps))
    if out.data["finite_end"] and not out.diverged:
        measured = {"gate": gate, "steps": log.steps_done, "loss": out.table_loss, "error": out.max_abs_error}
        if out.learned:
            found.measured.append(t("backprop.note.learned", **measured))
        else:
            found.measured.append(t("backprop.note.not_learned", **measured))
            if config.gate in LINEARLY_SEPARABLE:
                found.explanations.append(t("backprop.note.separable_not_learned", gate=gate))
            else:
                found.explanations.append(t("backprop.note.not_separable", gate=gate))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """Loss curves, the gradient check at the initial parameters and (if finite) the decision surface."""
    label = t("backprop.title.run", gate=config.gate.upper(), hidden=config.hidden, activation=config.activation,
              lr=config.lr)
    batch, table = out.curves["loss"], out.curves["table_loss"]
    drawn = {"loss": plot_gate_losses(np.asarray(batch.x), np.asarray(batch.y), np.asarray(table.y),
                                      ylabel=config.loss, title=label)}
    initial = [r for r in out.tables["gradient_check"].rows if r[0] == "initial"]
    drawn["gradient_check"] = plot_gradient_check(
        [r[1] for r in initial], [r[4] for r in initial], [r[5] for r in initial], TOLERANCE,
        title=t("backprop.title.gradient_check"))
    if out.data["finite_end"]:
        net = out.data["net"]
        grid = np.linspace(0.0, 1.0, GRID_POINTS)
        ga, gb = np.meshgrid(grid, grid)  # (n, n) each
        Z = net.forward(np.column_stack([ga.ravel(), gb.ravel()]))[0].reshape(ga.shape)  # (n, n)
        drawn["decision_surface"] = plot_decision_surface(grid, Z, out.data["targets"], out.data["outputs"],
                                                          net.W[0], net.b[0], title=label)
    return drawn


LAB = Lab(
    name="backprop",
    lecture=2,
    description="backpropagation from scratch in NumPy, checked against finite differences and autograd",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
    headline=("max_rel_err_autograd", "max_rel_err_fd", "table_loss", "learned"),
)
run = LAB.run
