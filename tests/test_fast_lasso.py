"""The fast batched FISTA (issue 25) against scikit-learn's Lasso on the same objective, and its flop rule."""

from __future__ import annotations

import itertools

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
    bad = y.clone()
    bad[0, 0] = float("nan")
    for yy in (bad, bad[0]):  # batched and one vector: refused, not an endless backtracking
        with pytest.raises(ValueError, match="finite"):
            fista_solve(A, yy, 0.05)
    bad_A = A.clone()
    bad_A[3, 5] = float("inf")
    for yy, kw in ((y, {}), (y[0], {}), (y[0], {"step": 0.1})):  # also with a fixed step (no backtracking)
        with pytest.raises(ValueError, match="finite"):
            fista_solve(bad_A, yy, 0.05, **kw)


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


def test_certified_rows_are_the_lasso_solution_and_the_loop_stops_early():
    """A row that polish certifies satisfies the KKT conditions: it equals scikit-learn's converged Lasso, and
    FISTA stops long before its relative change reaches the tolerance."""
    A, y = _problem(m=40, n=80, b=8, seed=3)
    lam = 0.05
    sol = fista_solve(A, y, lam, tol=1e-14, max_iter=100_000)
    plain = fista_solve(A, y, lam, tol=1e-14, max_iter=100_000, certify=False)
    assert bool(sol.certified.all()) and sol.iters < plain.iters
    ref = _sklearn(A, y, [lam] * y.shape[0])
    np.testing.assert_allclose(sol.x.numpy(), ref, atol=1e-10)
    one = fista_solve(A, y[0], lam, tol=1e-14, max_iter=100_000)
    assert bool(one.certified) and one.x.shape == (A.shape[1],)
    np.testing.assert_allclose(one.x.numpy(), ref[0], atol=1e-10)


def test_polish_refuses_a_wrong_support_and_accepts_the_right_one():
    """The certificate is the KKT conditions: from sklearn's solution, the right support passes; a support
    missing one active coordinate or carrying a spurious one fails."""
    from dlsm.algorithms.fast_lasso import polish

    A, y = _problem(m=40, n=80, b=1, seed=4)
    lam = 0.05
    ref = torch.tensor(_sklearn(A, y, [lam]))  # (1, n)
    Aty = y @ A
    x_t, ok = polish(ref, Aty, lam, A)
    assert bool(ok[0])
    np.testing.assert_allclose(x_t.numpy(), ref.numpy(), atol=1e-10)
    active = ref[0].nonzero().squeeze(1)
    missing = ref.clone()
    missing[0, active[int(ref[0, active].abs().argmax())]] = 0.0  # drop the largest coefficient
    assert not bool(polish(missing, Aty, lam, A)[1][0])
    spurious = ref.clone()
    spurious[0, int((ref[0] == 0).nonzero()[0])] = 1.0  # a coordinate the solution does not use
    assert not bool(polish(spurious, Aty, lam, A, A.T @ A)[1][0])


def test_momentum_weights_follow_beck_teboulle():
    from dlsm.algorithms.fast_lasso import momentum_weights

    w = momentum_weights(6)
    q = [1.0]
    for _ in range(5):
        q.append((1 + (1 + 4 * q[-1] ** 2) ** 0.5) / 2)
    assert w[0] == 0.0 and w[1] == 0.0
    np.testing.assert_allclose(w[1:], [(q[k - 1] - 1) / q[k] for k in range(1, 6)], rtol=1e-15)


def test_one_vector_path_with_backtracking_or_a_fixed_step_is_the_lasso_solution():
    """One vector on the CPU runs fista_vector (NumPy, backtracking step): every vector, with the backtracking
    step, a fixed step 1/λ_max(AᵀA), a (1, m) batch and a per-row λ, equals scikit-learn's converged Lasso."""
    from dlsm.algorithms.fast_lasso import lipschitz_gram

    A, y = _problem(m=40, n=80, b=5, seed=5)
    lam = 0.05
    ref = _sklearn(A, y, [lam] * y.shape[0])
    step = 1.0 / lipschitz_gram(A)
    for i in range(y.shape[0]):
        for kw in ({}, {"step": step}, {"restart": False}):
            sol = fista_solve(A, y[i], lam, tol=1e-14, max_iter=100_000, **kw)
            assert sol.converged and sol.x.shape == (A.shape[1],) and sol.x.dtype == torch.float64
            np.testing.assert_allclose(sol.x.numpy(), ref[i], atol=1e-10)
    batch1 = fista_solve(A, y[:1], torch.tensor([lam], dtype=torch.float64), tol=1e-14, max_iter=100_000)
    assert batch1.x.shape == (1, A.shape[1]) and batch1.certified.shape == (1,)
    np.testing.assert_allclose(batch1.x.numpy(), ref[:1], atol=1e-10)
    # without the certificate it stops on the relative change, near the solution
    loose = fista_solve(A, y[0], lam, tol=1e-12, max_iter=100_000, certify=False)
    assert loose.converged and not bool(loose.certified)
    np.testing.assert_allclose(loose.x.numpy(), ref[0], atol=1e-8)


def test_one_vector_backtracking_step_stays_within_eta_of_the_lipschitz_constant():
    """Beck & Teboulle (2009), §4: backtracking raises L only while the majorisation fails, which needs
    L < L(f) = λ_max(AᵀA), so L never exceeds η L(f); and with the majorisation every ISTA step (no momentum)
    decreases F."""
    from dlsm.algorithms import fast_lasso
    from dlsm.algorithms.ista import lasso_objective

    A, y = _problem(m=40, n=80, b=3, seed=6)
    L_f = fast_lasso.lipschitz_gram(A)
    An = A.numpy()
    assert float((An**2).sum(0).max()) <= L_f  # the start is a lower bound
    for yb in y.numpy():
        *_, ok, L = fast_lasso.fista_vector(An, yb, 0.05, tol=1e-14, max_iter=100_000)
        assert ok and 0 < L <= fast_lasso.BACKTRACK * L_f
        # momentum off and restart off: ISTA with the backtracking step, monotone in F
        f = [float(lasso_objective(A, torch.from_numpy(yb),
                                   torch.from_numpy(fast_lasso.fista_vector(An, yb, 0.05, max_iter=k, certify=False,
                                                                            momentum=False)[0]), 0.05))
             for k in (1, 2, 5, 20, 200)]
        assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(f))


def test_one_vector_zero_solution_is_certified_and_a_zero_matrix_gives_zero():
    """λ ≥ ‖Aᵀy‖∞ makes x = 0 the minimiser (the subgradient condition |Aᵀy| ≤ λ): certified; so is y = 0."""
    A, y = _problem(m=20, n=40, b=1, seed=7)
    lam_max = float((y[0] @ A).abs().max())
    for yy, lam in ((y[0], 1.01 * lam_max), (torch.zeros_like(y[0]), 0.1)):
        sol = fista_solve(A, yy, lam)
        assert bool(sol.certified) and not bool(sol.x.any())
    below = fista_solve(A, y[0], 0.9 * lam_max, tol=1e-14, max_iter=100_000)
    assert bool(below.x.any())  # just below λ_max the solution leaves zero
    np.testing.assert_allclose(below.x.numpy(), _sklearn(A, y[:1], [0.9 * lam_max])[0], atol=1e-10)
