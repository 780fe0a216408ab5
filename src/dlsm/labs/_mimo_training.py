"""Training of the mimo lab's learned detectors: the course's NN, TPG (incremental training, restarts) and EP-Net
(EP unfolded with learned damping, trained on the smoothed SER of its soft output).

TPG's training takes its own small :class:`TPGConfig` (the lab Config's eleven ``tpg_*`` keys without the
prefix, built by :func:`tpg_config`), not the whole lab Config.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import torch

from dlsm.models.detectors import TPG, EPNet, NeuralDetector
from dlsm.problems.mimo import Constellation, MimoBatch, MimoChannel
from dlsm.result import ProgressFn
from dlsm.seeds import generator
from dlsm.status import Status
from dlsm.training import (
    Generation,
    ScheduleName,
    Trainer,
    make_optimizer,
    make_schedule,
    offset_progress,
    train_incremental,
)
from dlsm.training.loop import FitLog

if TYPE_CHECKING:  # (the lab module imports this one)
    from dlsm.labs.mimo import Config

EVAL_BATCH = 10_000  # vectors per Monte-Carlo batch
#: Symbols on which TPG's restarts are compared (400,000 / n vectors). At 4×4, σ = 0.5, restarts differ by a few
#: per cent, and 20,000 vectors (2 % standard error) chose a worse one on a probe where 100,000 did not.
VALIDATION_SYMBOLS = 400_000
#: τ of :func:`smoothed_symbol_error`, in units of the spacing of the constellation's points (τ = 0.05 for BPSK).
#: Probes on random 4×4 H at σ = 0.5 found τ = 0.02 to 0.1 alike and 0.3 (a loss closer to the MSE) worse.
SER_TEMPERATURE = 0.025
#: τ of EP-Net's smoothed SER of μ̂, in units of the spacing (0.1 for BPSK). A probe on random 4×4 H at σ = 0.5
#: (400 steps, batch 2000) with τ = 0.1 reached 1.33 × ML where the cross-entropy of p_T stayed at EP's 1.40 ×.
EPNET_TEMPERATURE = 0.05


# ----- losses -------------------------------------------------------------------------------------------
def mse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(1/(b n)) Σ (x̂ − x)²."""
    return ((x_hat - x) ** 2).mean()


def bpsk_cross_entropy(s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-(1/(b n)) Σ log((1 + x s)/2): the soft decision s ∈ (-1, 1) read as P(x = +1) = (1 + s)/2."""
    return -torch.log((1 + x * s) / 2 + 1e-6).mean()


def smoothed_symbol_error(r: torch.Tensor, x: torch.Tensor, const: Constellation,
                          tau: float) -> torch.Tensor:
    """(1/(b n)) Σ_i [1 − σ((r_i − l_i)/τ) σ((u_i − r_i)/τ)], where (l_i, u_i) is the decision region of the sent
    point x_i (±∞ at the ends): a smooth version of the SER of the hard decision of r, equal to it as τ → 0.
    For BPSK it is σ(−x r/τ)."""
    b = const.boundaries.to(r.device, r.dtype)
    inf = b.new_tensor([math.inf])
    k = torch.bucketize(x.contiguous(), b)  # index of the sent point (x is a point, never on a boundary)
    low, high = torch.cat([-inf, b])[k], torch.cat([b, inf])[k]
    return (1 - torch.sigmoid((r - low) / tau) * torch.sigmoid((high - r) / tau)).mean()


# ----- the course's NN ----------------------------------------------------------------------------------
def train_nn(config: Config, channel: MimoChannel, generator: torch.Generator, device: torch.device,
             progress: ProgressFn | None) -> tuple[NeuralDetector, FitLog]:
    """The course recipe: fresh batches of (y, x) from the channel, MSE, Adam, ``steps`` updates."""
    net = NeuralDetector(config.n, config.m, channel.const, (config.width,) * config.depth,
                         channel_input=config.channel == "random", generator=generator).to(device)
    opt = make_optimizer("adam", net.parameters(), config.lr)
    trainer = Trainer(net, lambda model, b: mse(model(b.y, b.H), b.x), lambda k: channel.sample(config.batch_size),
                      opt, config.steps, name="nn", scheduler=make_schedule(config.schedule, opt, config.steps),
                      skip_nonfinite=True, generators={"data": channel.generator},
                      log_every=max(1, config.steps // 500), progress=progress)
    return net, trainer.run()


# ----- TPG ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TPGConfig:
    """How TPG is trained: the lab's ``tpg_*`` keys without the prefix (:func:`tpg_config` builds it; the defaults
    and their reasons are those of :class:`dlsm.labs.mimo.Config`)."""

    layers: int                                # iterations T, each with a trainable γ_t, θ_t
    steps: int                                 # Adam steps per generation (T generations)
    batch: int                                 # vectors per training batch
    lr: float                                  # Adam learning rate (学習係数)
    loss: Literal["mse", "ce"]                 # MSE of s_T, or the cross-entropy of the soft decision (BPSK)
    finetune: int                              # extra Adam steps on all T layers afterwards (0: none)
    finetune_loss: Literal["same", "ser"]      # ``loss``, or the smoothed SER of the last layer
    finetune_lr: float | None                  # None: lr / 10
    finetune_batch: int | None                 # None: batch
    finetune_schedule: ScheduleName            # learning-rate schedule of the fine-tuning steps
    restarts: int                              # trainings on different data; the best on validation is kept

    @property
    def steps_per_restart(self) -> int:
        return self.layers * self.steps + self.finetune


def tpg_config(config: Config) -> TPGConfig:
    """The TPG settings of a lab Config."""
    return TPGConfig(layers=config.tpg_layers, steps=config.tpg_steps, batch=config.tpg_batch, lr=config.tpg_lr,
                     loss=config.tpg_loss, finetune=config.tpg_finetune, finetune_loss=config.tpg_finetune_loss,
                     finetune_lr=config.tpg_finetune_lr, finetune_batch=config.tpg_finetune_batch,
                     finetune_schedule=config.tpg_finetune_schedule, restarts=config.tpg_restarts)


def train_tpg(config: TPGConfig, channel: MimoChannel, progress: ProgressFn | None,
              name: str = "tpg-generation") -> tuple[TPG, FitLog]:
    """Incremental training: generation g trains γ_1..g, θ_1..g and α on the MSE of s_g (later layers get no
    gradient); then, optionally, ``finetune`` steps on all T layers (at a tenth of the learning rate unless
    ``finetune_lr`` is set), on ``loss`` or (``finetune_loss=ser``) on :func:`smoothed_symbol_error` of the last
    layer's r."""
    tpg = TPG(config.layers, channel.const).to(channel.device)
    T = config.layers

    loss = mse if config.loss == "mse" else bpsk_cross_entropy
    tau = SER_TEMPERATURE * channel.const.spacing

    def loss_for(g: int):
        if g > T and config.finetune_loss == "ser":
            return lambda model, b: smoothed_symbol_error(model(b.y, b.H, b.noise_var, pre_projection=True), b.x,
                                                          channel.const, tau)
        return lambda model, b: loss(model(b.y, b.H, b.noise_var, layers=min(g, T)), b.x)

    gens = [Generation(list(tpg.parameters()), config.steps, config.lr) for _ in range(T)]
    if config.finetune:
        lr = config.lr / 10 if config.finetune_lr is None else config.finetune_lr
        batch = config.finetune_batch or config.batch
        gens.append(Generation(list(tpg.parameters()), config.finetune, lr, config.finetune_schedule,
                               lambda k: channel.sample(batch)))
    log = train_incremental(tpg, loss_for, lambda k: channel.sample(config.batch), gens, name=name,
                            generators={"data": channel.generator}, progress=progress, skip_nonfinite=True,
                            log_every=max(1, config.steps // 50))
    return tpg, log.as_fit_log()


def validation_ser(tpg: TPG, validation: MimoBatch) -> float:
    """SER of TPG's hard decisions on the validation vectors, counted in batches of EVAL_BATCH vectors."""
    errors = 0
    for i in range(0, validation.y.shape[0], EVAL_BATCH):
        H = validation.H if validation.H.dim() == 2 else validation.H[i:i + EVAL_BATCH]
        x_hat = tpg.detect(validation.y[i:i + EVAL_BATCH], H, validation.noise_var).x_hat
        errors += int((x_hat != validation.x[i:i + EVAL_BATCH]).sum())
    return errors / validation.x.numel()


def train_tpg_restarts(config: TPGConfig, channels: list[MimoChannel], validation: MimoBatch,
                       progress: ProgressFn | None) -> tuple[TPG, FitLog, list[float], int]:
    """:func:`train_tpg` once per channel (restart r draws its training data from ``channels[r]``), then keep
    the TPG with the lowest SER on ``validation``. Returns it, its log, every restart's validation SER and the
    index of the one kept. A restart that is interrupted or diverges ends the search and is the one returned,
    so that the caller sees how training ended."""
    per_restart = config.steps_per_restart
    total = per_restart * len(channels)
    best: tuple[float, TPG, FitLog, int] | None = None
    val_sers: list[float] = []
    for r, channel in enumerate(channels):
        name = "tpg-generation" if r == 0 else f"tpg-restart{r}-generation"
        tpg, log = train_tpg(config, channel, offset_progress(progress, r * per_restart, total), name=name)
        val_sers.append(validation_ser(tpg, validation))
        if best is None or val_sers[-1] < best[0] or log.status != Status.COMPLETED:
            best = (val_sers[-1], tpg, log, r)
        if log.status != Status.COMPLETED:
            break
    _, tpg, log, kept = best  # type: ignore[misc]  # channels is not empty
    return tpg, log, val_sers, kept


# ----- EP-Net -------------------------------------------------------------------------------------------
def train_epnet(config: Config, channel: MimoChannel, progress: ProgressFn | None) -> tuple[EPNet, FitLog]:
    """EP-Net (``epnet_layers`` layers, started at EP with β = 0.9) trained by Adam on fresh batches (for a random
    channel, a new H per vector) for the smoothed symbol error :func:`smoothed_symbol_error` of μ̂ = E_{p_T}[x],
    τ = EPNET_TEMPERATURE × the spacing of the points; the SER counts the hard decision of this μ̂."""
    net = EPNet(config.epnet_layers, channel.const).to(channel.device)
    pts = channel.const.points.to(channel.device, channel.dtype)
    tau = EPNET_TEMPERATURE * channel.const.spacing

    def loss(model: EPNet, b: MimoBatch) -> torch.Tensor:
        mu_hat = model(b.y, b.H, b.noise_var).exp() @ pts  # (b, n)
        return smoothed_symbol_error(mu_hat, b.x, channel.const, tau)

    opt = make_optimizer("adam", net.parameters(), config.epnet_lr)
    trainer = Trainer(net, loss, lambda k: channel.sample(config.epnet_batch), opt, config.epnet_steps, name="epnet",
                      skip_nonfinite=True, generators={"data": channel.generator},
                      log_every=max(1, config.epnet_steps // 200), progress=progress)
    return net, trainer.run()


# ----- all of them, as the lab trains them ---------------------------------------------------------------------
@dataclass
class Trained:
    """The learned detectors and how their training ended (None: not trained)."""

    net: NeuralDetector | None = None
    nn_log: FitLog | None = None
    tpg: TPG | None = None
    tpg_log: FitLog | None = None
    val_sers: list[float] = field(default_factory=list)  # each TPG restart's validation SER
    kept: int = 0  # the restart kept
    epnet: EPNet | None = None
    epnet_log: FitLog | None = None
    status: Status = Status.COMPLETED
    done: int = 0  # training steps counted by the progress (the planned steps of each training that ran)


def train_detectors(config: Config, channel: Callable[[str, int], MimoChannel], train_channel: MimoChannel,
                    device: torch.device, progress: ProgressFn | None, total: int) -> Trained:
    """The NN (when listed) on ``train_channel``, then TPG (when listed and the NN's training completed): restart
    0 on ``train_channel`` (after the NN's draws), restart r on ``channel("train_channel", r)``, compared on
    vectors of ``channel("validation_channel", 0)``; then EP-Net (when listed and the others completed) on
    ``channel("epnet_channel", 0)``. ``total`` is the length of the whole run's progress."""
    out = Trained()
    if "nn" in config.detectors:
        out.net, out.nn_log = train_nn(config, train_channel, generator(config.seed, "init"), device,
                                       offset_progress(progress, 0, total))
        out.done += config.steps
        out.status = out.nn_log.status
    if ("tpg" in config.detectors or "tpgsearch" in config.detectors) and out.status == Status.COMPLETED:
        tpg = tpg_config(config)
        restarts = [train_channel] + [channel("train_channel", r) for r in range(1, tpg.restarts)]
        validation = channel("validation_channel", 0).sample(max(1, VALIDATION_SYMBOLS // config.n))
        out.tpg, out.tpg_log, out.val_sers, out.kept = train_tpg_restarts(
            tpg, restarts, validation, offset_progress(progress, out.done, total))
        out.done += tpg.steps_per_restart * tpg.restarts
        out.status = out.tpg_log.status
    if "epnet" in config.detectors and out.status == Status.COMPLETED:
        out.epnet, out.epnet_log = train_epnet(config, channel("epnet_channel", 0),
                                               offset_progress(progress, out.done, total))
        out.done += config.epnet_steps
        out.status = out.epnet_log.status
    return out
