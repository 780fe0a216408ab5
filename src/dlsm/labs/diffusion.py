"""Lecture 7: denoising diffusion (DDPM) on 2-D point clouds and on digits, with measured sample quality.

A noise-prediction network ε̂(x_t, t) is trained on the loss E‖ε − ε̂(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖² (Ho et al.
2020) and sampled ancestrally from x_T ~ N(0, I) (:mod:`dlsm.algorithms.ddpm`). EMA weights and gradient
clipping come from the training engine; the EMA model is the one sampled.

``recipe=tuned`` (default) works; ``recipe=course`` is the course's setting: 100 sigmoid steps from 1e-5 to
5e-3, the conditional-linear network, EMA 0.9, 1,000 epochs. Its ᾱ_T = 0.78: the forward process never
reaches noise (x_T keeps √0.78 = 88 % of x_0), so sampling from N(0, I) starts from the wrong distribution
and cannot recover the data. Every other key left at none takes the recipe's value.

Sample quality is measured (2-D sets) by the energy distance to a held-out set, k-NN precision and recall
(Kynkäänniemi et al. 2019) and the share of samples farther than ``off_radius`` from the clean generating
curve, each beside the same number for a second held-out set (the floor) and for N(0, I) noise (the
ceiling). For ``data=digits`` the model is class-conditional and sampled with classifier-free guidance (Ho &
Salimans 2022, :mod:`dlsm.algorithms.guidance`): ``prompt=7`` asks for sevens, none for the ten classes in turn,
``guidance`` is the scale s. ``space=latent`` (default) is latent diffusion, the design of Stable Diffusion (Rombach
et al. 2022): a convolutional VAE is trained first (:mod:`dlsm.labs._digit_autoencoder`) and an MLP ε-network
(:class:`dlsm.models.denoisers.LatentDenoiser`) learns its standardised 16-number codes, minutes on a CPU;
``space=pixel`` trains a small U-Net on the 28×28 pixels, meant for a GPU. The samples are judged by the lecture-3
CNN (:mod:`dlsm.labs._digit_quality`): the share it reads as the class asked for, the confident share, the class
entropy and the Fréchet distance in its features, each beside held-out digits; in latent space also beside the
autoencoder's own reconstructions (what its decoder allows) and at several guidance scales. The metrics are computed in
:mod:`dlsm.labs._diffusion_quality`, the figures drawn in :mod:`dlsm.labs._diffusion_figures`.

Keys that change only how the trained network samples: ``sampler`` (ancestral DDPM, or DDIM, Song et al. 2021,
:mod:`dlsm.algorithms.ddim`, with its ``eta``), ``sample_steps`` (a sampler through K of the T trained steps,
:func:`respace`; DDIM visits the same K steps) and ``start=data`` (x_T drawn from q(x_T | x_0) of fresh points
instead of N(0, I): a diagnostic that tells a schedule whose forward process never reaches noise from a badly trained
network). A run that differs from an earlier one of the same process only in such keys (or in ``variance``,
``clip_sample``, the number of samples or of held-out points) reuses that training (:func:`training_key`) and
gives the numbers a fresh run gives (``train_seconds`` is then the time of that training).

``process=flow`` trains the same network on flow matching with the straight (rectified-flow) path instead of the DDPM
loss (Lipman et al. 2023; Liu et al. 2023; :mod:`dlsm.algorithms.flow_matching`): x_t = (1 − t) x_0 + t ε, the
network predicts the velocity ε − x_0, asked at t·(T − 1) so that it sees the same inputs as under DDPM, and samples
are drawn by ``sample_steps`` Euler steps from t = 1 to 0 (none: ``FLOW_STEPS``). Guidance mixes the velocities,
v̂_∅ + s (v̂_c − v̂_∅). The β schedule then shapes nothing but T; the keys of DDPM's samplers (sampler=ddim, eta,
variance=analytic, start=data) are refused.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from dlsm import outcome
from dlsm.algorithms.ddpm import DDPMScheduler, ScheduleName, VarianceName
from dlsm.algorithms.guidance import guided
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.labs._diffusion_figures import PROCESS_DIGITS, Drawn, draw
from dlsm.labs._diffusion_quality import (
    RECON_ROW,
    differs,
    digit_metrics,
    guidance_table,
    point_quality,
)
from dlsm.labs._diffusion_sampling import (  # noqa: F401 (respace, at_steps, FLOW_STEPS: this module's API too)
    FLOW_STEPS,
    at_steps,
    build_sampling,
    gif_steps,
    keep_steps,
    respace,
)
from dlsm.labs._diffusion_training import (  # noqa: F401 (training_key, SAMPLER_FIELDS: this module's API too)
    _TRAINED,
    JUDGE_SHARE,
    N_CLASSES,
    SAMPLER_FIELDS,
    TRAINED_KEPT,
    digit_epochs,
    train,
    training_key,
)
from dlsm.labs._digit_autoencoder import train_codec
from dlsm.labs._digit_quality import digit_quality, judge_images, quality_table_rows, train_judge
from dlsm.outcome import Notes, metric
from dlsm.problems.images import load_embedded_mnist
from dlsm.problems.toy2d import get_dataset, toy_splits
from dlsm.result import Curve, ProgressFn, Table, table_from_columns
from dlsm.seeds import generator as stream
from dlsm.status import Status
from dlsm.training import count_parameters, current_session

DataName = Literal["moons", "swiss_roll", "s_curve", "circles", "checkerboard", "gaussians", "digits"]
Digit = Literal[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]

#: Guidance scales of the in-run table (latent space) and of the guidance figure.
GUIDANCE_GRID = (0.0, 1.0, 1.5, 2.0, 3.0, 5.0)
GUIDANCE_SHOWN = (0.0, 1.0, 2.0, 4.0)
AE_SHARE = 0.15  # share of a latent run's progress bar given to the autoencoder
GIF_DIGITS = 16  # digits pictured in the process figures and the animation
ALPHA_BAR_T_MAX = 0.01  # ᾱ_T above this: x_T keeps > 10 % of x_0's amplitude and N(0, I) is the wrong start
MIN_STEPS = 10
FEW_DIGIT_STEPS = 2000  # fewer training steps than this on digits: only blurry strokes are to be expected
FRESH = 7  # second word of the NumPy seed of the fresh points that start=data pushes forward (train/held-out: seed)


#: The course's schedule (lecture 7) and its training of the 2-D network.
COURSE_SCHEDULE = {"schedule": "sigmoid", "steps": 100, "beta_min": 1e-5, "beta_max": 5e-3, "variance": "beta"}
COURSE_2D = {**COURSE_SCHEDULE, "network": "course", "width": 128, "epochs": 1000, "batch_size": 128, "lr": 1e-3,
             "lr_schedule": "constant", "ema_decay": 0.9, "clip_sample": None}
#: A setting that works on the 2-D sets: the forward process reaches noise (DDPM's linear β from 1e-4 to 0.02 over
#: T = 1000 steps, Ho et al. 2020: ᾱ_T = 4.0e-5), the posterior variance keeps the last steps sharp, the network
#: sees Fourier features of x, a one-cycle learning rate and a slower EMA. Steps matter more than width here: a
#: 64-wide network's step took 2.0 ms against 3.2-3.4 ms for a 128-wide one (batch 256, one CPU thread), so 18,000
#: updates (450 epochs at batch 256) fit in the time of about 11,000, and ended sharper. Many small steps matter
#: for recall: with T = 200 and β up to 0.1 the same training gave moons too thin at their ends (seed 0: recall
#: 0.968 against the held-out set's 0.980); with T = 1000 it gave 0.979 (seeds 1, 2: 0.976, 0.979). T costs
#: only sampling time, not training time.
#: (The cosine schedule ends with β ≈ 0.999 at T = 100, and its first reverse step divides by √(1 − β): it
#: amplifies the network's error 30 times.)
TUNED_2D = {"schedule": "linear", "steps": 1000, "beta_min": 1e-4, "beta_max": 0.02, "variance": "posterior",
            "network": "sinusoidal", "width": 64, "epochs": 450, "batch_size": 256, "lr": 3e-3,
            "lr_schedule": "onecycle", "ema_decay": 0.99, "clip_sample": None}
TUNED_DIGITS = {"schedule": "cosine", "steps": 500, "beta_min": 1e-4, "beta_max": 0.02, "variance": "posterior",
                "network": "unet", "batch_size": 128, "lr": 2e-3, "lr_schedule": "onecycle", "ema_decay": 0.999,
                "clip_sample": 1.0}
#: Latent diffusion of digits (measured, BENCHMARKS): the linear DDPM schedule (T = 1000) on the standardised codes
#: of the autoencoder, a 256-wide residual MLP, batch 256, 8,000 updates (500 epochs of 16 batches) in about 40 s
#: on one CPU thread. x̂_0 is clipped at ±5 standard deviations of the codes (it can only bind in the first steps).
TUNED_LATENT = {"schedule": "linear", "steps": 1000, "beta_min": 1e-4, "beta_max": 0.02, "variance": "posterior",
                "network": "latent", "width": 256, "batch_size": 256, "lr": 2e-3, "lr_schedule": "onecycle",
                "ema_decay": 0.999, "clip_sample": 5.0}
RECIPE_KEYS = tuple(TUNED_2D)


@dataclass(frozen=True)
class Config(LabConfig):
    """DDPM on a 2-D point cloud or on digits; keys left at none take the recipe's value."""

    data: DataName = param("moons", "data set: a 2-D point cloud (course: moons) or the embedded MNIST digits")
    recipe: Literal["tuned", "course"] = param(
        "tuned", "tuned: a setting that works; course: the lecture's schedule and network (ᾱ_T = 0.78, fails)")
    n_train: int | None = param(None, "training points (none: 10,000 as in the course; digits: 4,000)", ge=2,
                                le=1_000_000)
    noise: float | None = param(None, "noise std around the clean set (none: the set's own, moons 0.05)", ge=0)
    schedule: ScheduleName | None = param(None, "β schedule (none: the recipe's; tuned linear, course sigmoid)")
    steps: int | None = param(None, "diffusion steps T (none: the recipe's; course 100)", ge=1, le=10_000)
    beta_min: float | None = param(None, "first β (none: the recipe's; course 1e-5; unused by cosine)", gt=0, lt=1)
    beta_max: float | None = param(None, "last β (none: the recipe's; course 5e-3; unused by cosine)", gt=0, lt=1)
    variance: VarianceName | None = param(
        None, "reverse-step σ_t²: beta (course), posterior β̃_t, or analytic (Analytic-DPM, fitted after training) "
              "(none: recipe)")
    start: Literal["noise", "data"] = param(
        "noise", "where the reverse process starts: noise (x_T ~ N(0, I), the DDPM sampler) or data (x_T ~ "
                 "q(x_T | x_0) of fresh points, where the forward process really ends: a diagnostic; 2-D sets)")
    sample_steps: int | None = param(
        None, "reverse steps of the sampler (none: all T); fewer: a respaced sampler that visits sample_steps of the "
              "T trained steps (Nichol & Dhariwal 2021), with the same network; process=flow: the Euler steps "
              "(none: 50)",
        ge=2, le=10_000)
    sampler: Literal["ddpm", "ddim"] = param(
        "ddpm", "reverse process: ddpm (ancestral steps, Ho et al. 2020) or ddim (Song et al. 2021: each step "
                "estimates x̂_0 and ε̂ and carries them to the next of the sample_steps steps, with noise η; the same "
                "trained network)")
    process: Literal["ddpm", "flow"] = param(
        "ddpm", "what the network learns: ddpm (the noise ε, Ho et al. 2020) or flow (the velocity ε − x_0 of the "
                "straight path x_t = (1 − t) x_0 + t ε, flow matching / rectified flow, Lipman et al. 2023, Liu et al. "
                "2023, sampled by sample_steps Euler steps, none: 50)")
    eta: float = param(0.0, "η of sampler=ddim: 0 deterministic (the same x_T gives the same x_0), 1 the DDPM "
                            "posterior variance β̃", ge=0, le=1)
    network: Literal["course", "sinusoidal", "unet", "latent"] | None = param(
        None, "ε-network: course (conditional linear), sinusoidal (time-embedding MLP), unet (digits in pixel "
              "space), latent (residual MLP on the autoencoder's codes)")
    space: Literal["latent", "pixel"] = param(
        "latent", "digits: latent (diffusion on the codes of a convolutional VAE, as Stable Diffusion: minutes on a "
                  "CPU) or pixel (a U-Net on the 28×28 pixels, meant for a GPU)")
    prompt: Digit | None = param(None, "digits: the digit to generate (none: the ten digits in turn)")
    guidance: float = param(2.0, "digits: classifier-free guidance scale s, ε̂_∅ + s (ε̂_c − ε̂_∅): 0 "
                                 "unconditional, 1 conditional, above 1 guided", ge=0, le=50)
    guidance_grid: tuple[float, ...] = param(
        GUIDANCE_GRID, "digits, space=latent: guidance scales of the in-run table (the same x_T at each; s = 0 gives "
                       "the unconditional class entropy); () for none (a run that only samples again is then faster)")
    cond_drop: float = param(0.15, "digits: share of training labels replaced by the null class ∅ (it trains the "
                                   "unconditional ε̂_∅ that guidance needs)", ge=0, lt=1)
    latent_dim: int = param(16, "digits, space=latent: dimension of the autoencoder's codes", ge=2, le=256)
    ae_epochs: float = param(80, "digits, space=latent: passes of the autoencoder over the digits", gt=0)
    ae_beta: float = param(0.1, "digits, space=latent: weight β of the autoencoder's KL term (1: a VAE)", ge=0)
    width: int | None = param(None, "hidden units of the 2-D and latent networks (none: the recipe's; course 128, "
                                    "tuned 64, latent 256)", ge=1, le=4096)
    channels: int = param(32, "base channels of the U-Net (data=digits)", ge=8, le=512)
    epochs: float | None = param(None, "passes over the 2-D training set (none: recipe; course 1000)", gt=0)
    digit_epochs: float | None = param(None, "passes of the diffusion model over the digits (none: latent 500, "
                                             "pixel 40; pixel on a GPU: 300)", gt=0)
    batch_size: int | None = param(None, "mini-batch size (none: the recipe's; course 128)", ge=1)
    lr: float | None = param(None, "Adam learning rate (none: the recipe's; course 1e-3)", gt=0)
    lr_schedule: Literal["constant", "onecycle", "cosine"] | None = param(
        None, "learning-rate schedule (none: the recipe's; course constant)")
    ema_decay: float | None = param(None, "EMA decay of the sampled weights (none: recipe; course 0.9)", ge=0, lt=1)
    clip_sample: float | None = param(None, "clip the reverse steps' estimate of x_0 to ±this (none: the "
                                             "recipe's; digits 1, the pixel range; 2-D: no clipping)", gt=0)
    clip_grad_norm: float = param(1.0, "gradient-norm clipping (course 1)", gt=0)
    antithetic: bool = param(True, "draw training steps in antithetic pairs (t, T-1-t) as the course does")
    n_eval: int = param(2000, "points in each of the two held-out sets (2-D)", ge=10, le=100_000)
    n_samples: int = param(2000, "samples generated for the quality metrics (2-D)", ge=10, le=100_000)
    digit_samples: int = param(500, "digits generated for the quality metrics (at most 500)", ge=2, le=500)
    off_radius: float | None = param(None, "distance from the clean curve that counts as off the data "
                                           "(none: 3 × noise; moons 0.15)", gt=0)
    n_reference: int = param(500, "test digits the Fréchet distance is measured against (the next "
                                  "digit_samples: the floor)", ge=2, le=500)
    judge_epochs: float = param(2, "passes of the lecture-3 CNN over the digits it judges samples with", gt=0)
    device: DeviceName = device_param()

    quick = {"n_train": 1000, "epochs": 40, "digit_epochs": 2, "n_eval": 500, "n_samples": 500,
             "digit_samples": 16, "channels": 8, "judge_epochs": 0.25, "batch_size": 64, "n_reference": 100,
             "ae_epochs": 1}
    full = {"n_eval": 5000, "n_samples": 5000}

    def check(self) -> None:
        s = settings(self)
        if s["steps"] < MIN_STEPS:
            raise ConfigError(t("diffusion.err.few_steps", steps=s["steps"], least=MIN_STEPS), key="steps")
        if self.sample_steps is not None and self.sample_steps > s["steps"]:
            raise ConfigError(t("diffusion.err.sample_steps", k=self.sample_steps, T=s["steps"]), key="sample_steps")
        if self.process == "flow":
            refused = (("sampler", self.sampler != "ddpm", self.sampler), ("eta", self.eta != 0, self.eta),
                       ("variance", s["variance"] == "analytic", s["variance"]), ("start", self.start != "noise",
                                                                                  self.start))
            for key, bad, value in refused:
                if bad:
                    raise ConfigError(t("diffusion.err.flow_key", key=key, value=value), key=key)
        if self.sampler == "ddpm" and self.eta != 0:
            raise ConfigError(t("diffusion.err.eta", eta=self.eta), key="eta")
        if self.sampler == "ddim" and s["variance"] == "analytic":
            raise ConfigError(t("diffusion.err.ddim_analytic"), key="variance")
        if s["schedule"] != "cosine" and s["beta_max"] < s["beta_min"]:
            raise ConfigError(t("diffusion.err.beta_order", beta_max=s["beta_max"], beta_min=s["beta_min"]),
                              key="beta_max")
        if self.data == "digits":
            if self.start == "data":
                raise ConfigError(t("diffusion.err.start_digits"), key="start")
            need = "latent" if self.space == "latent" else "unet"
            if s["network"] != need:
                raise ConfigError(t("diffusion.err.digit_network", network=s["network"], space=self.space, need=need),
                                  key="network")
            if self.cond_drop == 0 and self.guidance != 1:
                raise ConfigError(t("diffusion.err.cond_drop", guidance=self.guidance), key="cond_drop")
            if self.n_train is not None and self.n_train > 4000:
                raise ConfigError(t("diffusion.err.n_train", n=self.n_train), key="n_train")
        elif s["network"] in ("unet", "latent"):
            raise ConfigError(t("diffusion.err.image_network", network=s["network"], data=self.data), key="network")
        elif self.prompt is not None:
            raise ConfigError(t("diffusion.err.prompt_2d", prompt=self.prompt), key="prompt")


def settings(config: Config) -> dict[str, Any]:
    """The recipe's values with the keys the user set on top."""
    if config.data == "digits":
        tuned = TUNED_LATENT if config.space == "latent" else TUNED_DIGITS
        base = {**tuned, **(COURSE_SCHEDULE if config.recipe == "course" else {})}
    else:
        base = dict(COURSE_2D if config.recipe == "course" else TUNED_2D)
    chosen = {k: getattr(config, k) for k in RECIPE_KEYS if getattr(config, k) is not None}
    if config.data == "digits":  # the passes over the digits are digit_epochs; epochs is the 2-D sets' key
        chosen.pop("epochs", None)
    return {**base, **chosen}


#: The keys of DDPM's β schedule, which a flow-matching run does not use (its time grid is T = steps alone).
BETA_KEYS = ("schedule", "beta_min", "beta_max", "variance")


def settings_table(s: dict[str, Any], flow: bool) -> Table:
    """The settings a run used, as a key/value table; process=flow leaves out the β schedule's keys."""
    used = {k: v for k, v in s.items() if not (flow and k in BETA_KEYS)}
    return table_from_columns({"key": list(used), "value": [str(v) for v in used.values()]})


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """The schedule's end point, the training, and sample quality beside its floor and ceiling.

    2-D sets have the energy, precision/recall and off-data metrics; digits have the judge's metrics and
    None for the energy distance, precision, recall and off-data share.
    """

    alpha_bar_T: float = metric(headline=True)
    terminal_signal: float = metric("fraction")
    train_loss: float | None = metric("loss", headline=True)
    first_loss: float | None = metric("loss")
    steps: int = metric("steps")
    sample_steps: int | None = metric("steps", default=None, skip_none=True)
    epochs: float = metric("epochs")
    n_params: int = metric("parameters")
    train_seconds: float = metric("s")
    ema_differs: bool = metric()
    # digits only: the lecture-3 CNN's verdict on the samples, held-out digits (floor) and noise (ceiling)
    confident_share: float | None = metric("fraction", default=None, skip_none=True)
    class_entropy: float | None = metric("bits", default=None, skip_none=True)
    frechet: float | None = metric(default=None, skip_none=True)
    confident_floor: float | None = metric("fraction", default=None, skip_none=True)
    class_entropy_floor: float | None = metric("bits", default=None, skip_none=True)
    frechet_floor: float | None = metric(default=None, skip_none=True)
    confident_noise: float | None = metric("fraction", default=None, skip_none=True)
    class_entropy_noise: float | None = metric("bits", default=None, skip_none=True)
    frechet_noise: float | None = metric(default=None, skip_none=True)
    judge_accuracy: float | None = metric("fraction", default=None, skip_none=True)
    read_as_asked: float | None = metric("fraction", headline=True, default=None, skip_none=True)
    read_as_asked_floor: float | None = metric("fraction", default=None, skip_none=True)
    guidance: float | None = metric(default=None, skip_none=True)
    class_entropy_unconditional: float | None = metric("bits", default=None, skip_none=True)
    recon_frechet: float | None = metric(default=None, skip_none=True)
    recon_confident: float | None = metric("fraction", default=None, skip_none=True)
    ae_seconds: float | None = metric("s", default=None, skip_none=True)
    sample_seconds: float | None = metric("s", default=None, skip_none=True)
    # 2-D sets (energy_distance, precision, recall and off_share are None for digits)
    energy_distance: float | None = metric(headline=True, default=None)
    energy_floor: float | None = metric(headline=True, default=None, skip_none=True)
    energy_noise: float | None = metric(default=None, skip_none=True)
    energy_error: float | None = metric(default=None, skip_none=True)
    precision: float | None = metric("fraction", headline=True, default=None)
    recall: float | None = metric("fraction", headline=True, default=None)
    precision_floor: float | None = metric("fraction", default=None, skip_none=True)
    recall_floor: float | None = metric("fraction", default=None, skip_none=True)
    precision_noise: float | None = metric("fraction", default=None, skip_none=True)
    recall_noise: float | None = metric("fraction", default=None, skip_none=True)
    off_share: float | None = metric("fraction", headline=True, default=None)
    off_floor: float | None = metric("fraction", default=None, skip_none=True)
    off_noise: float | None = metric("fraction", default=None, skip_none=True)
    off_radius: float | None = metric(default=None, skip_none=True)
    nonfinite_samples: int | None = metric("samples", default=None, skip_none=True)
    diverged: bool = metric()
    skipped_steps: int | None = metric("steps", default=None, skip_none=True)


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    device = resolve_device(config.device)
    s = settings(config)
    digits = config.data == "digits"
    generator = stream(config.seed, "main")  # data order, training noise, metrics' noise
    scheduler = DDPMScheduler.from_name(s["schedule"], s["steps"], s["beta_min"], s["beta_max"], s["variance"],
                                        s["clip_sample"])

    # ----- data: x_0 rows (n, 2), or digits scaled to [-1, 1] (n, 1, 28, 28) -------------------------------
    latent = digits and config.space == "latent"
    labels = None
    if digits:
        n_train = config.n_train or 4000
        train_set, test_set = load_embedded_mnist(n_train, 1000)
        images, labels = train_set.X.to(device), train_set.y.to(device)  # (n, 1, 28, 28) in [0, 1], (n,)
        X = images * 2 - 1  # pixel space: (n, 1, 28, 28) in [-1, 1]; latent space: the codes, below
    else:
        noise = config.noise if config.noise is not None else get_dataset(config.data).default_noise
        splits = toy_splits(config.data, config.n_train or 10_000, config.n_eval, noise, config.seed)
        X = splits.train.to(device)  # (n, 2)

    key = training_key(config, s)
    trained = _TRAINED.get(key)
    if trained is None:
        codec = None
        if latent:  # the autoencoder first (its own stream), then the diffusion model on its codes
            ae_progress = None if progress is None else (
                lambda done, total, info: progress(round(1000 * AE_SHARE * done / total), 1000, info))
            codec = train_codec(images, config.latent_dim, config.ae_epochs, config.ae_beta, config.seed, device,
                                ae_progress)
            X = codec.encode(images)  # (n, latent_dim)
        trained = train(config, s, scheduler, X, generator, device, progress, labels,
                        AE_SHARE if latent else 0.0)
        trained.codec = codec
        session = current_session()
        if trained.log.status == Status.COMPLETED and (session is None or not session.resume):  # not a resumed one
            _TRAINED[key] = trained
            while len(_TRAINED) > TRAINED_KEPT:
                _TRAINED.popitem(last=False)
    else:  # the same training ran before in this process: the same weights, and the generator where it left off
        _TRAINED.move_to_end(key)
        generator.set_state(trained.generator_state)
        if latent:
            X = trained.codec.encode(images)
    model, sampled, log, batches, train_seconds = (trained.model, trained.sampled, trained.log, trained.batches,
                                                   trained.train_seconds)
    codec = trained.codec
    n_draw = config.digit_samples if digits else config.n_samples
    classes = None
    if digits:  # the classes asked for: the prompt, or the ten digits in turn
        classes = (torch.arange(n_draw) % N_CLASSES if config.prompt is None
                   else torch.full((n_draw,), config.prompt)).to(device)
    conditioned = (lambda c, scale: guided(sampled, c, scale, N_CLASSES)) if digits else None
    flow = config.process == "flow"
    sampling = build_sampling(scheduler, config.process, config.sampler, config.sample_steps, config.eta)
    sampler = sampling.sampler

    def noise_model(c: torch.Tensor | None, scale: float):
        """ε̃ of the sampler: the (guided) network, asked at the trained steps τ when respaced."""
        return sampling.network(sampled if c is None else conditioned(c, scale))

    if s["variance"] == "analytic":  # Γ_t = E‖ε̂(x_t, t)‖²/d from the training data, with its own generator
        fit_net = (noise_model(None, 1.0) if not digits else  # digits: the unconditional ε̂_∅
                   lambda x, t: noise_model(torch.full((len(x),), N_CLASSES, device=x.device), 1.0)(x, t))
        sampler.fit_analytic_variance(fit_net, X, stream(config.seed, "third"), batch=100 if digits else 2000)
    net = noise_model(classes, config.guidance)

    losses = np.asarray(log.history.get("loss", []), dtype=float)
    loss_steps = np.asarray(log.steps, dtype=float) + 1
    sample_gen = stream(config.seed, "second", device=device)
    pictured = keep_steps(sampler.steps, digits)  # the process figures' steps (the sampler's numbering)
    animated = gif_steps(sampler.steps) if digits else ()  # the animation's
    keep = tuple(sorted({*pictured, *animated}, reverse=True))
    extra_tables, guidance_rows = {}, []
    sample_seconds = None
    if digits:
        shape = (n_draw, config.latent_dim) if latent else (n_draw, 1, 28, 28)
        to_images = ((lambda z: codec.decode(z).cpu()) if latent else
                     (lambda x: ((x.cpu() + 1) / 2).clamp(0, 1)))  # sampler's x_0 -> images in [0, 1]
        t0 = time.perf_counter()
        x0, kept = sampler.sample(net, shape, sample_gen, device, keep=keep)
        samples = to_images(x0)  # (n, 1, 28, 28)
        sample_seconds = time.perf_counter() - t0
        kept = {k: to_images(v[:GIF_DIGITS].to(device)) * 2 - 1 for k, v in kept.items()}  # pictured digits
        judge_progress = None if progress is None else (
            lambda d, total, info: progress(round(1000 * (1 - JUDGE_SHARE + JUDGE_SHARE * d / total)), 1000, info))
        judge = train_judge(train_set, config.judge_epochs, config.seed, device, judge_progress)
        rows, judge_acc = quality_table_rows(judge, samples, test_set, config.n_reference, generator)
        floor_labels = test_set.y[config.n_reference:config.n_reference + n_draw]
        floor = test_set.X[config.n_reference:config.n_reference + n_draw]
        _, ref_feats = judge_images(judge, test_set.X[:config.n_reference])  # the quality table's reference digits
        if latent:  # what the decoder alone allows: the autoencoder's reconstructions of the floor digits
            rows[RECON_ROW] = digit_quality(judge, codec.decode(codec.encode(floor.to(device))).cpu(), ref_feats)
        quality, table = digit_metrics(rows, judge_acc)
        asked = digit_quality(judge, samples, ref_feats, classes)
        quality.update(read_as_asked=asked["read_as_asked"], guidance=config.guidance,
                       read_as_asked_floor=digit_quality(judge, floor, ref_feats, floor_labels)["read_as_asked"])
        if latent:
            quality.update(recon_frechet=rows[RECON_ROW]["frechet"], recon_confident=rows[RECON_ROW]["confident_share"],
                           ae_seconds=codec.seconds)
            by_scale = {}  # the same x_T at every scale: the scale's effect alone
            for scale in sorted({*config.guidance_grid, config.guidance}) if config.guidance_grid else ():
                by_scale[scale] = asked if scale == config.guidance else digit_quality(judge, to_images(sampler.sample(
                    noise_model(classes, scale), shape, stream(config.seed, "second", device=device), device)[0]),
                    ref_feats, classes)
            if 0.0 in by_scale:
                quality["class_entropy_unconditional"] = by_scale[0.0]["class_entropy"]
            if by_scale:
                extra_tables["guidance"] = guidance_table(by_scale)
        ten = torch.arange(N_CLASSES, device=device)  # one of each digit, the same x_T at every scale
        for scale in GUIDANCE_SHOWN:
            z, _ = sampler.sample(noise_model(ten, scale), (N_CLASSES, *shape[1:]),
                                  stream(config.seed, "fourth", device=device), device)
            guidance_rows.append((scale, to_images(z)))
        shown = X[:PROCESS_DIGITS].cpu()
    else:
        x_T = None
        if config.start == "data":  # x_T ~ q(x_T | x_0) of fresh points: where the forward process really ends
            fresh = get_dataset(config.data).draw(config.n_samples, noise, np.random.default_rng([config.seed, FRESH]))
            x_start = torch.as_tensor(fresh, dtype=torch.float32)  # (n_samples, 2)
            x_T = scheduler.add_noise(x_start, torch.randn(x_start.shape, generator=sample_gen, device=device).cpu(),
                                      torch.full((config.n_samples,), scheduler.steps - 1))
        x0, kept = sampler.sample(net, (config.n_samples, 2), sample_gen, device, keep=keep, x_T=x_T)
        samples = x0.cpu()
        radius = config.off_radius if config.off_radius is not None else 3 * noise
        quality, table = point_quality(config.data, samples, splits, radius, generator)
        shown = X[:2000].cpu()

    trained_step = sampling.trained_step
    kept = {trained_step(j): x for j, x in kept.items()}
    alpha_bar_T = 0.0 if flow else scheduler.alpha_bar_last  # the straight path ends at x_1 = ε: no signal left
    loss_label = t("diffusion.label.velocity_mse" if flow else "diffusion.label.noise_mse")
    curves = {"loss": Curve(loss_steps, losses, t("common.label.step"), loss_label, log_y=True)}
    return Outcome(
        alpha_bar_T=alpha_bar_T, terminal_signal=math.sqrt(alpha_bar_T),
        train_loss=float(np.mean(losses[-10:])) if len(losses) else None,
        first_loss=float(losses[0]) if len(losses) else None,
        steps=log.steps_done, sample_steps=sampling.sample_steps,
        epochs=log.steps_done / batches.per_epoch, n_params=count_parameters(model),
        train_seconds=train_seconds, ema_differs=differs(model, sampled), **quality,
        diverged=log.status == Status.DIVERGED, skipped_steps=log.skipped or None,
        status=log.status,
        sample_seconds=sample_seconds,
        tables={"quality": table, **extra_tables,
                "settings": settings_table(s, flow)},
        curves=curves if len(losses) else {},
        artifacts={"samples": samples, "model": {k: v.detach().cpu().clone() for k, v in sampled.state_dict().items()},
                   **({"classes": classes.cpu()} if digits else {}),
                   **({"autoencoder": {k: v.detach().cpu().clone() for k, v in codec.vae.state_dict().items()},
                       "code_mean": codec.mean.cpu(), "code_std": codec.std.cpu()} if latent else {})},
        data={"drawn": Drawn(s, scheduler, kept, shown, loss_steps, losses, sampling.shown,
                             f"DDIM, η = {config.eta:g}" if config.sampler == "ddim" else "",
                             decode=(lambda z: codec.decode(z.to(device)).cpu() * 2 - 1) if latent else None,
                             classes=None if classes is None else classes.cpu(), guidance_rows=guidance_rows,
                             shown_steps=tuple(map(trained_step, pictured)) if digits else (),
                             gif_steps=tuple(map(trained_step, animated)),
                             flow_steps=sampler.steps if flow else None),
              "log": log, "n_train": len(X), "batch_size": s["batch_size"]},
    )


def notes(config: Config, out: Outcome) -> Notes:
    """The schedule's end point, then sample quality against its floor and ceiling; apart, why."""
    found = Notes()
    log = out.data["log"]
    if out.status == Status.INTERRUPTED:
        found.measured.append(t("diffusion.note.interrupted", steps=out.steps))
    elif out.status == Status.DIVERGED:
        found.measured.append(t("diffusion.note.diverged", steps=out.steps, loss=log.losses[-1],
                                first=log.losses[0]))
        found.measured.append(t("training.diverged_setting", setting="lr", value=settings(config)["lr"]))
    if out.data["batch_size"] > out.data["n_train"]:
        # A note, not a ConfigError: a batch larger than the data is full-batch training (each step one epoch),
        # a legitimate setting, but the reader should know that the batch was the whole set.
        found.measured.append(t("training.batch_whole_set", batch=out.data["batch_size"], n=out.data["n_train"],
                                steps=out.steps))
    if out.alpha_bar_T > ALPHA_BAR_T_MAX:
        found.measured.append(t("diffusion.note.no_noise", abar=out.alpha_bar_T, signal=out.terminal_signal))
        if config.start == "noise":
            found.explanations.append(t("diffusion.note.no_noise_why"))
    if config.start == "data":
        found.measured.append(t("diffusion.note.start_data"))
    if config.process == "flow":
        found.measured.append(t("diffusion.note.flow", k=out.sample_steps))
    if config.data == "digits":
        if out.confident_share is not None:
            found.measured.append(t(
                "diffusion.note.digit_quality", confident=out.confident_share, confident_floor=out.confident_floor,
                confident_noise=out.confident_noise, entropy=out.class_entropy, frechet=out.frechet,
                frechet_floor=out.frechet_floor, frechet_noise=out.frechet_noise, judge=out.judge_accuracy))
        if out.read_as_asked is not None:
            asked = (t("diffusion.note.asked_all") if config.prompt is None
                     else t("diffusion.note.asked_one", digit=config.prompt))
            found.measured.append(t("diffusion.note.prompt", asked=asked, read=out.read_as_asked,
                                    read_floor=out.read_as_asked_floor, scale=config.guidance))
            found.explanations.append(t("diffusion.note.guidance_why_flow" if config.process == "flow"
                                        else "diffusion.note.guidance_why"))
        if out.recon_frechet is not None:
            found.measured.append(t("diffusion.note.latent", dim=config.latent_dim, ae=out.ae_seconds,
                                    recon=out.recon_frechet, frechet=out.frechet))
            if out.class_entropy_unconditional is not None:
                found.measured.append(t("diffusion.note.unconditional", entropy=out.class_entropy_unconditional))
        if config.space == "pixel" and out.steps < FEW_DIGIT_STEPS:
            found.measured.append(t("diffusion.note.few_digit_steps", steps=out.steps))
            found.explanations.append(t("diffusion.note.few_digit_steps_why"))
        return found
    if out.energy_distance is not None:
        within = abs(out.energy_distance - out.energy_floor) <= 2 * out.energy_error
        energy = {"energy": out.energy_distance, "floor": out.energy_floor, "error": out.energy_error,
                  "noise": out.energy_noise}
        found.measured.append(t("diffusion.note.energy_within", **energy) if within
                              else t("diffusion.note.energy_above", **energy))
        found.measured.append(t(
            "diffusion.note.precision_recall", precision=out.precision, recall=out.recall,
            precision_floor=out.precision_floor, recall_floor=out.recall_floor, off=out.off_share,
            radius=out.off_radius, data=config.data, off_floor=out.off_floor))
        found.explanations.append(t("diffusion.note.blur"))
    if out.nonfinite_samples:
        found.measured.append(t("diffusion.note.nonfinite", n=out.nonfinite_samples))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """The schedule, the training loss, the forward and reverse processes and the samples."""
    return draw(config.data, config.seed, out.data["drawn"], out.artifacts["samples"], out.off_radius, config.start)


LAB = Lab(
    name="diffusion",
    lecture=7,
    description="DDPM on 2-D point clouds (moons, swiss_roll, s_curve, circles, checkerboard, gaussians), or latent "
                "diffusion of digits from a prompt (classifier-free guidance), with measured sample quality",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
    headline=("energy_distance", "energy_floor", "precision", "recall", "off_share", "alpha_bar_T", "train_loss"),
)
run = LAB.run
