"""The diffusion lab's training: the network a recipe names, the loss of its process (DDPM's noise prediction or
flow matching's velocity), the engine's run, and the trainings kept in this process, so that runs that differ only
in how they sample share one (:func:`training_key`)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from dlsm.algorithms.ddpm import DDPMScheduler, noise_prediction_loss
from dlsm.algorithms.flow_matching import flow_matching_loss
from dlsm.algorithms.guidance import drop_labels
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs._digit_autoencoder import Codec
from dlsm.models.denoisers import CourseDenoiser, LatentDenoiser, SinusoidalDenoiser, SmallUNet
from dlsm.result import ProgressFn
from dlsm.training import EpochBatches, Trainer, make_optimizer, make_schedule

if TYPE_CHECKING:
    from dlsm.labs.diffusion import Config

N_CLASSES = 10  # the digits; class N_CLASSES is the null class ∅ of classifier-free guidance
JUDGE_SHARE = 0.15  # share of a digit run's progress bar given to judging the samples (training: the rest)
#: Passes over the digits when digit_epochs is none, by space.
DIGIT_EPOCHS = {"latent": 500, "pixel": 40}


def digit_epochs(config: Config) -> float:
    """Passes of the diffusion model over the digits: the key, or the space's default."""
    return config.digit_epochs if config.digit_epochs is not None else DIGIT_EPOCHS[config.space]


def build_network(s: dict[str, Any], channels: int, generator: torch.Generator, latent_dim: int = 16
                  ) -> torch.nn.Module:
    """The ε-network named by the settings ``s`` (course, sinusoidal, unet with ``channels`` or latent on
    ``latent_dim`` codes; the digit networks are class-conditional)."""
    if s["network"] == "course":
        return CourseDenoiser(s["steps"], s["width"], generator=generator)
    if s["network"] == "sinusoidal":
        return SinusoidalDenoiser(s["width"], generator=generator)
    if s["network"] == "unet":
        return SmallUNet(channels, n_classes=N_CLASSES, generator=generator)
    if s["network"] == "latent":
        return LatentDenoiser(latent_dim, N_CLASSES, s["width"], generator=generator)
    raise ConfigError(t("diffusion.err.unknown_network", network=repr(s["network"])), key="network")


#: Keys of the recipe that shape only the sampler, not the training.
SAMPLER_KEYS = ("variance", "clip_sample")
#: Keys of the config outside the recipe that shape only the sampler: left out of :func:`training_key`.
SAMPLER_FIELDS = ("sampler", "eta", "sample_steps", "start", "n_samples", "digit_samples", "n_eval", "prompt",
                  "guidance", "guidance_grid")
#: Trained networks kept in this process (most recent last), by everything that shapes the training.
TRAINED_KEPT = 8


@dataclass
class Trained:
    """A finished training: the raw and the sampled (EMA) network, its log, and the main generator's state after it
    (digits in latent space: also the autoencoder)."""

    model: torch.nn.Module
    sampled: torch.nn.Module
    log: Any
    batches: EpochBatches
    train_seconds: float
    generator_state: torch.Tensor
    codec: Codec | None = None


_TRAINED: OrderedDict[tuple, Trained] = OrderedDict()


def training_key(config: Config, s: dict[str, Any]) -> tuple:
    """Everything a training depends on: runs that differ only in how they sample (``SAMPLER_KEYS``,
    ``SAMPLER_FIELDS``: the sampler, the number of samples, the held-out sets, the metrics) share one training.
    The held-out sets are drawn after the training set, so ``n_eval`` does not change it."""
    shaping = {k: v for k, v in s.items() if k not in SAMPLER_KEYS}
    fields = ("data", "process", "n_train", "noise", "seed", "device", "channels", "clip_grad_norm", "antithetic")
    if config.data == "digits":
        fields += ("space", "cond_drop") + (("latent_dim", "ae_epochs", "ae_beta") if config.space == "latent" else ())
    per = (digit_epochs(config),) if config.data == "digits" else ()
    return (*(getattr(config, f) for f in fields), *per, tuple(sorted(shaping.items())))


def train(config: Config, s: dict[str, Any], scheduler: DDPMScheduler, X: torch.Tensor,
          generator: torch.Generator, device: torch.device, progress: ProgressFn | None,
          labels: torch.Tensor | None = None, start: float = 0.0) -> Trained:
    """Train the ε-network of the settings ``s`` on ``X`` with the loss E‖ε − ε̂(x_t, t)‖² (EMA, clipping).

    With ``labels`` (digits) the network is class-conditional, ε̂(x_t, t, c), and each label is replaced by the
    null class with probability ``cond_drop`` (classifier-free guidance). ``start``: the share of the progress
    bar already used (the autoencoder's)."""
    digits = config.data == "digits"
    epochs = digit_epochs(config) if digits else s["epochs"]
    model = build_network(s, config.channels, generator, config.latent_dim).to(device)
    batches = EpochBatches(len(X), s["batch_size"], generator, device=device)
    steps = max(1, math.ceil(epochs * batches.per_epoch))
    optimizer = make_optimizer("adam", model.parameters(), s["lr"], foreach=True)
    judge_share = JUDGE_SHARE if digits else 0.0
    train_progress = None if progress is None else (  # training is most of the run; judging the digits the rest
        lambda done, _n, info: progress(round(1000 * (start + done / steps * (1 - judge_share - start))), 1000, info))

    def objective(net, x0: torch.Tensor) -> torch.Tensor:
        """The DDPM loss, or flow matching's (the network asked at t·(T − 1))."""
        if config.process == "flow":
            return flow_matching_loss(net, x0, generator, scheduler.steps - 1, config.antithetic)
        return noise_prediction_loss(net, scheduler, x0, generator, config.antithetic)

    def loss_fn(m: torch.nn.Module, idx: torch.Tensor) -> torch.Tensor:
        if labels is None:
            return objective(m, X[idx])
        c = drop_labels(labels[idx], config.cond_drop, N_CLASSES, generator)  # (batch,)
        return objective(lambda x, t: m(x, t, c), X[idx])

    trainer = Trainer(model, loss_fn, batches, optimizer, steps, name=config.process,
                      scheduler=make_schedule(s["lr_schedule"], optimizer, steps),
                      clip_grad_norm=config.clip_grad_norm, ema_decay=s["ema_decay"], skip_nonfinite=True,
                      generators={"data": generator}, log_every=max(1, steps // 500), progress=train_progress)
    t0 = time.perf_counter()
    log = trainer.run()
    train_seconds = time.perf_counter() - t0
    sampled = trainer.eval_model  # the EMA model when ema_decay is set
    sampled.eval()
    return Trained(model, sampled, log, batches, train_seconds, generator.get_state())
