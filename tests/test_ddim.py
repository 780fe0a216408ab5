"""DDIM (Song, Meng & Ermon 2021) against theory: an oracle ε for one point, exact ε for Gaussian data, the DDPM
posterior at η = 1, and the diffusion lab's sampler keys."""

import math

import pytest
import torch

from dlsm.algorithms.ddim import DDIMSampler, even_steps
from dlsm.algorithms.ddpm import DDPMScheduler
from dlsm.errors import ConfigError
from dlsm.labs import diffusion


def _abar(betas: torch.Tensor) -> torch.Tensor:
    """ᾱ_t = Π_{s≤t} (1 − β_s), written out here rather than taken from the scheduler."""
    out, prod = [], 1.0
    for b in betas.tolist():
        prod *= 1 - b
        out.append(prod)
    return torch.tensor(out, dtype=torch.float64)


def _point_oracle(x0: torch.Tensor, abar: torch.Tensor):
    """ε̂(x_t, t) = (x_t − √ᾱ_t x_0)/√(1 − ᾱ_t): the exact noise when the data is the single point x_0."""
    def net(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = abar[t].to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))
        return (x - a.sqrt() * x0) / (1 - a).sqrt()
    return net


def _gaussian_oracle(mu: torch.Tensor, s: float, abar: torch.Tensor):
    """E[ε | x_t] for x_0 ~ N(μ, s² I): √(1 − ᾱ)(x_t − √ᾱ μ)/(ᾱ s² + 1 − ᾱ) (x_t and ε jointly Gaussian)."""
    def net(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = abar[t].to(x.dtype).reshape(-1, *([1] * (x.dim() - 1)))
        return (1 - a).sqrt() * (x - a.sqrt() * mu) / (a * s**2 + 1 - a)
    return net


@pytest.mark.parametrize("schedule, T", [("linear", 1000), ("cosine", 100)])
@pytest.mark.parametrize("k", [1, 2, 7, 50])
@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_an_oracle_network_of_one_point_is_recovered_exactly_in_any_number_of_steps(schedule, T, k, eta):
    scheduler = DDPMScheduler.from_name(schedule, T)
    x0 = torch.tensor([0.7, -1.3, 0.2], dtype=torch.float64)
    net = _point_oracle(x0, _abar(scheduler.betas))
    sampler = DDIMSampler(scheduler, even_steps(T, k), eta)
    x_T = torch.randn((64, 3), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out, kept = sampler.sample(net, (64, 3), torch.Generator().manual_seed(1), x_T=x_T, keep=(sampler.steps, 0))
    torch.testing.assert_close(out, x0.expand(64, 3), rtol=0, atol=1e-9)
    assert torch.equal(kept[sampler.steps], x_T) and torch.equal(kept[0], out)
    if eta == 0:  # deterministic: another generator, the same x_T, the same x_0 bit for bit
        again, _ = sampler.sample(net, (64, 3), torch.Generator().manual_seed(99), x_T=x_T)
        assert torch.equal(again, out)


def test_eta_zero_maps_the_same_noise_to_the_same_sample_for_any_network():
    scheduler = DDPMScheduler.from_name("linear", 200)
    w = torch.tensor([[0.3, -0.8], [1.1, 0.4]])

    def net(x, t):  # an arbitrary smooth network: DDIM with η = 0 is a fixed function of x_T
        return torch.tanh(x @ w) * (1 + t[:, None] / 200)
    sampler = DDIMSampler(scheduler, even_steps(200, 20), 0.0)
    x_T = torch.randn((100, 2), generator=torch.Generator().manual_seed(3))
    a, _ = sampler.sample(net, (100, 2), torch.Generator().manual_seed(4), x_T=x_T)
    b, _ = sampler.sample(net, (100, 2), torch.Generator().manual_seed(5), x_T=x_T)
    assert torch.equal(a, b)
    noisy = DDIMSampler(scheduler, even_steps(200, 20), 0.5)
    c, _ = noisy.sample(net, (100, 2), torch.Generator().manual_seed(4), x_T=x_T)
    d, _ = noisy.sample(net, (100, 2), torch.Generator().manual_seed(5), x_T=x_T)
    assert not torch.equal(c, d)  # η > 0 draws noise


def _ddim_gaussian_theory(abar_tau: list[float], s: float, eta: float, mu0: float) -> tuple[float, float]:
    """Mean and variance (per coordinate, about μ) of DDIM's output for N(μ, s²) data with the exact ε, from
    x_T ~ N(0, 1): every quantity is linear in u = x − √ᾱ μ, so each step maps (m, v) of u by
    u' = c u + σ z with c = (√(ᾱ'ᾱ) s² + √((1 − ᾱ' − σ²)(1 − ᾱ))) / (ᾱ s² + 1 − ᾱ)."""
    a = [1.0, *abar_tau]
    m, v = -math.sqrt(a[-1]) * mu0, 1.0  # u_T = x_T − √ᾱ_T μ
    for j in range(len(a) - 1, 0, -1):
        at, ap = a[j], a[j - 1]
        sig2 = eta**2 * (1 - ap) / (1 - at) * (1 - at / ap)
        c = (math.sqrt(ap * at) * s**2 + math.sqrt(max(1 - ap - sig2, 0.0) * (1 - at))) / (at * s**2 + 1 - at)
        m, v = c * m, c * c * v + sig2
    return m, v


@pytest.mark.parametrize("k", [10, 50])
@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_gaussian_data_with_the_exact_noise_predictor(k, eta):
    """Mean and variance of the samples match the closed-form propagation of N(0, 1) through DDIM's linear steps
    within sampling error. The mean is μ; the variance falls short of s² with few steps (each step is one
    Euler step of the probability-flow ODE): 52 % of s² at K = 10, 89 % at K = 50 (η = 0), 99.4 % at K = T."""
    T, n, s = 1000, 40_000, 0.5
    scheduler = DDPMScheduler.from_name("linear", T)
    abar = _abar(scheduler.betas)
    mu = torch.tensor([1.0, -0.5], dtype=torch.float64)
    taus = even_steps(T, k)
    out, _ = DDIMSampler(scheduler, taus, eta).sample(_gaussian_oracle(mu, s, abar), (n, 2),
                                                      torch.Generator().manual_seed(k + int(eta)))
    out = out.double()
    for i in range(2):
        m, v = _ddim_gaussian_theory(abar[taus].tolist(), s, eta, float(mu[i]))
        col = out[:, i]
        assert abs(float(col.mean()) - (float(mu[i]) + m)) < 4 * math.sqrt(v / n)
        assert abs(float(col.var()) - v) < 4 * v * math.sqrt(2 / (n - 1))
        assert abs(float(col.mean()) - float(mu[i])) < 4 * math.sqrt(v / n)  # the mean is μ
    v_few, v_all = _ddim_gaussian_theory(abar[taus].tolist(), s, eta, 0.0)[1], _ddim_gaussian_theory(
        abar.tolist(), s, eta, 0.0)[1]
    assert v_few < v_all and v_all == pytest.approx(s**2, rel=0.02)  # more steps: closer to s²


@pytest.mark.parametrize("clip", [None, 0.5])
def test_eta_one_with_all_steps_is_the_ddpm_posterior_step(clip):
    """σ_t² = β̃_t = β_t (1 − ᾱ_{t−1})/(1 − ᾱ_t), and the mean is the DDPM posterior mean at x̂_0 (clipped):
    (√ᾱ_{t−1} β_t x̂_0 + √α_t (1 − ᾱ_{t−1}) x_t)/(1 − ᾱ_t); without clipping 1/√α_t (x_t − β_t/√(1 − ᾱ_t) ε̂)."""
    T = 100
    scheduler = DDPMScheduler.from_name("linear", T, 1e-4, 0.05, clip=clip)
    betas = scheduler.betas
    abar = _abar(betas)
    sampler = DDIMSampler(scheduler, None, 1.0)
    assert sampler.steps == T
    g = torch.Generator().manual_seed(0)
    x = torch.randn((500, 3), generator=g, dtype=torch.float64)
    eps = torch.randn((500, 3), generator=g, dtype=torch.float64)
    for t in (0, 1, 30, 99):
        prev = float(abar[t - 1]) if t > 0 else 1.0
        beta, a_t = float(betas[t]), float(abar[t])
        tilde = beta * (1 - prev) / (1 - a_t)
        assert sampler.sigma(t + 1) ** 2 == pytest.approx(tilde, rel=1e-9, abs=1e-15)
        out = sampler.step(eps, t + 1, x, torch.Generator().manual_seed(t))
        z = torch.randn(x.shape, generator=torch.Generator().manual_seed(t), dtype=x.dtype)
        mean = out - math.sqrt(tilde) * z if tilde > 0 else out  # the same z the step drew
        if clip is None:
            expected = (x - beta / math.sqrt(1 - a_t) * eps) / math.sqrt(1 - beta)
        else:
            x0 = ((x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)).clamp(-clip, clip)
            expected = (math.sqrt(prev) * beta * x0 + math.sqrt(1 - beta) * (1 - prev) * x) / (1 - a_t)
        torch.testing.assert_close(mean, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("clip", [None, 1.0])
def test_eta_one_through_the_respaced_steps_samples_as_the_ddpm_posterior_sampler(clip):
    """The DDPM ancestral sampler with variance="posterior" on the respaced schedule β'_i = 1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}}
    (a separate implementation) draws the same noise in the same order: the samples agree to rounding."""
    T = 300
    scheduler = DDPMScheduler.from_name("linear", T, clip=clip)
    taus = even_steps(T, 25)
    abar = _abar(scheduler.betas)[taus]
    prev = torch.cat([torch.ones(1, dtype=torch.float64), abar[:-1]])
    ddpm = DDPMScheduler(1 - abar / prev, "posterior", clip)
    w = torch.tensor([[0.9, -0.4], [0.3, 1.2]], dtype=torch.float64)

    def net(x, t):  # a network asked at the trained steps
        return torch.sin(x @ w + t[:, None] / T)
    x_T = torch.randn((300, 2), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    a, _ = DDIMSampler(scheduler, taus, 1.0).sample(net, (300, 2), torch.Generator().manual_seed(0), x_T=x_T)
    b, _ = ddpm.sample(lambda x, j: net(x, taus[j]), (300, 2), torch.Generator().manual_seed(0), x_T=x_T)
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_bad_arguments_are_refused():
    scheduler = DDPMScheduler.from_name("linear", 50)
    with pytest.raises(ValueError, match="eta"):
        DDIMSampler(scheduler, None, 1.5)
    with pytest.raises(ValueError, match="taus"):
        DDIMSampler(scheduler, torch.tensor([3, 2]))
    with pytest.raises(ValueError, match="taus"):
        DDIMSampler(scheduler, torch.tensor([0, 50]))
    with pytest.raises(ValueError):
        even_steps(50, 51)
    assert even_steps(50, 50).tolist() == list(range(50))
    assert even_steps(1000, 10)[[0, -1]].tolist() == [0, 999]


def _tiny(**kw):
    return diffusion.Config.make("quick", **{"n_train": 400, "epochs": 8, "n_eval": 200, "n_samples": 200, **kw})


def test_lab_ddim_reuses_the_training_of_ddpm():
    ddpm = diffusion.run(_tiny(sample_steps=20), figures=False)
    ddim = diffusion.run(_tiny(sampler="ddim", sample_steps=20), figures=False)
    assert ddim.metrics["train_seconds"] == ddpm.metrics["train_seconds"]  # one training, not two
    assert ddim.curves["loss"].y.tolist() == ddpm.curves["loss"].y.tolist()
    assert ddim.metrics["sample_steps"] == 20 and ddim.metrics["energy_distance"] is not None
    assert not torch.equal(ddim.artifacts["samples"], ddpm.artifacts["samples"])  # another sampler
    posterior = diffusion.run(_tiny(sampler="ddim", eta=1.0, sample_steps=20), figures=False)  # the recipe's β̃
    torch.testing.assert_close(posterior.artifacts["samples"], ddpm.artifacts["samples"], rtol=1e-4, atol=1e-4)
    noisy = diffusion.run(_tiny(sampler="ddim", eta=1.0), figures=False)  # all T steps
    assert noisy.metrics["train_seconds"] == ddpm.metrics["train_seconds"] and "sample_steps" not in noisy.metrics
    for config in (_tiny(sampler="ddim", eta=0.3), _tiny(sampler="ddim", sample_steps=5)):
        assert diffusion.training_key(config, diffusion.settings(config)) == diffusion.training_key(
            _tiny(), diffusion.settings(_tiny()))
    assert set(diffusion.SAMPLER_FIELDS).isdisjoint(diffusion.settings(_tiny()))


def test_lab_ddim_on_digits_samples_and_draws():
    common = {"data": "digits", "n_train": 100, "digit_epochs": 1, "steps": 20, "digit_samples": 4,
              "judge_epochs": 0.05}
    a = diffusion.run(_tiny(**common), figures=False)
    b = diffusion.run(_tiny(**common, sampler="ddim", sample_steps=5))
    assert b.metrics["train_seconds"] == a.metrics["train_seconds"] and b.metrics["sample_steps"] == 5
    samples = b.artifacts["samples"]
    assert samples.shape == (4, 1, 28, 28) and bool(((samples >= 0) & (samples <= 1)).all())
    assert {"schedule", "reverse"} <= set(b.figures)
    config = _tiny(**common, sampler="ddim")
    assert diffusion.training_key(config, diffusion.settings(config)) == diffusion.training_key(
        _tiny(**common), diffusion.settings(_tiny(**common)))


@pytest.mark.parametrize("overrides, key, allowed", [
    ({"eta": 2}, "eta", "1"),
    ({"eta": -0.1}, "eta", "0"),
    ({"sampler": "foo"}, "sampler", "ddim"),
    ({"eta": 0.5}, "eta", "sampler=ddim"),  # η belongs to DDIM; DDPM has the key variance
    ({"sampler": "ddim", "variance": "analytic"}, "variance", "eta"),
])
def test_bad_sampler_keys_are_config_errors(overrides, key, allowed):
    with pytest.raises(ConfigError) as err:
        diffusion.Config.make("quick", **overrides)
    assert err.value.key == key and allowed in str(err.value)


def test_the_schedule_figure_names_the_ddim_step():
    ddim = diffusion.run(_tiny(sampler="ddim", sample_steps=20))
    def texts(fig) -> str:
        from matplotlib.text import Text

        return " ".join(x.get_text() for x in fig.findobj(Text))

    assert "DDIM, η = 0" in texts(ddim.figures["schedule"])
    assert "DDIM" not in texts(diffusion.run(_tiny(sample_steps=20)).figures["schedule"])
