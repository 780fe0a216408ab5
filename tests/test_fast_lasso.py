"""The fast batched FISTA (issue 25) against scikit-learn's Lasso on the same objective, and its flop rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlsm.algorithms.fast_lasso import fista_solve, use_gram
from dlsm.algorithms.ista import lasso_objective


def _problem(m=30, n=50, b=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(m, n, generator=g, dtype=torch.float64) / m**0.5
    x = torch.randn(b, n, generator=g, dtype=torch.float64) * (torch.rand(b, n, generator=g) < 0.2)
    return A, x @ A.T + 0.01 * torch.randn(b, m, generator=g, dtype=torch.float64)


def _sklearn(A, y, lams):
    """scikit-learn minimises (1/(2m))‖y − Ax‖² + α‖x‖₁, so α = λ/m."""
    from sklearn.linear_model import Lasso

    m = A.shape[0]
    return np.array([Lasso(alpha=lam / m, fit_intercept=False, tol=1e-14, max_iter=100_000).fit(A.numpy(), yb).coef_
                     for yb, lam in zip(y.numpy(), lams, strict=True)])


@pytest.mark.parametrize(("gram", "restart"), [(True, True), (False, True), (False, False)])
def test_fista_solve_reaches_sklearn_lasso(gram, restart):
    A, y = _problem()
    lam = 0.05
    sol = fista_solve(A, y, lam, tol=1e-13, max_iter=100_000, gram=gram, restart=restart)
    ref = torch.tensor(_sklearn(A, y, [lam] * y.shape[0]))
    assert sol.converged and sol.x.dtype == torch.float64
    np.testing.assert_allclose(sol.x.numpy(), ref.numpy(), atol=1e-9)
    f, f_ref = lasso_objective(A, y, sol.x, lam), lasso_objective(A, y, ref, lam)
    assert bool((f <= f_ref * (1 + 1e-12)).all())


def test_fista_solve_per_row_lambda_one_vector_and_float32_input():
    A, y = _problem(seed=1)
    lams = torch.tensor([0.01, 0.05, 0.1, 0.2, 0.02, 0.08], dtype=torch.float64)
    sol = fista_solve(A.float(), y.float(), lams, tol=1e-13, max_iter=100_000)  # computed in float64
    ref = _sklearn(A.float().double(), y.float().double(), lams.tolist())
    np.testing.assert_allclose(sol.x.numpy(), ref, atol=1e-8)
    one = fista_solve(A, y[2], 0.1, tol=1e-13, max_iter=100_000)
    assert one.x.shape == (A.shape[1],)
    np.testing.assert_allclose(one.x.numpy(), _sklearn(A, y[2:3], [0.1])[0], atol=1e-9)


def test_fista_solve_stops_at_max_iter_and_rejects_bad_arguments():
    A, y = _problem()
    sol = fista_solve(A, y, 0.05, tol=0.0, max_iter=7)
    assert sol.iters == 7 and not sol.converged
    with pytest.raises(ValueError, match="tol"):
        fista_solve(A, y, 0.05, tol=-1.0)
    with pytest.raises(ValueError, match="lam"):
        fista_solve(A, y, -0.05)


def test_gram_rule_is_the_flop_count():
    # many iterations: the Gram matrix pays exactly when n < 2m (m > n/2)
    assert use_gram(m=100, n=150, batch=50, iters=1000) and not use_gram(m=100, n=250, batch=50, iters=1000)
    # a single iteration never pays for forming AᵀA (n² m flops)
    assert not use_gram(m=100, n=150, batch=1, iters=1)


@pytest.mark.parametrize("name", ["ista", "fista"])
def test_tolerance_stops_early_and_zero_tolerance_runs_every_iteration(name):
    from dlsm.algorithms import ista as mod

    solver = getattr(mod, name)
    A, y = _problem(seed=2)
    full = solver(A, y, 0.05, 300)
    assert torch.equal(solver(A, y, 0.05, 300, tol=0.0), full)  # the default: today's numbers
    steps: list[int] = []
    early = solver(A, y, 0.05, 100_000, tol=1e-12, track=lambda t, _x: steps.append(t))
    assert steps[-1] < 100_000
    ref = _sklearn(A, y, [0.05] * y.shape[0])
    np.testing.assert_allclose(early.numpy(), ref, atol=1e-8)
