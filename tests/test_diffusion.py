"""DDPM: the schedules, the closed-form forward process, the reverse step against an oracle, the lab."""

import math
import re

import numpy as np
import pytest
import torch
from matplotlib.text import Text

from dlsm import i18n
from dlsm.algorithms.ddpm import DDPMScheduler, draw_steps, make_betas, noise_prediction_loss
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import diffusion
from dlsm.models.denoisers import CourseDenoiser, SinusoidalDenoiser, SmallUNet
from dlsm.outcome import unit_text
from dlsm.problems.toy2d import DATASETS
from dlsm.seeds import generator
from dlsm.training import Trainer, make_optimizer


def test_schedules():
    course = DDPMScheduler.from_name("sigmoid", 100, 1e-5, 5e-3)
    assert course.alpha_bar_last == pytest.approx(0.78, abs=0.005)  # the course's schedule never reaches noise
    assert DDPMScheduler.from_name("cosine", 100).alpha_bar_last < 1e-5
    lin = make_betas("linear", 10, 1e-4, 0.02)
    assert float(lin[0]) == pytest.approx(1e-4) and float(lin[-1]) == pytest.approx(0.02)
    quad = make_betas("quadratic", 10, 1e-4, 0.02)
    assert float(quad[0]) == pytest.approx(1e-4) and float(quad[-1]) == pytest.approx(0.02)
    assert bool((quad <= lin + 1e-12).all())  # linear in √β lies below linear in β
    for name in ("linear", "quadratic", "sigmoid", "cosine"):
        s = DDPMScheduler.from_name(name, 50)
        assert torch.allclose(s.alpha_bars, torch.cumprod(1 - s.betas, 0))
    with pytest.raises(ValueError):
        make_betas("exp", 10)


@pytest.mark.parametrize("t", [0, 37, 99])
def test_forward_matches_closed_form(t):
    """x_t | x_0 ~ N(√ᾱ_t x_0, (1 - ᾱ_t) I): sample mean and variance over many draws."""
    s = DDPMScheduler.from_name("linear", 100, 1e-4, 0.05)
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([[1.5, -0.7]], dtype=torch.float64).expand(200_000, 2)
    noise = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    x_t = s.add_noise(x0, noise, torch.full((len(x0),), t))
    abar = float(s.alpha_bars[t])
    assert torch.allclose(x_t.mean(0), math.sqrt(abar) * x0[0], atol=4 * math.sqrt((1 - abar) / len(x0)))
    assert torch.allclose(x_t.var(0), torch.full((2,), 1 - abar, dtype=torch.float64), rtol=0.02, atol=1e-12)


@pytest.mark.parametrize("variance", ["beta", "posterior"])
def test_reverse_with_oracle_noise_recovers_a_point(variance):
    """For data that is one point c, ε(x_t, t) = (x_t - √ᾱ_t c)/√(1 - ᾱ_t) exactly; sampling then ends at c."""
    s = DDPMScheduler.from_name("cosine", 50, variance=variance)
    c = torch.tensor([0.3, -1.2], dtype=torch.float64)

    def oracle(x, t):
        abar = s.alpha_bars[t].unsqueeze(1)
        return (x - abar.sqrt() * c) / (1 - abar).sqrt()

    x, kept = s.sample(oracle, (64, 2), torch.Generator().manual_seed(1), keep=(50, 0))
    x = x.double() if x.dtype != torch.float64 else x
    assert set(kept) == {50, 0}
    assert torch.allclose(x.double(), c.expand(64, 2), atol=1e-4)


@pytest.mark.parametrize("v0", [0.3, 2.0])
def test_analytic_variance_is_the_exact_reverse_variance_for_gaussian_data(v0):
    """x_0 ~ N(0, v0 I): x_{t-1}, x_t are jointly Gaussian, so Var(x_{t-1} | x_t) = v_{t-1} - α_t v_{t-1}² / v_t with
    v_t = ᾱ_t v0 + 1 - ᾱ_t (Gaussian conditioning, Cov(x_{t-1}, x_t) = √α_t v_{t-1}). Fitted with the exact
    ε*(x_t) = √(1 - ᾱ_t) x_t / v_t, Analytic-DPM's σ_t*² must equal it up to Monte-Carlo error."""
    s = DDPMScheduler.from_name("linear", 40, 1e-4, 0.2, variance="analytic")
    with pytest.raises(RuntimeError, match="fit_analytic_variance"):
        s.sigma(5)
    ab = s.alpha_bars
    ab_prev = torch.cat([torch.ones(1, dtype=ab.dtype), ab[:-1]])
    v, v_prev = ab * v0 + 1 - ab, ab_prev * v0 + 1 - ab_prev
    exact = v_prev - s.alphas * v_prev**2 / v

    def oracle(x, t):
        return ((1 - ab[t]).sqrt() / v[t]).unsqueeze(1).to(x.dtype) * x

    x0 = math.sqrt(v0) * torch.randn(200_000, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    fitted = s.fit_analytic_variance(oracle, x0, torch.Generator().manual_seed(1), batch=50_000)
    assert torch.allclose(fitted[1:], exact[1:], rtol=0.02)
    assert s.sigma(7) == pytest.approx(math.sqrt(float(exact[7])), rel=0.01)
    assert bool((fitted >= s.posterior_variance - 1e-15).all())  # never below β̃_t


def test_analytic_variance_limits():
    """Γ_t = 1 (x_0 known from x_t: one data point) gives β̃_t; Γ_t = 1 - ᾱ_t (x_0 ~ N(0, I)) gives β_t."""
    s = DDPMScheduler.from_name("cosine", 30, variance="analytic")
    assert torch.allclose(s.analytic_from_gamma(torch.ones(30)), s.posterior_variance)
    assert torch.allclose(s.analytic_from_gamma(1 - s.alpha_bars)[1:], s.betas[1:], rtol=1e-9)


def test_respaced_sampler_keeps_the_noise_levels_of_its_steps():
    s = DDPMScheduler.from_name("linear", 200, 1e-4, 0.1, variance="posterior")
    full, taus = diffusion.respace(s, 200)
    assert torch.equal(taus, torch.arange(200)) and torch.allclose(full.betas, s.betas)
    sampler, taus = diffusion.respace(s, 12)
    assert len(taus) == 12 and int(taus[0]) == 0 and int(taus[-1]) == 199
    assert torch.allclose(sampler.alpha_bars, s.alpha_bars[taus])  # the same ᾱ at the visited steps
    c = torch.tensor([0.3, -1.2], dtype=torch.float64)

    def oracle(x, t):  # the exact ε of one-point data at the trained step t
        abar = s.alpha_bars[t].unsqueeze(1)
        return (x - abar.sqrt() * c) / (1 - abar).sqrt()

    asked = []
    net = diffusion.at_steps(lambda x, t: asked.append(int(t[0])) or oracle(x, t), taus)
    x, _ = sampler.sample(net, (64, 2), torch.Generator().manual_seed(1))
    assert asked == taus.flip(0).tolist()  # the network is asked at the trained steps, last first
    assert torch.allclose(x.double(), c.expand(64, 2), atol=1e-4)


def test_step_at_zero_adds_no_noise():
    s = DDPMScheduler.from_name("linear", 10)
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    a = s.step(torch.zeros_like(x), 0, x, torch.Generator().manual_seed(1))
    b = s.step(torch.zeros_like(x), 0, x, torch.Generator().manual_seed(2))
    assert torch.equal(a, b)


def test_antithetic_steps():
    t = draw_steps(10, 100, torch.Generator().manual_seed(0))
    assert torch.equal(t[5:], 99 - t[:5])


def test_networks_shapes():
    g = torch.Generator().manual_seed(0)
    t = torch.tensor([0, 5, 9])
    assert CourseDenoiser(10, 16, generator=g)(torch.zeros(3, 2), t).shape == (3, 2)
    assert SinusoidalDenoiser(16, generator=g)(torch.zeros(3, 2), t).shape == (3, 2)
    assert SmallUNet(8, generator=g)(torch.zeros(3, 1, 28, 28), t).shape == (3, 1, 28, 28)


def test_ema_model_differs_and_is_sampled():
    """Train a little with EMA: the EMA model differs from the raw one, and sampling uses it."""
    g = torch.Generator().manual_seed(0)
    s = DDPMScheduler.from_name("cosine", 20)
    X = torch.randn(256, 2, generator=g)
    model = SinusoidalDenoiser(16, generator=g)
    trainer = Trainer(model, lambda m, _: noise_prediction_loss(m, s, X, g), lambda k: k,
                      make_optimizer("adam", model.parameters(), 1e-2), 30, ema_decay=0.9, clip_grad_norm=1.0)
    trainer.run()
    assert trainer.eval_model is not model
    assert any(not torch.equal(a, b) for a, b in zip(model.parameters(), trainer.eval_model.parameters(),
                                                       strict=True))
    raw, _ = s.sample(model, (8, 2), torch.Generator().manual_seed(3))
    ema, _ = s.sample(trainer.eval_model, (8, 2), torch.Generator().manual_seed(3))
    assert not torch.allclose(raw, ema)


def _tiny(**kw):
    return diffusion.Config.make("quick", **{"n_train": 400, "epochs": 8, "n_eval": 200, "n_samples": 200, **kw})


def test_lab_trains_samples_deterministically_with_the_ema_model():
    before = torch.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    config = _tiny()
    a = diffusion.run(config)
    assert torch.equal(torch.get_rng_state(), before[0])
    assert np.array_equal(np.random.get_state()[1], before[1])  # noqa: NPY002
    m = a.metrics
    assert m["train_loss"] < m["first_loss"]  # a tiny training lowers the loss
    assert m["ema_differs"] and not m["diverged"]
    for key in ("energy_distance", "energy_floor", "energy_noise", "precision", "recall", "off_share"):
        assert m[key] is not None
    assert m["energy_noise"] > m["energy_floor"]
    b = diffusion.run(config)
    assert torch.equal(a.artifacts["samples"], b.artifacts["samples"])  # fixed seed: same samples
    # the saved model (the EMA model) is the one that produced the samples
    s = diffusion.settings(config)
    net = SinusoidalDenoiser(s["width"])
    net.load_state_dict(a.artifacts["model"])
    sched = DDPMScheduler.from_name(s["schedule"], s["steps"], s["beta_min"], s["beta_max"], s["variance"])
    x, _ = sched.sample(net.eval(), (config.n_samples, 2), generator(config.seed, "second"))
    assert torch.allclose(x, a.artifacts["samples"], atol=1e-5)
    assert {"forward", "reverse", "samples", "schedule", "loss"} <= set(a.figures)
    assert a.outcome.energy_distance == m["energy_distance"]  # the typed outcome reads as attributes
    c = diffusion.LAB.run(config, figures=False)
    assert not c.figures and c.metrics.keys() == m.keys()


def test_a_run_that_only_samples_differently_reuses_the_training():
    """Same training keys, another sampler: the network is not trained again, and the numbers are those of a fresh
    run (the main generator continues from where the training left it)."""
    first = diffusion.run(_tiny(), figures=False)
    other = _tiny(variance="beta", sample_steps=20, n_samples=100)
    reused = diffusion.run(other, figures=False)
    assert reused.metrics["train_seconds"] == first.metrics["train_seconds"]  # the training of the first run
    diffusion._TRAINED.clear()
    fresh = diffusion.run(other, figures=False)
    assert torch.equal(reused.artifacts["samples"], fresh.artifacts["samples"])
    assert {k: v for k, v in reused.metrics.items() if k != "train_seconds"} == {
        k: v for k, v in fresh.metrics.items() if k != "train_seconds"}
    assert fresh.metrics["sample_steps"] == 20 and "sample_steps" not in first.metrics
    every = diffusion.run(_tiny(sample_steps=diffusion.settings(_tiny())["steps"]), figures=False)  # K = T: T steps
    assert torch.equal(every.artifacts["samples"], first.artifacts["samples"]) and "sample_steps" not in every.metrics
    assert diffusion.training_key(other, diffusion.settings(other)) != diffusion.training_key(
        _tiny(epochs=9), diffusion.settings(_tiny(epochs=9)))


def _font_sizes(fig) -> list[float]:
    fig.canvas.draw()
    return [text.get_fontsize() for text in fig.findobj(Text) if text.get_visible() and text.get_text().strip()]


def test_figure_text_is_at_least_8_pt_in_the_report():
    """Every figure fits the PDF report's box (180 × 110 mm) at its own size or larger, so that no text of the
    forward and reverse panels (and the others) is printed below 8 pt."""
    for config in (_tiny(epochs=1), _tiny(data="digits", n_train=100, digit_epochs=1, steps=20, digit_samples=4,
                                          judge_epochs=0.05)):
        r = diffusion.run(config)
        for name, fig in r.figures.items():
            width, height = fig.get_size_inches()
            scale = min(180 / 25.4 / width, 110 / 25.4 / height)  # how the report prints it
            assert scale >= 0.97, f"{config.data} {name}: {width:.1f} × {height:.1f} in is shrunk to {scale:.2f}"
            assert min(_font_sizes(fig)) * scale >= 7.9, f"{config.data} {name}: text below 8 pt"
        if config.data != "digits":  # the 2-D processes: one row of five panels, legible at 6.3 in wide too
            for name in ("forward", "reverse"):
                fig = r.figures[name]
                assert len(fig.axes) == 5
                assert min(_font_sizes(fig)) * 6.3 / fig.get_size_inches()[0] >= 8, name


def test_a_start_from_the_data_is_a_diagnostic_of_the_schedule():
    """start=data: x_T drawn from q(x_T | x_0) of fresh points, with the training of the start=noise run; the note
    says so, and the explanation that blames the N(0, I) start is left out."""
    noise = diffusion.run(_tiny(recipe="course", epochs=2), figures=False)
    data = diffusion.run(_tiny(recipe="course", epochs=2, start="data"))
    assert data.metrics["train_seconds"] == noise.metrics["train_seconds"]  # the same training
    kept = data.outcome.data["drawn"].kept
    assert kept[100].std() < 0.9  # x_T = √0.78 x_0 + √0.22 ε, narrower than N(0, I)
    assert t("diffusion.note.start_data") in data.notes and t("diffusion.note.no_noise_why") not in data.explanations
    assert t("diffusion.note.no_noise_why") in noise.explanations
    with pytest.raises(ConfigError) as err:
        diffusion.Config.make("quick", data="digits", start="data")
    assert err.value.key == "start"


def test_course_recipe_explains_its_schedule():
    r = diffusion.run(_tiny(recipe="course", epochs=1))
    assert r.metrics["alpha_bar_T"] == pytest.approx(0.78, abs=0.005)
    m = r.metrics
    assert t("diffusion.note.no_noise", abar=m["alpha_bar_T"], signal=m["terminal_signal"]) in r.notes
    assert t("diffusion.note.no_noise_why") in r.explanations  # the reason, apart from the measurement
    assert diffusion.settings(diffusion.Config(recipe="course"))["network"] == "course"


def test_japanese_run_has_no_english_prose():
    from japanese_text import english_in_result

    with i18n.language("ja"):
        r = diffusion.run(_tiny(recipe="course", epochs=1, n_train=100, n_samples=50, n_eval=50))
        assert english_in_result(r) == {}
        assert any("x_T にはまだ" in n for n in r.notes)  # what was measured ...
        assert any("前向き過程" in n for n in r.explanations)  # ... apart from why (shown when explaining)


def test_metric_units_and_meanings():
    """class_entropy is an entropy in bits (log2 of the class histogram), and every metric has a meaning."""
    assert diffusion.LAB.metric_meaning("class_entropy")[1] == unit_text("bits")
    for spec in diffusion.Outcome.metric_specs():
        assert diffusion.LAB.metric_meaning(spec.name)[0], spec.name
    assert diffusion.LAB.headline[0] == "energy_distance"
    assert diffusion.LAB.description == t("diffusion.description")
    assert all(name in diffusion.LAB.description for name in DATASETS)


def test_english_help_is_english():
    for spec in diffusion.Config.specs():
        assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", spec.help), (spec.name, spec.help)
    assert "learning rate" in diffusion.Config.spec("lr").help


@pytest.mark.parametrize("data", ["swiss_roll", "checkerboard", "gaussians"])
def test_other_data_sets_run(data):
    r = diffusion.run(_tiny(data=data, epochs=1, n_train=100, n_samples=50, n_eval=50))
    assert r.metrics["off_share"] is not None


def test_lab_with_the_analytic_variance_samples():
    r = diffusion.run(_tiny(variance="analytic", epochs=1, n_train=100, n_samples=50, n_eval=50))
    assert bool(torch.isfinite(r.artifacts["samples"]).all()) and r.metrics["off_share"] is not None


@pytest.mark.parametrize("overrides,key", [
    ({"steps": 5}, "steps"),
    ({"data": "fashion"}, "data"),
    ({"data": "digits", "network": "course"}, "network"),
    ({"network": "unet"}, "network"),
    ({"schedule": "linear", "beta_min": 0.1, "beta_max": 0.01}, "beta_max"),
    ({"steps": 50, "sample_steps": 51}, "sample_steps"),
])
def test_bad_input_is_a_config_error(overrides, key):
    with pytest.raises(ConfigError) as err:
        diffusion.Config.make("quick", **overrides)
    assert err.value.key == key


def test_digits_quick_loss_decreases_and_samples_are_saved():
    r = diffusion.run(diffusion.Config.make("quick", data="digits", space="pixel", n_train=200, digit_epochs=3,
                                            steps=20, digit_samples=4, judge_epochs=0.05))
    m = r.metrics
    assert m["train_loss"] < m["first_loss"]
    assert r.artifacts["samples"].shape == (4, 1, 28, 28)
    for key in ("confident_share", "class_entropy", "frechet", "frechet_floor", "frechet_noise"):
        assert m[key] is not None
    for key in ("energy_distance", "precision", "recall", "off_share"):  # 2-D metrics: present, None
        assert m[key] is None
    assert "off_radius" not in m and "energy_floor" not in m
    assert 0 <= m["class_entropy"] <= math.log2(10) + 1e-12  # bits: at most log2 of the ten classes


def test_clipped_step_equals_plain_step_when_nothing_is_clipped():
    plain, clipped = DDPMScheduler.from_name("linear", 50, 1e-4, 0.2), DDPMScheduler.from_name("linear", 50, 1e-4, 0.2,
                                                                                                clip=1e6)
    g = torch.Generator().manual_seed(0)
    x, eps = torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g)
    for step in (0, 1, 25, 49):
        a = plain.step(eps, step, x, torch.Generator().manual_seed(step))
        b = clipped.step(eps, step, x, torch.Generator().manual_seed(step))
        assert torch.allclose(a, b, atol=1e-5)
    # an untrained network (ε̂ = 0) grows x by 1/√ᾱ_T without clipping, stays in range with it
    zero = lambda x, t: torch.zeros_like(x)  # noqa: E731
    big, _ = plain.sample(zero, (100, 2), torch.Generator().manual_seed(1))
    small, _ = DDPMScheduler.from_name("linear", 50, 1e-4, 0.2, clip=1.0).sample(zero, (100, 2),
                                                                                    torch.Generator().manual_seed(1))
    assert big.abs().max() > 10 and small.abs().max() <= 1.0 + 1e-6
