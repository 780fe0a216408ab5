"""Oracle tests of the sparse-recovery algorithms: scikit-learn's Lasso, numerical integration, Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from dlsm.algorithms.sparse import (
    amp,
    bg_mmse_denoiser,
    bg_mse,
    column_scale,
    fista,
    genie_estimate,
    hard_threshold,
    ista,
    l1_phase_transition,
    lasso_objective,
    lipschitz,
    omp,
    se_fixed_point_nmse_db,
    soft_mse,
    soft_threshold,
    state_evolution,
)
from dlsm.metrics import nmse_db
from dlsm.problems.sparse import SETTINGS, SparseProblem, SparseSetting


def small_problem(n=60, m=30, p=0.1, seed=0, dtype=torch.float64, **noise):
    noise = noise or {"noise_std": 0.01}
    g = torch.Generator().manual_seed(seed)
    prob = SparseProblem.create(SparseSetting(n, m, p, **noise), g, dtype=dtype)
    x, y = prob.draw(4, g)
    return prob, x, y


def test_thresholds():
    r = torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.5])
    assert torch.equal(soft_threshold(r, 1.0), torch.tensor([-1.0, 0.0, 0.0, 0.0, 0.5]))
    assert torch.equal(hard_threshold(r, 1.0), torch.tensor([-2.0, 0.0, 0.0, 0.0, 1.5]))
    tau = torch.tensor([[0.1], [1.0]])  # per-row thresholds broadcast
    assert soft_threshold(r.expand(2, 5), tau).shape == (2, 5)


def test_lipschitz_exact_and_power_iteration():
    A = torch.randn(30, 60, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    L = float(torch.linalg.eigvalsh(A.T @ A).max())
    assert lipschitz(A) == pytest.approx(L, rel=1e-10)
    assert lipschitz(A, exact=False, iters=500) == pytest.approx(L, rel=1e-4)


@pytest.mark.parametrize("solver", [ista, fista])
def test_ista_fista_converge_to_sklearn_lasso(solver):
    from sklearn.linear_model import Lasso

    prob, x, y = small_problem()
    A, lam = prob.A, 0.05
    iters = 4000 if solver is ista else 1500
    y = y[:2]
    x_hat = solver(A, y, lam, iters)  # (2, n)
    for i in range(y.shape[0]):
        # scikit-learn minimises 1/(2 m) ‖y − A x‖² + α ‖x‖₁, i.e. ours divided by m: α = λ / m
        ref = Lasso(alpha=lam / prob.m, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(A.numpy(), y[i].numpy())
        np.testing.assert_allclose(x_hat[i].numpy(), ref.coef_, atol=1e-7)


def test_objective_decreases_and_fista_is_faster():
    prob, x, y = small_problem(n=200, m=100, p=0.1, noise_std=0.01)
    lam = 0.01
    obj = {"ista": [], "fista": []}
    for name, solver in (("ista", ista), ("fista", fista)):
        solver(prob.A, y, lam, 200,
               track=lambda t, xt, o=obj[name]: o.append(float(lasso_objective(prob.A, y, xt, lam).sum())))
    assert len(obj["ista"]) == 200
    assert np.all(np.diff(obj["ista"]) <= 1e-12)  # ISTA with step 1/L is monotone
    assert obj["fista"][-1] < obj["ista"][-1]


def test_per_row_lambda_equals_separate_runs():
    prob, x, y = small_problem()
    lams = torch.tensor([0.01, 0.1, 0.3, 1.0])
    batched = ista(prob.A, y, lams, 50)
    for i, lam in enumerate(lams.tolist()):
        np.testing.assert_allclose(batched[i].numpy(), ista(prob.A, y[i], lam, 50).numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("tau2", [1e-4, 0.05, 1.0])
@pytest.mark.parametrize("p", [0.05, 0.5])
def test_bg_denoiser_matches_numerical_integration(tau2, p):
    s2 = 1.5
    r = torch.tensor([-3.0, -0.4, 0.0, 0.02, 0.2, 1.0, 5.0], dtype=torch.float64)
    eta, deta = bg_mmse_denoiser(r, tau2, p, s2)
    tau = math.sqrt(tau2)
    for j, rj in enumerate(r.tolist()):
        lik = lambda x, rj=rj: math.exp(-((rj - x) ** 2) / (2 * tau2)) / tau * math.exp(-x * x / (2 * s2))  # noqa: E731
        lo, hi = min(rj, 0) - 12 * tau - 1, max(rj, 0) + 12 * tau + 1
        pts = [rj - 5 * tau, rj, rj + 5 * tau, 0.0]
        num = p / math.sqrt(2 * math.pi * s2) * integrate.quad(lambda x, f=lik: x * f(x), lo, hi, points=pts, limit=500,
                                                 epsabs=0, epsrel=1e-12)[0]
        den = (1 - p) * math.exp(-rj * rj / (2 * tau2)) / tau + p / math.sqrt(2 * math.pi * s2) * integrate.quad(
            lik, lo, hi, points=pts, limit=500, epsabs=0, epsrel=1e-12)[0]
        assert float(eta[j]) == pytest.approx(num / den, rel=1e-7, abs=1e-12)
    # derivative against autograd
    r_req = r.clone().requires_grad_(True)
    e, _ = bg_mmse_denoiser(r_req, tau2, p, s2)
    (grad,) = torch.autograd.grad(e.sum(), r_req)
    np.testing.assert_allclose(deta.numpy(), grad.numpy(), rtol=1e-9, atol=1e-12)


def test_bg_denoiser_is_finite_in_extremes():
    r = torch.tensor([0.0, 1e-3, 10.0, 1e4])
    eta, deta = bg_mmse_denoiser(r, torch.tensor(1e-30), 0.1, 1.0)
    assert torch.isfinite(eta).all() and torch.isfinite(deta).all()


@pytest.mark.parametrize("tau2", [1e-5, 0.01, 0.3])
def test_state_evolution_step_matches_monte_carlo(tau2):
    rng = np.random.default_rng(0)
    p, s2, N = 0.1, 1.0, 400_000
    x = (rng.random(N) < p) * rng.normal(0, math.sqrt(s2), N)
    r = torch.from_numpy(x + math.sqrt(tau2) * rng.normal(size=N))
    eta, _ = bg_mmse_denoiser(r, tau2, p, s2)
    mc_bg = float(((eta.numpy() - x) ** 2).mean())
    mc_soft = float(((soft_threshold(r, 1.3 * math.sqrt(tau2)).numpy() - x) ** 2).mean())
    se = float(bg_mse(tau2, p, s2))
    assert se == pytest.approx(mc_bg, rel=0.04)
    assert float(soft_mse(tau2, 1.3, p, s2)) == pytest.approx(mc_soft, rel=0.02)


def test_bg_mse_matches_adaptive_quadrature():
    p, s2 = 0.1, 1.0
    for tau2 in (1e-6, 1e-3, 0.5):
        def integrand(r, tau2=tau2):
            c = s2 / (s2 + tau2)
            f0 = math.exp(-r * r / (2 * tau2)) / math.sqrt(2 * math.pi * tau2)
            f1 = math.exp(-r * r / (2 * (s2 + tau2))) / math.sqrt(2 * math.pi * (s2 + tau2))
            pi = p * f1 / (p * f1 + (1 - p) * f0)
            return (p * f1 + (1 - p) * f0) * (pi * c * tau2 + pi * (1 - pi) * c * c * r * r)
        rstar = math.sqrt(tau2) * 3
        ref = 2 * integrate.quad(integrand, 0, 12 * math.sqrt(s2 + tau2), points=[rstar, rstar / 3, rstar * 3],
                                 limit=1000, epsabs=0, epsrel=1e-11)[0]
        assert float(bg_mse(tau2, p, s2)) == pytest.approx(ref, rel=1e-6)


def test_se_fixed_points_of_the_two_settings():
    # S1: A ~ N(0, 1/m), SNR 40 dB -> σw² = p σx² n / (m 10⁴); S2: A ~ N(0, 1), σw = 0.05 -> σw²/m in unit-column units
    assert se_fixed_point_nmse_db(0.5, 0.1, 1.0, 0.1 * 500 / 250 / 1e4) == pytest.approx(-45.6, abs=0.05)
    assert se_fixed_point_nmse_db(0.5, 0.1, 1.0, 0.05**2 / 150) == pytest.approx(-46.4, abs=0.05)
    se = state_evolution(0.5, 0.1, 1.0, 2e-5, 30)
    assert len(se) == 30 and np.all(np.diff(se) <= 0)


def test_amp_tracks_state_evolution():
    # finite-n AMP lags SE in the steep part of the transient (at n = 500 by up to ~5 dB at t = 8; with the soft
    # threshold α = 1.5 its fixed point is 2.5 dB above SE at n = 500, 1.3 dB at n = 2000, 0.2 dB at n = 6000)
    g = torch.Generator().manual_seed(3)
    prob = SparseProblem.create(SparseSetting(2000, 1000, 0.1, snr_db=40.0), g)
    x, y = prob.draw(20, g)
    s2 = column_scale(prob.A) ** 2
    for denoiser, alpha, iters, tol in (("bg", None, 20, 0.5), ("soft", 1.2, 40, 1.0)):
        emp = []
        amp(prob.A, y, iters, denoiser=denoiser, p=prob.p, noise_var=prob.noise_var, alpha=alpha,
            track=lambda t, xt, emp=emp: emp.append(nmse_db(xt, x)))
        se = state_evolution(prob.m / prob.n, prob.p, 1.0, prob.noise_var / s2, iters, denoiser, alpha)
        se_db = 10 * np.log10(np.asarray(se) / prob.p)
        np.testing.assert_allclose(emp[:4], se_db[:4], atol=1.0)
        assert emp[-1] == pytest.approx(se_db[-1], abs=tol)  # the fixed point (soft: slower, larger finite-n gap)


def test_amp_handles_unnormalised_matrix():
    g = torch.Generator().manual_seed(1)
    prob = SparseProblem.create(SETTINGS["S2"], g)  # A ~ N(0, 1)
    x, y = prob.draw(40, g)
    x_hat = amp(prob.A, y, 20, denoiser="bg", p=prob.p, noise_var=prob.noise_var)
    assert nmse_db(x_hat, x) < -40


def test_omp_recovers_exactly_sparse_signal_without_noise():
    g = torch.Generator().manual_seed(0)
    n, m, k = 100, 50, 5
    A = torch.randn(m, n, generator=g, dtype=torch.float64) / math.sqrt(m)
    x = torch.zeros(3, n, dtype=torch.float64)
    for i in range(3):
        idx = torch.randperm(n, generator=g)[:k]
        x[i, idx] = torch.randn(k, generator=g, dtype=torch.float64)
    x_hat = omp(A, x @ A.T, k)
    np.testing.assert_allclose(x_hat.numpy(), x.numpy(), atol=1e-10, rtol=0)


def test_genie_is_lmmse_on_support_and_beats_amp():
    g = torch.Generator().manual_seed(2)
    prob = SparseProblem.create(SETTINGS["S1"], g, dtype=torch.float64)
    x, y = prob.draw(20, g)
    x_g = genie_estimate(prob.A, y, x != 0, prob.noise_var, 1.0)
    assert torch.all(x_g[x == 0] == 0)
    assert nmse_db(x_g, x) < nmse_db(amp(prob.A, y, 20, denoiser="bg", p=0.1, noise_var=prob.noise_var), x) + 0.3


def test_l1_phase_transition_curve():
    rho = l1_phase_transition(np.array([0.1, 0.5, 0.9]))
    assert rho[1] == pytest.approx(0.3848, abs=2e-3)  # Donoho-Tanner weak threshold of the cross-polytope
    assert np.all(np.diff(rho) > 0) and l1_phase_transition(1.0) == 1.0
    # cross-check with noise-free soft-threshold SE: below the curve the MSE goes to 0, above it does not
    from dlsm.algorithms.sparse import tuned_soft_alpha
    for delta in (0.4,):
        rho_star = float(l1_phase_transition(delta))
        for factor, converges in ((0.85, True), (1.15, False)):
            eps = factor * rho_star * delta  # p = k/n = ρ δ
            alpha = tuned_soft_alpha(delta, eps, 1.0, 0.0)
            mse = state_evolution(delta, eps, 1.0, 0.0, 1500, "soft", alpha)[-1]
            assert (mse < 1e-6 * eps) == converges
