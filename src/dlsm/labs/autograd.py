"""Lecture 4: automatic differentiation and broadcasting in PyTorch.

The course's first example: x = 3, w = 4, b = 5 and y = w x + b; after ``y.backward()`` PyTorch holds
dy/dw = x = 3 in ``w.grad`` and dy/db = 1 in ``b.grad``. The lab then differentiates a few composite
functions by autograd and lists the hand-derived formula (chain rule) beside it, checks gradients of
vector functions (including the mean squared error of the linreg lab), and evaluates broadcasting
examples: an element-wise function on a matrix, and x @ ones(3, 1) + 1 applied row by row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from dlsm import outcome, seeds
from dlsm.algorithms.least_squares import mse
from dlsm.config import LabConfig, param
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.outcome import Notes, metric
from dlsm.plotting.regression import plot_derivatives
from dlsm.problems.regression import crop_yields
from dlsm.result import ProgressFn, table_from_columns

Tensor = torch.Tensor
ScalarFn = Callable[[Tensor, Tensor, Tensor], Tensor]


@dataclass(frozen=True)
class Config(LabConfig):
    """The point (x, w, b) at which the scalar examples are differentiated."""

    x: float = param(3.0, "input x of y = w x + b (course: 3)")
    w: float = param(4.0, "weight w (course: 4)")
    b: float = param(5.0, "bias b (course: 5)")
    n: int = param(4, "size n of the random vector v and matrix A in the gradient examples", ge=1, le=1000)


# ----- scalar examples: f(x, w, b) and its hand-derived partial derivatives -------------------------
@dataclass(frozen=True)
class ScalarExample:
    """y = f(x, w, b) with the partial derivatives a student derives by hand (chain rule)."""

    name: str
    f: ScalarFn
    partials: dict[str, tuple[str, ScalarFn]]  # variable -> (formula, value)
    elementwise_in_x: bool = False  # f depends on x only: plotted over a grid


def _sigmoid(u: Tensor) -> Tensor:
    return 1 / (1 + torch.exp(-u))


SCALAR_EXAMPLES: tuple[ScalarExample, ...] = (
    ScalarExample("y = w x + b", lambda x, w, b: w * x + b,
                  {"w": ("x", lambda x, w, b: x), "b": ("1", lambda x, w, b: torch.ones_like(x)),
                   "x": ("w", lambda x, w, b: w)}),
    ScalarExample("y = (w x + b)²", lambda x, w, b: (w * x + b) ** 2,
                  {"w": ("2 (w x + b) x", lambda x, w, b: 2 * (w * x + b) * x),
                   "b": ("2 (w x + b)", lambda x, w, b: 2 * (w * x + b))}),
    ScalarExample("y = σ(w x + b)", lambda x, w, b: _sigmoid(w * x + b),
                  {"w": ("σ(u)(1 - σ(u)) x, u = w x + b",
                         lambda x, w, b: _sigmoid(w * x + b) * (1 - _sigmoid(w * x + b)) * x),
                   "b": ("σ(u)(1 - σ(u))", lambda x, w, b: _sigmoid(w * x + b) * (1 - _sigmoid(w * x + b)))}),
    ScalarExample("y = x³ - 2x", lambda x, w, b: x**3 - 2 * x,
                  {"x": ("3x² - 2", lambda x, w, b: 3 * x**2 - 2)}, elementwise_in_x=True),
    ScalarExample("y = sin(x²)", lambda x, w, b: torch.sin(x**2),
                  {"x": ("2x cos(x²)", lambda x, w, b: 2 * x * torch.cos(x**2))}, elementwise_in_x=True),
    ScalarExample("y = exp(-x²/2)", lambda x, w, b: torch.exp(-(x**2) / 2),
                  {"x": ("-x exp(-x²/2)", lambda x, w, b: -x * torch.exp(-(x**2) / 2))}, elementwise_in_x=True),
    ScalarExample("y = log(1 + eˣ)", lambda x, w, b: torch.log1p(torch.exp(x)),
                  {"x": ("eˣ / (1 + eˣ) = σ(x)", lambda x, w, b: _sigmoid(x))}, elementwise_in_x=True),
    ScalarExample("y = tanh(x)", lambda x, w, b: torch.tanh(x),
                  {"x": ("1 - tanh²(x)", lambda x, w, b: 1 - torch.tanh(x) ** 2)}, elementwise_in_x=True),
)


def autograd_partials(example: ScalarExample, x: float, w: float, b: float) -> tuple[float, dict[str, float]]:
    """y and its partial derivatives at (x, w, b) by ``y.backward()``, as in the course."""
    xt, wt, bt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, w, b))
    y = example.f(xt, wt, bt)  # ()
    y.backward()
    grads = {"x": xt.grad, "w": wt.grad, "b": bt.grad}
    return float(y.detach()), {v: float(grads[v]) if grads[v] is not None else 0.0 for v in example.partials}


def derivative_on_grid(example: ScalarExample, x: Tensor) -> Tensor:
    """f'(x) at every point of a grid in one backward pass: f acts element-wise, so ∂(Σ_i f(x_i))/∂x_i = f'(x_i)."""
    x = x.clone().requires_grad_(True)  # (m,)
    zero = torch.zeros((), dtype=x.dtype)
    example.f(x, zero, zero).sum().backward()
    return x.grad  # (m,)


# ----- gradients of vector functions ----------------------------------------------------------------
def gradient_rows(n: int, generator: torch.Generator) -> dict[str, list]:
    """∇f by autograd against the hand formula for three functions of vectors; max |difference|."""
    v = torch.randn(n, generator=generator, dtype=torch.float64)  # (n,)
    A = torch.randn(n, n, generator=generator, dtype=torch.float64)  # (n, n)
    X, y = crop_yields("apples")  # (5, 3), (5,)
    w0 = torch.randn(3, generator=generator, dtype=torch.float64)  # (3,)
    b0 = torch.randn((), generator=generator, dtype=torch.float64)  # ()

    rows: dict[str, list] = {"function": [], "variable": [], "by hand": [], "shape": [], "autograd": [],
                             "max_abs_error": []}

    def add(function: str, variable: str, formula: str, auto: Tensor, hand: Tensor) -> None:
        rows["function"].append(function)
        rows["variable"].append(variable)
        rows["by hand"].append(formula)
        rows["shape"].append(str(tuple(auto.shape)))
        rows["autograd"].append(_short(auto))
        rows["max_abs_error"].append(float((auto - hand).abs().max()))

    vv = v.clone().requires_grad_(True)
    (vv * vv).sum().backward()
    add("f(v) = Σ v_i²", "v", "2 v", vv.grad, 2 * v)

    vv = v.clone().requires_grad_(True)
    (vv @ A @ vv).backward()
    add("f(v) = vᵀ A v", "v", "(A + Aᵀ) v", vv.grad, (A + A.T) @ v)

    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    mse(X, y, w, b).backward()
    r = X @ w0 + b0 - y  # (5,)
    add("L = 1/n Σ (x_iᵀw + b - y_i)², apples", "w", "(2/n) Xᵀ r, r = X w + b - y", w.grad, 2 / 5 * X.T @ r)
    add("L = 1/n Σ (x_iᵀw + b - y_i)², apples", "b", "(2/n) Σ r_i", b.grad, 2 / 5 * r.sum())
    return rows


def _short(value: Tensor, digits: int = 4, max_items: int = 6) -> str:
    values = [round(float(v), digits) for v in value.detach().reshape(-1)[:max_items]]
    more = ", ..." if value.numel() > max_items else ""
    return "[" + ", ".join(f"{v:g}" for v in values) + more + "]" if value.dim() else f"{values[0]:g}"


# ----- broadcasting ---------------------------------------------------------------------------------
#: The matrix every broadcasting example starts from: x = [[1, 2, 3], [4, 5, 6]], shape (2, 3).
def example_matrix() -> Tensor:
    return torch.arange(1.0, 7.0, dtype=torch.float64).reshape(2, 3)  # (2, 3)


@dataclass(frozen=True)
class BroadcastExample:
    expression: str
    operands: str
    compute: Callable[[Tensor], Tensor]
    meaning: str


BROADCAST_EXAMPLES: tuple[BroadcastExample, ...] = (
    BroadcastExample("2 * x + 1", "(2, 3), scalars", lambda x: 2 * x + 1,
                     "a scalar is used for every element"),
    BroadcastExample("torch.sigmoid(x)", "(2, 3)", torch.sigmoid,
                     "an element-wise function acts on each entry of a matrix"),
    BroadcastExample("x @ torch.ones(3, 1) + 1", "(2, 3) @ (3, 1), scalar",
                     lambda x: x @ torch.ones(3, 1, dtype=x.dtype) + 1, "each row summed, then 1 added: shape (2, 1)"),
    BroadcastExample("x + torch.tensor([10., 20., 30.])", "(2, 3) + (3,)",
                     lambda x: x + torch.tensor([10.0, 20.0, 30.0], dtype=x.dtype),
                     "the (3,) vector is added to every row"),
    BroadcastExample("x + torch.tensor([[100.], [200.]])", "(2, 3) + (2, 1)",
                     lambda x: x + torch.tensor([[100.0], [200.0]], dtype=x.dtype),
                     "the (2, 1) column is added to every column"),
    BroadcastExample("torch.arange(3.).reshape(3, 1) + torch.arange(4.)", "(3, 1) + (4,)",
                     lambda x: torch.arange(3.0, dtype=x.dtype).reshape(3, 1) + torch.arange(4.0, dtype=x.dtype),
                     "both are stretched: an outer sum of shape (3, 4)"),
    BroadcastExample("x + torch.tensor([1., 2.])", "(2, 3) + (2,)",
                     lambda x: x + torch.tensor([1.0, 2.0], dtype=x.dtype),
                     "error: trailing sizes 3 and 2 differ and neither is 1"),
)


def broadcast_rows() -> dict[str, list]:
    """Evaluate every broadcasting example on the matrix x; a failing one reports PyTorch's error."""
    x = example_matrix()
    rows: dict[str, list] = {"expression": [], "operand shapes": [], "result shape": [], "result": [],
                             "meaning": []}
    for ex in BROADCAST_EXAMPLES:
        try:
            out = ex.compute(x)
            shape, value = str(tuple(out.shape)), str(np.round(out.numpy(), 4).tolist())
        except RuntimeError as err:
            shape, value = "error", str(err).split("\n")[0]
        rows["expression"].append(ex.expression)
        rows["operand shapes"].append(ex.operands)
        rows["result shape"].append(shape)
        rows["result"].append(value)
        rows["meaning"].append(ex.meaning)
    return rows


def derivative_figure():
    """f(x) and f'(x) by autograd and by hand, for every example that depends on x alone."""
    grid = torch.linspace(-3, 3, 301, dtype=torch.float64)  # (301,)
    zero = torch.zeros((), dtype=torch.float64)
    panels = []
    for ex in SCALAR_EXAMPLES:
        if not ex.elementwise_in_x:
            continue
        fx = ex.f(grid, zero, zero)
        formula, hand = ex.partials["x"]
        panels.append((f"{ex.name}\ny' = {formula}", grid.numpy(), fx.numpy(),
                       derivative_on_grid(ex, grid).numpy(), hand(grid, zero, zero).numpy()))
    return plot_derivatives(panels)


# ----- the lab --------------------------------------------------------------------------------------
@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """The course's derivatives of y = w x + b and how closely autograd matches the hand formulas."""

    y: float = metric(headline=True)
    dy_dw: float = metric(headline=True)
    dy_db: float = metric(headline=True)
    dy_dx: float = metric()
    max_abs_error: float = metric(headline=True)
    n_checks: int = metric()
    diverged: bool = metric()


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    generator = seeds.generator(config.seed, "main")

    derivative_rows: dict[str, list] = {"function": [], "variable": [], "autograd": [], "by hand": [],
                                        "hand value": [], "abs_error": []}
    point = {"x": config.x, "w": config.w, "b": config.b}
    course_y, course_grads = autograd_partials(SCALAR_EXAMPLES[0], config.x, config.w, config.b)
    for ex in SCALAR_EXAMPLES:
        _, grads = autograd_partials(ex, config.x, config.w, config.b)
        args = [torch.tensor(point[k], dtype=torch.float64) for k in ("x", "w", "b")]
        for var, (formula, hand) in ex.partials.items():
            hand_value = float(hand(*args))
            derivative_rows["function"].append(ex.name)
            derivative_rows["variable"].append(f"∂y/∂{var}")
            derivative_rows["autograd"].append(grads[var])
            derivative_rows["by hand"].append(formula)
            derivative_rows["hand value"].append(hand_value)
            derivative_rows["abs_error"].append(abs(grads[var] - hand_value))
    if progress:
        progress(1, 3, {})

    grad_rows = gradient_rows(config.n, generator)
    tables = {"derivatives": table_from_columns(derivative_rows), "gradients": table_from_columns(grad_rows),
              "broadcasting": table_from_columns(broadcast_rows())}
    if progress:
        progress(2, 3, {})

    errors = derivative_rows["abs_error"] + grad_rows["max_abs_error"]
    max_error = float(np.max(errors))  # NaN if any derivative is not finite
    if progress:
        progress(3, 3, {})
    return Outcome(
        y=course_y,
        dy_dw=course_grads["w"],
        dy_db=course_grads["b"],
        dy_dx=course_grads["x"],
        max_abs_error=max_error,
        n_checks=len(errors),
        diverged=False,  # nothing iterates here
        tables=tables,
    )


def notes(config: Config, out: Outcome) -> Notes:
    """The course's numbers and the agreement with the hand formulas; apart, why they agree."""
    found = Notes()
    found.measured.append(t("autograd.note.course", x=config.x, w=config.w, b=config.b, y=out.y, dw=out.dy_dw,
                            db=out.dy_db))
    found.explanations.append(t("autograd.note.course_by_hand", x=config.x))
    if not math.isfinite(out.max_abs_error):
        found.measured.append(t("autograd.note.not_finite"))
        found.explanations.append(t("autograd.note.not_finite_why"))
    elif out.max_abs_error < 1e-9:
        found.measured.append(t("autograd.note.agree", n=out.n_checks, error=out.max_abs_error))
        found.explanations.append(t("autograd.note.agree_why"))
    else:
        found.measured.append(t("autograd.note.largest", error=out.max_abs_error))
        found.explanations.append(t("autograd.note.largest_why"))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """f(x) and f'(x) by autograd and by hand for the examples that depend on x alone."""
    return {"derivatives": derivative_figure()}


LAB = Lab(
    name="autograd",
    lecture=4,
    description="autograd on y = w x + b and composite functions beside hand-derived derivatives; broadcasting",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
