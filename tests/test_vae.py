"""The VAE: the ELBO's terms, a tiny training, the lab at quick size."""

import math

import numpy as np
import pytest
import torch

from dlsm import i18n
from dlsm.i18n import t
from dlsm.labs import vae
from dlsm.models.vae import VAE
from dlsm.outcome import unit_text


def test_elbo_terms():
    g = torch.Generator().manual_seed(0)
    model = VAE(latent_dim=3, hidden=16, generator=g)
    x = torch.rand(5, 1, 28, 28, generator=g)
    elbo, rec, kl = model.elbo(x, torch.Generator().manual_seed(1))
    assert elbo.shape == (5,) and bool((kl >= 0).all()) and bool((rec <= 0).all())
    assert torch.allclose(elbo, rec - kl)
    mu, logvar = model.encode(x)
    expected_kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
    assert torch.allclose(kl, expected_kl)
    a = model.sample(4, torch.Generator().manual_seed(2))
    assert a.shape == (4, 1, 28, 28) and torch.equal(a, model.sample(4, torch.Generator().manual_seed(2)))


@pytest.mark.parametrize("arch, dim", [("mlp", 2), ("conv", 16)])
def test_vae_lab_quick(arch, dim):
    before = torch.get_rng_state()
    r = vae.run(vae.Config.make("quick", n_train=300, judge_epochs=0.1, arch=arch, latent_dim=dim))
    assert torch.equal(torch.get_rng_state(), before)
    m = r.metrics
    assert m["epochs"] == 2 and len(r.tables["elbo"].rows) == 2
    assert m["test_elbo"] > m["first_test_elbo"] - 1.0  # the test ELBO is reported per epoch and does not fall
    assert np.isfinite(m["test_elbo"]) and not m["diverged"]
    for key in ("confident_share", "class_entropy", "frechet"):
        assert m[key] is not None
    assert {"elbo", "reconstructions", "samples"} <= set(r.figures)
    assert ("latent" in r.figures) == (dim == 2) and m["latent_dim"] == dim
    assert r.artifacts["samples"].shape == (16, 1, 28, 28)
    assert 0 <= m["class_entropy"] <= math.log2(10) + 1e-12  # bits: at most log2 of the ten classes
    assert t("vae.note.elbo_why") in r.explanations
    assert (t("vae.note.latent_map") in r.explanations) == (dim == 2)


def test_vae_without_quality_reports_none():
    r = vae.run(vae.Config.make("quick", n_train=100, epochs=1, quality=False))
    assert r.metrics["confident_share"] is None and t("vae.note.no_quality") in r.notes
    assert "judge_accuracy" not in r.metrics and "quality" not in r.tables


def test_vae_japanese_run_has_no_english_prose():
    from japanese_text import english_in_result

    with i18n.language("ja"):
        r = vae.run(vae.Config.make("quick", n_train=100, epochs=1, n_samples=8, judge_epochs=0.05))
        assert english_in_result(r) == {}


def test_vae_metric_units():
    assert vae.LAB.metric_meaning("class_entropy")[1] == unit_text("bits")
    assert vae.LAB.headline == ("test_elbo", "confident_share", "class_entropy", "frechet")
    for spec in vae.Outcome.metric_specs():
        assert vae.LAB.metric_meaning(spec.name)[0], spec.name
    assert "learning rate" in vae.Config.spec("lr").help


def test_bad_n_test():
    from dlsm.errors import ConfigError

    with pytest.raises(ConfigError):
        vae.Config.make("quick", n_test=100, n_reference=100)
