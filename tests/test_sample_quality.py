"""Sample-quality metrics: energy distance, k-NN precision/recall, Fréchet distance, off-data share."""

import numpy as np
import pytest
import torch

from dlsm.labs._diffusion_quality import null_std
from dlsm.metrics import energy_distance, frechet_distance, knn_precision_recall
from dlsm.problems.toy2d import DATASETS, off_share, toy_splits


def test_energy_distance_zero_for_same_and_large_for_different():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(800, 2)), rng.normal(size=(800, 2))
    assert abs(energy_distance(a, b)) < 0.01
    assert energy_distance(a, a + 1.0) > 0.5
    # the U-statistic against its definition, by brute force
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3)) + 0.3
    dxy = np.mean([np.linalg.norm(u - v) for u in x for v in y])
    dxx = np.mean([np.linalg.norm(x[i] - x[j]) for i in range(7) for j in range(7) if i != j])
    dyy = np.mean([np.linalg.norm(y[i] - y[j]) for i in range(5) for j in range(5) if i != j])
    assert energy_distance(x, y) == pytest.approx(2 * dxy - dxx - dyy, rel=1e-12)


def test_energy_distance_hardly_sees_blur_but_precision_does():
    s = toy_splits("moons", 10, 2000, 0.05, 0)
    blurred = toy_splits("moons", 10, 2000, 0.2, 1).heldout  # moons four times too thick
    assert energy_distance(blurred, s.heldout) < 0.01
    p_blur, _ = knn_precision_recall(s.heldout, blurred)
    p_true, _ = knn_precision_recall(s.heldout, s.heldout2)
    assert p_true > 0.9 and p_blur < p_true - 0.2
    assert off_share("moons", blurred, 0.15) > 0.2 > off_share("moons", s.heldout2, 0.15)


def test_precision_recall_see_missing_modes_and_far_samples():
    rng = np.random.default_rng(1)
    real = np.concatenate([rng.normal(size=(500, 2)), rng.normal(size=(500, 2)) + 10])
    one_mode = rng.normal(size=(1000, 2))
    p, r = knn_precision_recall(real, one_mode)
    assert p > 0.9 and r < 0.6  # realistic samples, half the data missed
    p, r = knn_precision_recall(real, rng.normal(size=(1000, 2)) + 5)
    assert p < 0.05


def test_frechet_distance_closed_form():
    """Two Gaussians N(μ1, diag s1²), N(μ2, diag s2²): d² = ‖μ1 − μ2‖² + Σ (s1 − s2)²."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200_000, 3, generator=g, dtype=torch.float64) * torch.tensor([1.0, 2.0, 0.5])
    b = torch.randn(200_000, 3, generator=g, dtype=torch.float64) * torch.tensor([1.5, 1.0, 0.5]) + 1.0
    expected = 3 * 1.0 + (0.5**2 + 1.0**2 + 0.0)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)
    assert abs(frechet_distance(a, a)) < 1e-9


@pytest.mark.parametrize("name", list(DATASETS))
def test_held_out_points_lie_near_the_clean_set(name):
    data = DATASETS[name]
    s = toy_splits(name, 10, 1000, data.default_noise, 0)
    assert off_share(name, s.heldout, 3 * data.default_noise) < 0.03
    assert off_share(name, s.heldout, 1e-6) > 0.5 or name == "checkerboard"
    a = toy_splits(name, 10, 50, data.default_noise, 3).heldout
    assert torch.equal(a, toy_splits(name, 10, 50, data.default_noise, 3).heldout)  # a seed fixes the data


def test_null_std_is_the_spread_of_the_energy_distance_over_relabellings():
    """The quadratic forms of the lab equal the energy distance of each relabelled split, computed directly."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(30, 2, generator=g), torch.randn(20, 2, generator=g) + 0.2
    pooled = torch.cat([a, b]).double()
    perms = torch.Generator().manual_seed(1)
    direct = [energy_distance(pooled[p[:30]], pooled[p[30:]]) for p in (torch.randperm(50, generator=perms)
                                                                        for _ in range(20))]
    assert null_std(a, b, torch.Generator().manual_seed(1)) == pytest.approx(float(np.std(direct)), rel=1e-9)
