"""The sparse lab's two sweeps: ISTA / FISTA over a grid of λ, and the ℓ1 phase transition over (δ, ρ).

Pure computation (no prose, no figure); :mod:`dlsm.labs.sparse` wires them into the lab.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from dlsm.algorithms.basis_pursuit import basis_pursuit
from dlsm.algorithms.sparse import lipschitz

Tick = Callable[[Mapping[str, float]], None]


def group_nmse_db(x_hat: torch.Tensor, x: torch.Tensor, groups: int) -> np.ndarray:
    """NMSE [dB] of each of ``groups`` consecutive blocks of rows of x_hat (groups·batch, n) against x (batch, n)."""
    err = ((x_hat.reshape(groups, *x.shape) - x) ** 2).double().sum((1, 2))  # (groups,)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(err.cpu().numpy() / float((x.double() ** 2).sum()))


def signal_nmse_db(x_hat: torch.Tensor, x: torch.Tensor) -> np.ndarray:
    """NMSE [dB] of each signal (row) on its own, 10 log10(‖x̂_i − x_i‖² / ‖x_i‖²): (batch,); NaN for an all-zero x_i.

    The NMSE of a batch (:func:`dlsm.metrics.nmse_db`) is a ratio of sums, which a few badly recovered signals
    dominate; the median and the worst of these per-signal values show whether they do.
    """
    err = ((x_hat.double() - x.double()) ** 2).sum(-1).cpu().numpy()  # (batch,)
    energy = (x.double() ** 2).sum(-1).cpu().numpy()  # (batch,)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(energy > 0, 10 * np.log10(err / energy), np.nan)


def lasso_sweep(solver, A: torch.Tensor, x: torch.Tensor, y: torch.Tensor, lams: list[float], iters: int,
                tick: Tick) -> np.ndarray:
    """NMSE [dB] (iters, len(lams)) of ISTA or FISTA for every λ at once (λ stacked along the batch)."""
    k = len(lams)
    lam_rows = torch.tensor(lams, dtype=y.dtype).repeat_interleave(x.shape[0]).unsqueeze(1)  # (k·batch, 1)
    curve = np.empty((iters, k))

    def track(t: int, xt: torch.Tensor) -> None:
        curve[t - 1] = group_nmse_db(xt, x, k)
        tick({"nmse_db": float(curve[t - 1].min())})

    solver(A, y.repeat(k, 1), lam_rows, iters, step=1.0 / lipschitz(A), track=track)
    return curve


@dataclass(frozen=True)
class PhaseGrid:
    """The trials of the phase transition: signal length n, grid × grid values of (δ, ρ), trials per cell."""

    n: int
    grid: int
    trials: int

    @property
    def cells(self) -> int:
        """Basis-pursuit problems solved in all (0 when the grid is skipped)."""
        return self.grid**2 * self.trials if self.grid else 0


def phase_transition(plan: PhaseGrid, generator: torch.Generator, tick: Tick) -> dict[str, np.ndarray]:
    """Success rate of basis pursuit (‖x̂ − x‖ / ‖x‖ < 1e-4, no noise, exactly k nonzeros, A ~ N(0, 1/m))."""
    n, grid = plan.n, plan.grid
    deltas = np.linspace(0.2, 0.9, grid) if grid > 1 else np.array([0.5])
    rhos = np.linspace(0.05, 0.95, grid) if grid > 1 else np.array([0.3])
    success = np.zeros((len(rhos), len(deltas)))  # (ρ, δ)
    for j, delta in enumerate(deltas):
        m = max(1, round(delta * n))
        for i, rho in enumerate(rhos):
            k = max(1, round(rho * m))
            ok = 0
            for _ in range(plan.trials):
                A = (torch.randn(m, n, generator=generator, dtype=torch.float64) / math.sqrt(m)).numpy()
                x = np.zeros(n)
                idx = torch.randperm(n, generator=generator)[:k].numpy()
                x[idx] = torch.randn(k, generator=generator, dtype=torch.float64).numpy()
                x_hat = basis_pursuit(A, A @ x)
                ok += bool(np.linalg.norm(x_hat - x) < 1e-4 * np.linalg.norm(x))
                tick({})
            success[i, j] = ok / plan.trials
    return {"deltas": deltas, "rhos": rhos, "success": success}


def empirical_boundary(deltas: np.ndarray, rhos: np.ndarray, success: np.ndarray) -> np.ndarray:
    """ρ where the success rate crosses 1/2 in each δ column (linear interpolation; NaN if it never does)."""
    out = np.full(len(deltas), np.nan)
    for j in range(len(deltas)):
        s = success[:, j]
        for i in range(len(rhos) - 1):
            if s[i] >= 0.5 > s[i + 1]:
                out[j] = rhos[i] + (s[i] - 0.5) / (s[i] - s[i + 1]) * (rhos[i + 1] - rhos[i])
                break
    return out
