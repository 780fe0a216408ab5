"""The compressed-sensing forward model: shapes, SNR, determinism, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from dlsm.errors import ConfigError
from dlsm.problems.sparse import SETTINGS, SparseProblem, SparseSetting


def test_settings_and_shapes():
    g = torch.Generator().manual_seed(0)
    prob = SparseProblem.create(SETTINGS["S1"], g)
    assert (prob.m, prob.n) == (250, 500) and prob.A.dtype == torch.float32
    x, y = prob.draw(7, g)
    assert x.shape == (7, 500) and y.shape == (7, 250)
    assert prob.snr_db == pytest.approx(40.0, abs=1e-6)
    # SNR = p σx² ‖A‖_F² / (m σw²)
    assert prob.noise_var == pytest.approx(0.1 * float((prob.A.double() ** 2).sum()) / (250 * 1e4), rel=1e-6)
    s2 = SparseProblem.create(SETTINGS["S2"], g)
    assert s2.noise_std == 0.05 and float(s2.A.std()) == pytest.approx(1.0, abs=0.02)


def test_same_seed_same_data():
    def draw(seed):
        g = torch.Generator().manual_seed(seed)
        prob = SparseProblem.create(SETTINGS["S2"], g)
        return (prob.A, *prob.draw(5, g))

    for a, b in zip(draw(3), draw(3), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(draw(3)[1], draw(4)[1])


def test_statistics_of_x_and_noise():
    g = torch.Generator().manual_seed(0)
    prob = SparseProblem.create(SparseSetting(200, 100, 0.2, sigma_x=2.0, noise_std=0.5), g, dtype=torch.float64)
    x, y = prob.draw(2000, g)
    assert float((x != 0).double().mean()) == pytest.approx(0.2, abs=0.005)
    assert float(x[x != 0].var()) == pytest.approx(4.0, rel=0.03)
    w = y - x @ prob.A.T
    assert float(w.std()) == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize("kind", ["gauss_1/m", "gauss_1", "rademacher", "cond"])
def test_matrix_kinds(kind):
    g = torch.Generator().manual_seed(0)
    prob = SparseProblem.create(SparseSetting(80, 40, 0.1, matrix=kind, cond=10.0, snr_db=20.0), g,
                                dtype=torch.float64)
    if kind == "cond":
        s = torch.linalg.svdvals(prob.A)
        assert float(s[0] / s[-1]) == pytest.approx(10.0, rel=1e-8)
        assert float((prob.A**2).sum()) == pytest.approx(80, rel=1e-8)
    if kind == "rademacher":
        assert torch.allclose(prob.A.abs(), torch.full_like(prob.A, 1 / math.sqrt(40)))


def test_m_larger_than_n_is_allowed():
    g = torch.Generator().manual_seed(0)
    prob = SparseProblem.create(SparseSetting(20, 40, 0.5, noise_std=0.0), g)
    assert prob.draw(2, g)[1].shape == (2, 40)


@pytest.mark.parametrize("kwargs, key", [
    ({"n": 0}, "n"), ({"m": -1}, "m"), ({"p": 0.0}, "p"), ({"p": 1.5}, "p"),
    ({"snr_db": math.inf, "noise_std": None}, "snr_db"), ({"snr_db": math.nan, "noise_std": None}, "snr_db"),
    ({"snr_db": 10.0}, "snr_db"), ({"noise_std": -1.0}, "noise_std"), ({"matrix": "cond"}, "cond"),
])
def test_bad_settings(kwargs, key):
    base = {"n": 10, "m": 5, "p": 0.1, "noise_std": 0.1}
    with pytest.raises(ConfigError) as err:
        SparseSetting(**{**base, **kwargs})
    assert err.value.key == key
