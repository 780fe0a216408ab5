"""Flow matching / rectified flow (issue 22, item 3): the loss and the Euler sampler against the closed-form velocity
of Gaussian data, and the diffusion lab's process=flow at a tiny size (runs, refusals, the default path unchanged)."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

from dlsm.algorithms.flow_matching import EulerSampler, flow_matching_loss, interpolate
from dlsm.errors import ConfigError
from dlsm.labs import diffusion

MU, SIGMA = torch.tensor([1.0, -2.0]), 0.5  # data x_0 ~ N(μ, σ² I)


def exact_velocity(x: torch.Tensor, t: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """v*(x, t) = E[ε − x_0 | x_t = x] for x_0 ~ N(μ, σ²I), x_t = (1 − t) x_0 + t ε (jointly Gaussian):
    E[v] = −μ, Cov(v, x_t) = t − (1 − t) σ², Var(x_t) = (1 − t)² σ² + t², so v* = −μ + Cov/Var · (x − (1 − t) μ).
    The network time is scale · t."""
    tt = (t / scale).double()[:, None]  # (batch, 1)
    var = (1 - tt) ** 2 * SIGMA**2 + tt**2
    cov = tt - (1 - tt) * SIGMA**2
    return (-MU + cov / var * (x.double() - (1 - tt) * MU)).to(x.dtype)


def exact_loss() -> float:
    """E‖v − v*‖² per entry = E_t Var(v | x_t) = E_t [1 + σ² − Cov²/Var], by quadrature over t ∈ [0, 1]."""
    tt = np.linspace(0, 1, 200_001)
    var = (1 - tt) ** 2 * SIGMA**2 + tt**2
    cond = 1 + SIGMA**2 - (tt - (1 - tt) * SIGMA**2) ** 2 / var
    return float(((cond[1:] + cond[:-1]) / 2 * np.diff(tt)).sum())  # the trapezoidal rule


def _data(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return MU + SIGMA * torch.randn((n, 2), generator=g)


def test_the_path_runs_from_the_data_to_the_noise():
    x0, eps = _data(5), torch.randn(5, 2)
    assert torch.equal(interpolate(x0, eps, torch.zeros(5)), x0)
    assert torch.equal(interpolate(x0, eps, torch.ones(5)), eps)
    half = interpolate(x0, eps, torch.full((5,), 0.25))
    assert torch.allclose(half, 0.75 * x0 + 0.25 * eps)


@pytest.mark.parametrize("scale", [1.0, 999.0])
def test_the_loss_of_the_exact_velocity_is_its_closed_form_and_below_a_perturbed_one(scale):
    x0 = _data(200_000)
    loss = float(flow_matching_loss(lambda x, s: exact_velocity(x, s, scale), x0, torch.Generator().manual_seed(1),
                                    time_scale=scale))
    assert loss == pytest.approx(exact_loss(), rel=0.02)
    for shift in (0.1, -0.1):  # any other field: the loss grows by E‖δ‖² (here δ² = 0.01)
        worse = float(flow_matching_loss(lambda x, s, d=shift: exact_velocity(x, s, scale) + d, x0,
                                         torch.Generator().manual_seed(1), time_scale=scale))
        assert worse - loss == pytest.approx(0.01, rel=0.1)


def test_the_error_of_the_exact_velocity_has_zero_mean():
    g = torch.Generator().manual_seed(2)
    x0 = _data(100_000)
    t = torch.rand(len(x0), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    err = (eps - x0) - exact_velocity(interpolate(x0, eps, t), t)  # (n, 2)
    assert torch.allclose(err.mean(0), torch.zeros(2), atol=4 * float(err.std()) / math.sqrt(len(x0)))


def test_euler_steps_of_the_exact_velocity_map_noise_to_the_data():
    n = 20_000
    x, kept = EulerSampler(400, time_scale=9.0).sample(lambda x, s: exact_velocity(x, s, 9.0), (n, 2),
                                                       torch.Generator().manual_seed(3), keep=(400, 200, 0))
    assert set(kept) == {400, 200, 0} and torch.equal(kept[0], x)
    assert float(kept[400].std()) == pytest.approx(1.0, abs=0.03)  # x_1 ~ N(0, I)
    se = SIGMA / math.sqrt(n)
    assert torch.allclose(x.mean(0), MU, atol=5 * se + 1e-3)
    assert torch.allclose(x.std(0), torch.full((2,), SIGMA), rtol=0.03)
    # x_{1/2} of the ODE has the marginal of x_t at t = 1/2: mean μ/2, variance (σ² + 1)/4
    assert torch.allclose(kept[200].mean(0), MU / 2, atol=0.03)
    assert torch.allclose(kept[200].var(0), torch.full((2,), (SIGMA**2 + 1) / 4), rtol=0.05)


def test_the_euler_sampler_is_deterministic_after_the_noise():
    net = lambda x, s: exact_velocity(x, s)  # noqa: E731
    a, _ = EulerSampler(10).sample(net, (50, 2), torch.Generator().manual_seed(4))
    b, _ = EulerSampler(10).sample(net, (50, 2), torch.Generator().manual_seed(5), x_T=torch.randn(
        (50, 2), generator=torch.Generator().manual_seed(4)))
    assert torch.equal(a, b)


SMALL_2D = {"n_train": 400, "epochs": 8, "n_eval": 200, "n_samples": 200}
TINY_DIGITS = {"data": "digits", "n_train": 200, "digit_epochs": 2, "ae_epochs": 1, "digit_samples": 20, "steps": 20,
               "judge_epochs": 0.1, "n_reference": 50}


def test_flow_on_moons_gives_finite_metrics_and_its_figures():
    r = diffusion.run(diffusion.Config.make("quick", **SMALL_2D, process="flow", sample_steps=20))
    m = r.metrics
    for key in ("energy_distance", "precision", "recall", "off_share", "train_loss"):
        assert math.isfinite(m[key]), key
    assert m["sample_steps"] == 20 and m["alpha_bar_T"] == 0.0 and m["nonfinite_samples"] == 0
    assert m["energy_distance"] < m["energy_noise"]  # 8 epochs: not at the floor, but better than noise
    assert {"schedule", "loss", "forward", "reverse", "samples"} <= set(diffusion.figures(r.config, r.outcome))
    shown = set(r.tables["settings"].column("key"))
    assert "steps" in shown and not shown & set(diffusion.BETA_KEYS)  # flow does not use the β schedule


def test_flow_on_digits_gives_finite_metrics_a_guidance_figure_and_an_animation():
    r = diffusion.run(diffusion.Config.make("quick", **TINY_DIGITS, process="flow", guidance_grid=(0.0, 2.0)))
    m = r.metrics
    for key in ("read_as_asked", "confident_share", "class_entropy", "frechet", "frechet_floor",
                "class_entropy_unconditional", "sample_seconds"):
        assert math.isfinite(m[key]), key
    assert m["sample_steps"] == diffusion.FLOW_STEPS
    assert r.artifacts["samples"].shape == (20, 1, 28, 28)
    assert {"guidance", "animation", "forward", "reverse", "samples"} <= set(diffusion.figures(r.config, r.outcome))


@pytest.mark.parametrize("overrides, key", [
    ({"sampler": "ddim"}, "sampler"), ({"eta": 0.5}, "eta"), ({"variance": "analytic"}, "variance"),
    ({"start": "data"}, "start")])
def test_keys_of_ddpm_samplers_are_refused_with_flow(overrides, key):
    with pytest.raises(ConfigError) as err:
        diffusion.Config.make("quick", process="flow", **overrides)
    assert err.value.key == key and key in str(err.value)


def test_process_is_part_of_the_training_key():
    ddpm, flow = diffusion.Config.make("quick"), diffusion.Config.make("quick", process="flow")
    assert diffusion.training_key(ddpm, diffusion.settings(ddpm)) != diffusion.training_key(
        flow, diffusion.settings(flow))


def test_process_ddpm_is_the_default_path(monkeypatch):
    runs = []
    for extra in ({}, {"process": "ddpm"}):  # each trains afresh (no reuse of the other's training)
        monkeypatch.setattr(diffusion, "_TRAINED", OrderedDict())
        runs.append(diffusion.run(diffusion.Config.make("quick", **{**SMALL_2D, "epochs": 2}, **extra)).metrics)
    keys = ("energy_distance", "precision", "recall", "off_share", "train_loss", "alpha_bar_T", "first_loss")
    assert {k: runs[0][k] for k in keys} == {k: runs[1][k] for k in keys}
    assert runs[0]["alpha_bar_T"] > 0 and "sample_steps" not in runs[0]
