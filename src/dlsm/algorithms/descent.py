"""First-order descent methods on a deterministic gradient, written out by hand.

Each update rule is a small object with ``step(x, g) -> x_next`` and its own state, so the loop
:func:`descend` reads like the lecture's algorithm:

1. set s to the initial value; 2. g := f'(s); 3. s := s - a g; 4. go back to 2.

The conventions follow ``torch.optim`` (so the tests can use it as the oracle):

- gradient descent:  x_{t+1} = x_t - α g_t
- momentum (heavy ball, Polyak 1964):  v_{t+1} = μ v_t + g_t,  x_{t+1} = x_t - α v_{t+1}
- Nesterov (Nesterov 1983; Sutskever et al. 2013 form):  v_{t+1} = μ v_t + g_t,
  x_{t+1} = x_t - α (g_t + μ v_{t+1})
- Adam (Kingma & Ba 2015):  m = β1 m + (1-β1) g,  v = β2 v + (1-β2) g²,
  x_{t+1} = x_t - α m̂ / (√v̂ + ε)  with bias corrections m̂ = m/(1-β1^t), v̂ = v/(1-β2^t).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

Gradient = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class GradientDescent:
    """x_{t+1} = x_t - α ∇f(x_t)."""

    lr: float
    name: str = "gd"

    def step(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return x - self.lr * g


@dataclass
class Momentum:
    """Heavy ball: v_{t+1} = μ v_t + g_t, x_{t+1} = x_t - α v_{t+1}."""

    lr: float
    mu: float = 0.9
    name: str = "momentum"
    v: torch.Tensor | None = field(default=None, repr=False)

    def step(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        self.v = g.clone() if self.v is None else self.mu * self.v + g
        return x - self.lr * self.v


@dataclass
class Nesterov:
    """Nesterov's accelerated gradient: v_{t+1} = μ v_t + g_t, x_{t+1} = x_t - α (g_t + μ v_{t+1})."""

    lr: float
    mu: float = 0.9
    name: str = "nesterov"
    v: torch.Tensor | None = field(default=None, repr=False)

    def step(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        self.v = g.clone() if self.v is None else self.mu * self.v + g
        return x - self.lr * (g + self.mu * self.v)


@dataclass
class Adam:
    """Adam with bias correction (Kingma & Ba, ICLR 2015)."""

    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    name: str = "adam"
    t: int = 0
    m: torch.Tensor | None = field(default=None, repr=False)
    v: torch.Tensor | None = field(default=None, repr=False)

    def step(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        if self.m is None or self.v is None:
            self.m, self.v = torch.zeros_like(x), torch.zeros_like(x)
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g * g
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v / (1 - self.beta2**self.t)
        return x - self.lr * m_hat / (v_hat.sqrt() + self.eps)


UpdateRule = GradientDescent | Momentum | Nesterov | Adam


@dataclass
class Trajectory:
    """Iterates x_0..x_T (shape (T+1, d)) and gradients g_0..g_{T-1} (shape (T, d)).

    ``diverged`` is true when the iterates left every bounded region (|x| above ``blowup``) or became
    non-finite; the loop then stops early, so ``x`` may hold fewer than ``steps + 1`` rows.
    """

    x: torch.Tensor  # (T+1, d)
    g: torch.Tensor  # (T, d)
    diverged: bool

    @property
    def steps_run(self) -> int:
        return self.x.shape[0] - 1


def descend(grad: Gradient, x0: torch.Tensor, rule: UpdateRule, steps: int, blowup: float = 1e12) -> Trajectory:
    """Iterate ``x <- rule.step(x, grad(x))`` ``steps`` times from ``x0`` (a 1-D tensor).

    Stops early, marking the trajectory diverged, once ``max|x| > blowup * (1 + max|x0|)`` or an iterate
    is not finite — a divergence reported as such rather than as overflow noise.
    """
    x = x0.clone()
    xs, gs = [x], []
    limit = blowup * (1.0 + float(x0.abs().max()))
    diverged = False
    for _ in range(steps):
        g = grad(x)
        x = rule.step(x, g)
        gs.append(g)
        xs.append(x)
        if not torch.isfinite(x).all() or float(x.abs().max()) > limit:
            diverged = True
            break
    g_stack = torch.stack(gs) if gs else x0.new_zeros((0, x0.numel()))
    return Trajectory(x=torch.stack(xs), g=g_stack, diverged=diverged)
