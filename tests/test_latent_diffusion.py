"""Latent diffusion of digits with classifier-free guidance (issue 22): the pieces against independent oracles,
and the lab's keys, refusals, artifacts and figures at a tiny size."""

from __future__ import annotations

import math

import pytest
import torch
from PIL import Image

from dlsm.algorithms.guidance import drop_labels, guided
from dlsm.cli import main
from dlsm.errors import ConfigError
from dlsm.labs import diffusion
from dlsm.models.denoisers import LatentDenoiser, SmallUNet
from dlsm.models.vae import ConvVAE
from dlsm.plotting.generative import write_gif


def _linear_model():
    """ε̂(x, t, c) = x · (c + 1) + t: a model whose guided mix has a closed form."""
    return lambda x, t, c: x * (c + 1).to(x.dtype)[:, None] + t.to(x.dtype)[:, None]


@pytest.mark.parametrize("scale", [0.0, 1.0, 2.5])
def test_guidance_is_the_linear_mix_of_conditional_and_unconditional(scale):
    model, null = _linear_model(), 10
    x, t = torch.randn(5, 3, generator=torch.Generator().manual_seed(0)), torch.arange(5)
    c = torch.tensor([0, 3, 7, 9, 1])
    e_c, e_null = model(x, t, c), model(x, t, torch.full_like(c, null))
    assert torch.allclose(guided(model, c, scale, null)(x, t), e_null + scale * (e_c - e_null))


def test_dropped_labels_are_null_at_the_asked_rate():
    c = torch.zeros(20_000, dtype=torch.long)
    out = drop_labels(c, 0.15, 10, torch.Generator().manual_seed(1))
    share = float((out == 10).double().mean())
    assert set(out.unique().tolist()) == {0, 10}
    assert abs(share - 0.15) < 4 * math.sqrt(0.15 * 0.85 / len(c))  # four binomial standard deviations
    assert torch.equal(drop_labels(c, 0.0, 10, torch.Generator()), c)


def test_conditional_networks_depend_on_the_class_and_keep_shapes():
    g = torch.Generator().manual_seed(0)
    net = LatentDenoiser(16, 10, 32, generator=g)
    z, t = torch.randn(4, 16, generator=g), torch.tensor([0, 10, 500, 999])
    a, b = net(z, t, torch.zeros(4, dtype=torch.long)), net(z, t, torch.full((4,), 10))
    assert a.shape == z.shape and not torch.allclose(a, b)
    unet = SmallUNet(8, n_classes=10, generator=g)
    x = torch.randn(2, 1, 28, 28, generator=g)
    assert unet(x, t[:2], torch.tensor([1, 2])).shape == x.shape
    assert "label.weight" not in SmallUNet(8, generator=g).state_dict()  # the unconditional network is unchanged


def test_conv_vae_kl_term_equals_torch_distributions():
    g = torch.Generator().manual_seed(0)
    vae = ConvVAE(6, 8, generator=g)
    x = torch.rand(3, 1, 28, 28, generator=g)
    _, rec, kl = vae.elbo(x, torch.Generator().manual_seed(1))
    mu, logvar = vae.encode(x)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    expected = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(kl, expected, atol=1e-5)
    assert vae.decode(torch.zeros(2, 6)).shape == (2, 1, 28, 28) and bool((rec < 0).all())


TINY = {"data": "digits", "n_train": 200, "digit_epochs": 2, "ae_epochs": 1, "digit_samples": 20, "steps": 20,
        "judge_epochs": 0.1, "n_reference": 50}


@pytest.fixture(scope="module")
def sevens():
    return diffusion.run(diffusion.Config.make("quick", **TINY, prompt=7, guidance=3.0))


def test_a_prompt_asks_every_sample_for_that_digit_and_the_run_keeps_them(sevens):
    classes = sevens.artifacts["classes"]
    assert classes.shape == (20,) and bool((classes == 7).all())
    assert sevens.artifacts["samples"].shape == (20, 1, 28, 28)
    assert {"autoencoder", "code_mean", "code_std"} <= set(sevens.artifacts)
    m = sevens.metrics
    assert 0 <= m["read_as_asked"] <= 1 and m["guidance"] == 3.0
    scales = [row[0] for row in sevens.tables["guidance"].rows]
    assert scales == sorted({*diffusion.GUIDANCE_GRID, 3.0})
    assert m["class_entropy_unconditional"] == sevens.tables["guidance"].rows[0][3]  # the s = 0 row


def test_the_figures_include_guidance_rows_and_an_animation(sevens, tmp_path):
    figs = sevens.figures
    assert {"samples", "guidance", "animation", "forward", "reverse"} <= set(figs)
    frames = figs["animation"].gif_frames
    steps = [s for s, *_ in frames]
    assert steps[0] == 20 and steps[-1] == 0 and steps == sorted(steps, reverse=True)
    path = tmp_path / "reverse.gif"
    write_gif(figs["animation"], path)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == len(frames)


def test_runs_that_differ_only_in_prompt_or_guidance_share_one_training(sevens):
    other = diffusion.run(diffusion.Config.make("quick", **TINY, guidance=1.0))
    assert other.metrics["train_seconds"] == sevens.metrics["train_seconds"]
    assert other.metrics["ae_seconds"] == sevens.metrics["ae_seconds"]
    classes = other.artifacts["classes"]
    assert torch.equal(classes, torch.arange(20) % 10)  # no prompt: the ten digits in turn


def test_a_prompt_that_is_not_a_digit_is_refused_with_the_allowed_values(capsys):
    with pytest.raises(ConfigError) as err:
        diffusion.Config.make("quick", data="digits", prompt=12)
    assert "0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in str(err.value)
    assert main(["run", "diffusion", "data=digits", "prompt=cat", "--quick"]) == 2
    assert "0, 1, 2" in capsys.readouterr().err


@pytest.mark.parametrize("overrides, key", [
    ({"data": "moons", "prompt": 3}, "prompt"),
    ({"data": "digits", "cond_drop": 0.0, "guidance": 2.0}, "cond_drop"),
    ({"data": "digits", "space": "pixel", "network": "latent"}, "network"),
    ({"data": "digits", "network": "unet"}, "network"),
])
def test_inconsistent_settings_are_refused_with_the_key(overrides, key):
    with pytest.raises(ConfigError) as err:
        diffusion.Config.make("quick", **overrides)
    assert err.value.key == key


def test_pixel_space_is_class_conditional_too():
    r = diffusion.run(diffusion.Config.make("quick", **{**TINY, "digit_samples": 4}, space="pixel", prompt=2))
    assert r.artifacts["samples"].shape == (4, 1, 28, 28) and bool((r.artifacts["classes"] == 2).all())
    assert "guidance" not in r.tables and r.metrics.get("recon_frechet") is None


def test_an_empty_guidance_grid_skips_the_table_and_keeps_the_samples(sevens):
    bare = diffusion.run(diffusion.Config.make("quick", **TINY, prompt=7, guidance=3.0, guidance_grid=()))
    assert "guidance" not in bare.tables and bare.metrics.get("class_entropy_unconditional") is None
    assert torch.equal(bare.artifacts["samples"], sevens.artifacts["samples"])  # the grid is drawn after them
    assert bare.metrics["read_as_asked"] == sevens.metrics["read_as_asked"]


def test_a_run_folder_keeps_the_animation_and_the_html_report_embeds_it(tmp_path):
    from dlsm import runner
    from dlsm.labs import get_lab
    from dlsm.report import build_report

    lab = get_lab("diffusion")
    outcome = runner.run_one(lab, lab.config.make("quick", **{**TINY, "digit_samples": 4}, guidance_grid=()),
                             tmp_path, "quick")
    gif = outcome.path / "figures" / "animation.gif"
    with Image.open(gif) as img:
        assert img.n_frames > 1
    html, _ = build_report([outcome.path], tmp_path / "report.html")
    assert "data:image/gif;base64," in html.read_text()  # the report shows the animation, not its last frame
