"""The VAE's learned prior (ex-post density estimation, Ghosh et al. 2020) and the lab's prior key."""

import numpy as np
import pytest
import torch

from dlsm.errors import ConfigError
from dlsm.labs import vae
from dlsm.labs._digit_quality import digit_quality, judge_images, train_judge
from dlsm.models.vae import ConvVAE, GaussianMixturePrior
from dlsm.problems.images import load_embedded_mnist
from dlsm.seeds import generator as stream

MEANS = torch.tensor([[-4.0, 0.0, 1.0], [3.0, 2.0, -1.0]], dtype=torch.float64)  # (2, 3): the known components
WEIGHTS = (0.3, 0.7)


def _two_component_codes(n: int, seed: int) -> torch.Tensor:
    """n codes from 0.3 N(MEANS[0], 0.5² I) + 0.7 N(MEANS[1], diag(1, 0.25, 0.5²)), drawn here, not by the prior."""
    g = torch.Generator().manual_seed(seed)
    k = (torch.rand(n, generator=g, dtype=torch.float64) >= WEIGHTS[0]).long()  # (n,) component of each code
    scale = torch.tensor([[0.5, 0.5, 0.5], [1.0, 0.5, 0.5]], dtype=torch.float64)
    return MEANS[k] + scale[k] * torch.randn((n, 3), generator=g, dtype=torch.float64)


def test_gmm_prior_is_reproducible_and_leaves_global_rng_alone():
    codes = _two_component_codes(600, seed=1)
    torch_before, np_before = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002 (the global state)
    a = GaussianMixturePrior(3, random_state=5).fit(codes)
    b = GaussianMixturePrior(3, random_state=5).fit(codes)
    za = a.sample(50, torch.Generator().manual_seed(9))
    zb = b.sample(50, torch.Generator().manual_seed(9))
    assert torch.equal(torch.get_rng_state(), torch_before)
    np_after = np.random.get_state()  # noqa: NPY002
    assert np_after[0] == np_before[0] and np.array_equal(np_after[1], np_before[1]) and np_after[2:] == np_before[2:]
    assert torch.equal(a.means_, b.means_) and torch.equal(za, zb) and za.shape == (50, 3)
    assert not torch.equal(za, a.sample(50, torch.Generator().manual_seed(10)))


def test_gmm_prior_samples_have_the_known_component_means():
    prior = GaussianMixturePrior(2, random_state=0).fit(_two_component_codes(4000, seed=2))
    z = prior.sample(4000, torch.Generator().manual_seed(3)).double()  # (4000, 3)
    nearest = torch.cdist(z, MEANS).argmin(1)  # the known component each sample lies closest to
    for j in range(2):
        assert float((nearest == j).double().mean()) == pytest.approx(WEIGHTS[j], abs=0.03)
        # standard error of a mean of ≥ 1,000 draws with σ ≤ 1: ≤ 0.032; 0.12 is about four of them
        assert torch.allclose(z[nearest == j].mean(0), MEANS[j], atol=0.12)


def _quick(**kw) -> vae.Config:
    return vae.Config.make("quick", n_train=300, judge_epochs=0.1, **kw)


def test_lab_prior_normal_and_gmm():
    normal, gmm = vae.run(_quick(prior="normal")), vae.run(_quick(prior="gmm"))
    n, g = normal.metrics, gmm.metrics
    # the training and the N(0, I) samples do not depend on the chosen prior
    for key in ("test_elbo", "test_kl", "train_elbo", "confident_floor", "frechet_noise", "judge_accuracy",
                "confident_share_normal", "frechet_normal", "confident_share_gmm", "frechet_gmm"):
        assert n[key] == g[key], key
    for key in ("confident_share", "class_entropy", "frechet"):
        assert n[key] == n[f"{key}_normal"] and g[key] == g[f"{key}_gmm"]
    assert {"samples", "samples_gmm"} <= set(normal.figures) and {"samples", "samples_normal"} <= set(gmm.figures)
    assert torch.equal(normal.artifacts["samples"], gmm.artifacts["samples_normal"])
    assert len(gmm.tables["quality"].rows) == 4  # both priors, the floor, the ceiling
    config = _quick(prior="gmm")
    assert gmm.artifacts["gmm_prior"]["means"].shape == (config.prior_components, config.latent_dim)

    # prior=normal is the path without a learned prior: decoded z ~ N(0, I) from the "fourth" stream, judged
    # against the first n_reference test digits (rebuilt here from the trained weights)
    config = _quick(prior="normal")
    model = ConvVAE(config.latent_dim, config.channels)
    model.load_state_dict(normal.artifacts["model"])
    model.eval()
    expected = model.sample(config.n_samples, stream(config.seed, "fourth"))
    assert torch.equal(normal.artifacts["samples"], expected)
    train, test = load_embedded_mnist(config.n_train, config.n_test)
    judge = train_judge(train, config.judge_epochs, config.seed, torch.device("cpu"))
    verdict = digit_quality(judge, expected, judge_images(judge, test.X[:config.n_reference])[1])
    assert n["confident_share"] == verdict["confident_share"] and n["frechet"] == pytest.approx(verdict["frechet"])


@pytest.mark.parametrize("overrides, key", [({"prior_components": 0}, "prior_components"),
                                            ({"prior_components": 301}, "prior_components"),
                                            ({"prior": "uniform"}, "prior"),
                                            ({"beta": -1.0}, "beta")])
def test_bad_prior_settings_are_refused_naming_the_key(overrides, key):
    with pytest.raises(ConfigError) as err:
        _quick(**overrides)
    assert err.value.key == key and key in str(err.value)


def test_the_fit_refusals_read_in_japanese():
    """check()'s two refusals come from the glossary: Japanese under language("ja"), with the numbers."""
    from dlsm.i18n import language

    with language("ja"), pytest.raises(ConfigError) as err:
        _quick(prior_components=301)
    assert err.value.key == "prior_components" and "成分の混合分布" in str(err.value) and "301" in str(err.value)
    with language("ja"), pytest.raises(ConfigError) as err:
        _quick(n_test=10)
    assert err.value.key == "n_test" and "テスト数字" in str(err.value)
