"""Oracle tests of the MIMO detectors: ML and symbol MAP against brute force, ZF and LMMSE against their closed
forms, K-best with K = |C|ⁿ and TPG + full search against ML, TPG's positivity and its LMMSE first step."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from dlsm.algorithms.detectors import EP, LMMSE, ML, ZF, KBest, SymbolMAP, check_exhaustive, lmmse_equalize, zf_equalize
from dlsm.errors import ConfigError
from dlsm.models.detectors import TPG, NeuralDetector, TPGSearch
from dlsm.problems.mimo import MimoChannel, constellation, draw_channel


def _data(n, m, name="bpsk", batch=64, s2=0.5, per_vector=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    const = constellation(name)
    H = None if per_vector else draw_channel(n, m, g, dtype=torch.float64)
    ch = MimoChannel(n, m, const, s2, g, H_fixed=H, dtype=torch.float64)
    return const, ch.sample(batch)


def _brute(y, H, const, s2):
    """Exhaustive search and symbol posteriors in NumPy, one vector at a time."""
    y, H, pts = y.numpy(), H.numpy(), const.points.numpy()
    Hs = H if H.ndim == 3 else np.broadcast_to(H, (len(y), *H.shape))
    n = Hs.shape[-1]
    cands = np.array(list(itertools.product(pts, repeat=n)))  # (K, n)
    ml, marg = [], []
    for yb, Hb in zip(y, Hs, strict=True):
        d = np.array([np.sum((yb - Hb @ c) ** 2) for c in cands])
        ml.append(cands[np.argmin(d)])
        w = np.exp(-(d - d.min()) / (2 * s2))
        marg.append([[w[cands[:, i] == p].sum() for p in pts] for i in range(n)])
    marg = np.array(marg)  # (b, n, |C|)
    return np.array(ml), pts[marg.argmax(-1)]


@pytest.mark.parametrize(("n", "m", "name", "per_vector"), [
    (3, 3, "bpsk", False), (3, 2, "bpsk", True), (2, 3, "pam4", False), (3, 3, "pam4", True)])
def test_ml_and_map_equal_brute_force(n, m, name, per_vector):
    const, b = _data(n, m, name, per_vector=per_vector)
    ml_ref, map_ref = _brute(b.y, b.H, const, b.noise_var)
    np.testing.assert_array_equal(ML(const)(b.y, b.H, b.noise_var).x_hat.numpy(), ml_ref)
    np.testing.assert_array_equal(SymbolMAP(const)(b.y, b.H, b.noise_var).x_hat.numpy(), map_ref)
    # K-best keeping every path is ML (square or tall H: the metric is exact)
    if n <= m:
        kb = KBest(const, k=const.size**n)(b.y, b.H, b.noise_var).x_hat.numpy()
        np.testing.assert_array_equal(kb, ml_ref)


def test_tpg_search_over_every_symbol_is_ml():
    const, b = _data(4, 4, per_vector=True, batch=50)
    search = TPGSearch(TPG(3, const).double(), flips=4)
    np.testing.assert_array_equal(search.detect(b.y, b.H, b.noise_var).x_hat.numpy(),
                                  ML(const)(b.y, b.H, b.noise_var).x_hat.numpy())


@pytest.mark.parametrize(("n", "m"), [(3, 5), (4, 4), (5, 3)])
def test_zf_and_lmmse_equal_closed_forms(n, m):
    const, b = _data(n, m, batch=20)
    H, y, s2 = b.H.numpy(), b.y.numpy(), b.noise_var
    zf = y @ np.linalg.pinv(H).T
    lmmse = y @ (np.linalg.inv(H.T @ H + s2 * np.eye(n)) @ H.T).T  # (HᵀH + σ²I)⁻¹Hᵀy
    np.testing.assert_allclose(zf_equalize(b.y, b.H).numpy(), zf, atol=1e-9)
    np.testing.assert_allclose(lmmse_equalize(b.y, b.H, s2).numpy(), lmmse, atol=1e-9)
    np.testing.assert_array_equal(ZF(const)(b.y, b.H, s2).x_hat.numpy(), np.where(zf >= 0, 1.0, -1.0))
    np.testing.assert_array_equal(LMMSE(const)(b.y, b.H, s2).x_hat.numpy(), np.where(lmmse >= 0, 1.0, -1.0))
    # per-vector channels give the same numbers
    Hb = b.H.expand(20, m, n)
    np.testing.assert_allclose(lmmse_equalize(b.y, Hb, s2).numpy(), lmmse, atol=1e-9)
    np.testing.assert_allclose(zf_equalize(b.y, Hb).numpy(), zf, atol=1e-9)


def test_ep_is_ml_on_an_orthogonal_channel():
    const, _ = _data(4, 4)
    g = torch.Generator().manual_seed(3)
    Q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))
    ch = MimoChannel(4, 4, const, 0.3, g, H_fixed=2 * Q, dtype=torch.float64)
    b = ch.sample(200)
    # with orthogonal columns ML decouples into per-symbol decisions, which EP reaches
    np.testing.assert_array_equal(EP(const)(b.y, b.H, b.noise_var).x_hat.numpy(),
                                  ML(const)(b.y, b.H, b.noise_var).x_hat.numpy())


def test_exhaustive_search_is_refused_above_two_to_the_twenty():
    check_exhaustive(constellation("bpsk"), 20)
    with pytest.raises(ConfigError, match="2\\^20"):
        check_exhaustive(constellation("bpsk"), 21)
    with pytest.raises(ConfigError, match="n <= 10"):
        ML(constellation("pam4"))(torch.zeros(1, 11), torch.zeros(11, 11), 1.0)


def test_tpg_parameters_are_positive_and_its_first_step_is_lmmse():
    const, b = _data(4, 6, batch=100, per_vector=True)
    tpg = TPG(1, const, gamma0=1.0, theta0=1.0, alpha0=1.0).double()
    np.testing.assert_array_equal(tpg.detect(b.y, b.H, b.noise_var).x_hat.numpy(),
                                  LMMSE(const)(b.y, b.H, b.noise_var).x_hat.numpy())
    with torch.no_grad():
        for p in tpg.parameters():
            p.fill_(-80.0)
    assert (tpg.gamma > 0).all() and (tpg.theta > 0).all() and tpg.alpha > 0


@pytest.mark.parametrize("name", ["bpsk", "pam4"])
def test_soft_projection_tends_to_the_hard_decision(name):
    const = constellation(name)
    r = torch.linspace(-3, 3, 101, dtype=torch.float64) + 1e-3
    np.testing.assert_allclose(const.soft_projection(r, 1e-4).numpy(), const.decide(r).numpy(), atol=1e-9)
    ends = const.soft_projection(torch.tensor([-50.0, 50.0], dtype=torch.float64), 1.0)
    np.testing.assert_allclose(ends.numpy(), const.points[[0, -1]].numpy())


def test_constellations_have_unit_energy_and_neural_detector_shapes():
    for name in ("bpsk", "pam4"):
        assert constellation(name).energy == pytest.approx(1.0)
    const = constellation("bpsk")
    net = NeuralDetector(4, 3, const, channel_input=True, generator=torch.Generator().manual_seed(0))
    out = net.detect(torch.zeros(5, 3), torch.zeros(5, 3, 4), 1.0)
    assert out.x_hat.shape == (5, 4) and set(out.x_hat.unique().tolist()) <= {-1.0, 1.0}


def test_zf_falls_back_to_the_pseudo_inverse_on_a_singular_channel():
    H = torch.tensor([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 2.0]]], dtype=torch.float64)  # first singular
    y = torch.tensor([[1.0, 2.0], [1.0, 1.0]], dtype=torch.float64)
    expected = torch.stack([torch.linalg.pinv(H[i]) @ y[i] for i in range(2)])
    torch.testing.assert_close(zf_equalize(y, H), expected)
    torch.testing.assert_close(zf_equalize(y[:1], H[0]), expected[:1])


@pytest.mark.parametrize("name", ["bpsk", "pam4"])
def test_fast_search_in_many_blocks_equals_brute_force(monkeypatch, name):
    """The shared-H search by matrix products, cut into blocks of a few rows, equals the NumPy brute force."""
    import dlsm.algorithms.detectors as det

    monkeypatch.setattr(det, "_CACHE_BLOCK", 2 * 4**3)  # a few rows per block: many blocks, a ragged last one
    const, batch = _data(3, 4, name, batch=45, s2=0.3, seed=3)
    ml_np, map_np = _brute(batch.y, batch.H, const, 0.3)
    assert np.array_equal(ML(const)(batch.y, batch.H, 0.3).x_hat.numpy(), ml_np)
    assert np.array_equal(SymbolMAP(const)(batch.y, batch.H, 0.3).x_hat.numpy(), map_np)


def test_fast_ml_breaks_ties_like_brute_force():
    """y = 0 makes x and −x tie exactly (‖Hx‖² = ‖H(−x)‖²); both searches take the first candidate in C's order,
    like np.argmin over the brute-force distances."""
    const = constellation("bpsk")
    H = draw_channel(4, 4, torch.Generator().manual_seed(1), dtype=torch.float64)
    y = torch.zeros(3, 4, dtype=torch.float64)
    ml_np, _ = _brute(y, H, const, 0.5)
    assert np.array_equal(ML(const)(y, H, 0.5).x_hat.numpy(), ml_np)
    assert ml_np[0][0] == -1.0  # of the tied pair ±x, the one listed first in C's order (x_1 = −1)
