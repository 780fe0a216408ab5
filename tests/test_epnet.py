"""EP-Net (EP unfolded with a learned damping β_t and cavity scale ξ_t per layer): at EP's values it is EP; it
runs batched with one H per vector; a short training beats the closed-form LMMSE; the lab reports its SER."""

from __future__ import annotations

import math

import pytest
import torch

from dlsm.algorithms.detectors import EP, LMMSE
from dlsm.labs import mimo
from dlsm.labs._mimo_training import train_epnet
from dlsm.models.detectors import EPNet, symbol_cross_entropy
from dlsm.problems.mimo import MimoChannel, constellation


@pytest.mark.parametrize("modulation,n,m,iterations", [("bpsk", 4, 4, 10), ("pam4", 6, 4, 5), ("bpsk", 8, 12, 1)])
def test_epnet_at_eps_damping_equals_ep(modulation, n, m, iterations):
    const = constellation(modulation)
    b = MimoChannel(n, m, const, 0.3, torch.Generator().manual_seed(3), dtype=torch.float64).sample(300)
    ep = EP(const, iterations, beta=0.9)(b.y, b.H, b.noise_var)
    net = EPNet(iterations, const, beta0=0.9)
    assert torch.allclose(net.beta, torch.full((iterations,), 0.9, dtype=torch.float64), atol=1e-15)
    out = net.detect(b.y, b.H, b.noise_var)
    # β_t = sigmoid(logit 0.9) is 0.9 to 1e-16; EP's 1/σ̂² (up to 1/min_var = 2·10⁶) amplifies that rounding to a
    # few 1e-10 on the rare near-hard symbols, so the soft outputs agree to 1e-8 and every decision is the same
    assert torch.allclose(out.soft, ep.soft, atol=1e-8, rtol=0)
    assert torch.equal(out.x_hat, ep.x_hat)


def test_shapes_and_one_shared_H_equals_the_same_H_per_vector():
    const = constellation("bpsk")
    ch = MimoChannel(5, 3, const, 0.2, torch.Generator().manual_seed(4), dtype=torch.float64)
    b = ch.sample(7)
    net = EPNet(3, const)
    logp = net(b.y, b.H, b.noise_var)
    assert logp.shape == (7, 5, 2)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(7, 5, dtype=torch.float64))
    H = b.H[0]
    shared = net.detect(b.y, H, b.noise_var).soft
    per_vector = net.detect(b.y, H.expand(7, 3, 5).clone(), b.noise_var).soft
    assert shared.shape == (7, 5) and torch.allclose(shared, per_vector, atol=1e-12)
    # the cross-entropy of a one-hot posterior on the sent symbols is 0, and log 2 for a uniform one
    onehot = torch.where(torch.stack([b.x < 0, b.x > 0], -1), 0.0, -1e30).double().log_softmax(-1)
    assert float(symbol_cross_entropy(onehot, b.x, const)) == pytest.approx(0.0, abs=1e-12)
    assert float(symbol_cross_entropy(torch.full_like(onehot, -math.log(2)), b.x, const)) == pytest.approx(math.log(2))


def test_a_short_training_beats_lmmse_on_random_4x4():
    const = constellation("bpsk")
    config = mimo.Config.make("quick", channel="random", epnet_layers=6, epnet_steps=40, epnet_batch=200)
    train = MimoChannel(4, 4, const, 0.25, torch.Generator().manual_seed(10))
    net, log = train_epnet(config, train, None)
    assert log.steps_done == 40 and len(log.losses) > 0
    test = MimoChannel(4, 4, const, 0.25, torch.Generator().manual_seed(11)).sample(20_000)
    errs = {name: int((d(test.y, test.H, test.noise_var).x_hat != test.x).sum())
            for name, d in (("lmmse", LMMSE(const)), ("epnet", net.detect))}
    # LMMSE's SER here is about 6 % (1 in 80,000 symbols: ~4,800 errors, Monte-Carlo sd ~ 70): EP-Net, started
    # at EP, must be clearly below it, by more than 10 standard deviations of the difference.
    sd = math.sqrt(errs["lmmse"] + errs["epnet"])
    assert errs["epnet"] < errs["lmmse"] - 10 * sd, errs


def test_mimo_lab_quick_reports_epnet():
    res = mimo.run(mimo.Config.make("quick", channel="random", detectors=("lmmse", "ep", "ml", "epnet"),
                                    snr_grid=(4.0,), target_errors=30, max_symbols=8000), figures=False)
    m = res.metrics
    assert m["ser_epnet"] is not None and 0 <= m["ser_epnet"] < m["ser_lmmse"]
    assert m["epnet_over_ml"] == pytest.approx(m["ser_epnet"] / m["ser_ml"])
    assert m["epnet_over_ep"] == pytest.approx(m["ser_epnet"] / m["ser_ep"])
    table = res.tables["ser"]
    row = table.column("detector").index("epnet")
    assert table.column("ci_low")[row] <= m["ser_epnet"] <= table.column("ci_high")[row]
    assert "epnet" in res.tables["ser_vs_snr"].column("detector")
    assert len(res.tables["epnet_parameters"].column("beta")) == 10
    assert "epnet" in mimo.Config.make(channel="random").detectors
