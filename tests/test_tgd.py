"""Trainable gradient descent and step-size schedules: oracles for the schedules, the lab's learned steps."""

import numpy as np
import pytest
import torch

from dlsm.algorithms.chebyshev import best_constant_step, chebyshev_steps, error_ratio, optimal_steps
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import tgd
from dlsm.models.tgd import TrainableGD, fixed_steps_trajectory


def test_chebyshev_steps_are_reciprocal_chebyshev_roots():
    lo, hi, T = 2.0, 16.0, 6
    roots = 1 / chebyshev_steps(lo, hi, T)
    # the shifted Chebyshev polynomial T_T((2λ - hi - lo)/(hi - lo)) vanishes at every root
    u = (2 * roots - hi - lo) / (hi - lo)
    assert np.allclose(np.cos(T * np.arccos(u)), 0, atol=1e-12)
    assert best_constant_step(lo, hi) == pytest.approx(2 / 18)


def test_optimal_schedule_matches_least_squares_polynomial():
    # oracle: minimise Σ_i p(λ_i)² over polynomials p of degree T with p(0) = 1, as a linear least-squares problem
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 20))
    lam = np.linalg.eigvalsh(A.T @ A)
    for T in (1, 3, 6):
        s = lam / lam.max()
        V = np.vander(s, T + 1, increasing=True)[:, 1:]  # (n, T)
        c, *_ = np.linalg.lstsq(V, -np.ones_like(s), rcond=None)
        best = np.mean((1 + V @ c) ** 2)
        assert error_ratio(lam, optimal_steps(lam, T))[-1] == pytest.approx(best, rel=1e-8)
        assert error_ratio(lam, optimal_steps(lam, T))[-1] <= error_ratio(lam, chebyshev_steps(lam.min(), lam.max(),
                                                                                               T))[-1]


def test_two_eigenvalues_are_solved_exactly_by_one_over_lambda():
    steps = optimal_steps(np.array([2.0, 16.0]), 5)
    assert sorted(steps[:2]) == [1 / 16, 1 / 2]
    assert error_ratio([2.0, 16.0], steps)[2:].max() == 0.0


def test_model_matches_plain_gradient_descent_and_autograd_gradient():
    Q = torch.diag(torch.tensor([2.0, 16.0], dtype=torch.float64))
    model = TrainableGD(Q, 4, 0.07)
    x0 = torch.tensor([[3.0, -2.0], [1.0, 5.0]], dtype=torch.float64)
    plain = fixed_steps_trajectory(Q, x0, torch.full((4,), 0.07, dtype=torch.float64))
    for a, b in zip(model.trajectory(x0), plain, strict=True):
        assert torch.equal(a, b)
    # the closed-form gradient Qx is the gradient of f = x1² + 8 x2²
    x = x0.clone().requires_grad_(True)
    (x[:, 0] ** 2 + 8 * x[:, 1] ** 2).sum().backward()
    assert torch.allclose(x.grad, x0 @ Q)
    log_model = TrainableGD(Q, 4, 0.07, "log")
    assert torch.allclose(log_model.beta, torch.full((4,), 0.07, dtype=torch.float64))


def test_tgd_finds_the_half_and_sixteenth_steps():
    config = tgd.Config.make("quick", T=2, random_quadratic=False, steps_per_generation=500)
    result = tgd.run(config)
    m = result.metrics
    assert m["found_half_sixteenth"] is True and m["diverged"] is False
    beta = sorted(result.tables["steps"].column("learned beta_t"))
    assert beta == pytest.approx([1 / 16, 1 / 2], rel=1e-4)
    assert m["sq_error"] < 1e-6 * m["best_fixed_sq_error"]
    assert t("tgd.note.found") in result.notes and t("tgd.note.theory") in result.explanations


def test_quick_run_with_random_quadratic_beats_constant_step():
    result = tgd.run(tgd.Config.make("quick"))
    m = result.metrics
    assert m["rq_learned_db"] < m["rq_constant_db"]
    assert m["rq_optimal_db"] <= m["rq_learned_db"] + 1e-9
    assert m["rq_gap_db"] < 1.0
    assert set(result.artifacts) == {"model", "model_random_quadratic"}


@pytest.mark.parametrize("key, value", [("T", 0), ("lr", -0.1), ("rq_m", 10)])
def test_bad_input_is_a_config_error(key, value):
    with pytest.raises(ConfigError) as err:
        tgd.Config.make("quick", **{key: value})
    assert err.value.key == key


def test_error_figure_draws_exact_zeros_below_the_other_curves_and_says_so():
    """An error that is exactly 0 has no logarithm: it is drawn one decade below every positive value (not at a
    fixed 1e-32 that would flatten the other curves), with a marker and a legend that say so."""
    from dlsm.plotting.unfold import plot_error_per_iteration, zero_floor

    curves = {"learned": np.array([33.0, 1600.0, 0.0, 0.0]), "fixed": np.array([33.0, 20.0, 3.0, 0.02])}
    assert zero_floor(curves) == pytest.approx(1e-3)
    assert zero_floor({"none": np.array([0.0])}) == 1.0
    fig = plot_error_per_iteration(curves, "title")
    ax = fig.axes[0]
    low, _ = ax.get_ylim()
    assert -4 < low < -2.5  # the axis spans the curves, not -32
    learned = ax.get_lines()[0]
    assert learned.get_ydata()[2:].tolist() == [-3.0, -3.0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[0] == t("tgd.legend.exact_zero", label="learned") and labels[1] == "fixed"
    plain = plot_error_per_iteration({"fixed": curves["fixed"]}, "title")
    assert [text.get_text() for text in plain.axes[0].get_legend().get_texts()] == ["fixed"]
