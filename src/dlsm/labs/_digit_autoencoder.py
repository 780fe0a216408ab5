"""The autoencoder of latent diffusion on digits (Rombach et al. 2022, "High-resolution image synthesis with
latent diffusion models"), trained before the diffusion model and frozen.

A :class:`dlsm.models.vae.ConvVAE` is trained on the digits with the loss −E_q[log p(x | z)] + β KL(q(z | x) ‖
N(0, I)) (β < 1: the paper's KL-regularised autoencoder keeps the codes near N(0, I) in scale, with sharp
reconstructions). The diffusion model then sees the standardised codes z = (μ(x) − m) / s, m and s the mean and
standard deviation of each coordinate of μ over the training digits (the paper rescales by one global factor;
per coordinate keeps every coordinate at unit variance, which the N(0, I) end of the forward process assumes).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from dlsm.models.vae import ConvVAE
from dlsm.result import ProgressFn
from dlsm.seeds import generator as stream
from dlsm.training import EpochBatches, FitLog, Trainer, make_optimizer

#: Channels of the autoencoder's first convolution (the second has twice as many).
AE_CHANNELS = 32
AE_BATCH = 128
AE_LR = 2e-3


@dataclass
class Codec:
    """A trained autoencoder and the standardisation of its codes: images (n, 1, 28, 28) in [0, 1] <-> z (n, d)."""

    vae: ConvVAE
    mean: torch.Tensor  # (d,)
    std: torch.Tensor   # (d,)
    log: FitLog
    seconds: float

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Standardised codes (μ(x) − m) / s, (n, d)."""
        return (self.vae.encode(images)[0] - self.mean) / self.std

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean images π(m + s z), (n, 1, 28, 28) in [0, 1]."""
        return self.vae.decode(z * self.std + self.mean)


def train_codec(images: torch.Tensor, latent_dim: int, epochs: float, beta: float, seed: int,
                device: torch.device, progress: ProgressFn | None = None) -> Codec:
    """Train a :class:`ConvVAE` on ``images`` (n, 1, 28, 28) in [0, 1] for ``epochs`` passes (Adam, constant rate:
    measured sharper reconstructions here than a one-cycle schedule of the same peak rate)."""
    g = stream(seed, "autoencoder")  # weights and batches (ε: the stream's second copy)
    vae = ConvVAE(latent_dim, AE_CHANNELS, generator=g).to(device)
    batches = EpochBatches(len(images), AE_BATCH, g, device=device)
    steps = max(1, math.ceil(epochs * batches.per_epoch))
    optimizer = make_optimizer("adam", vae.parameters(), AE_LR)
    eps_gen = stream(seed, "autoencoder", restart=1, device=device)

    def loss_fn(m: ConvVAE, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        _, rec, kl = m.elbo(images[idx], eps_gen)
        return (beta * kl - rec).mean(), {"kl": float(kl.mean().detach())}

    trainer = Trainer(vae, loss_fn, batches, optimizer, steps, name="autoencoder",
                      skip_nonfinite=True,
                      generators={"autoencoder": g, "eps": eps_gen}, log_every=max(1, steps // 200),
                      progress=progress)
    t0 = time.perf_counter()
    log = trainer.run()
    seconds = time.perf_counter() - t0
    vae.eval()
    with torch.no_grad():
        mu = torch.cat([vae.encode(chunk)[0] for chunk in images.split(1000)])  # (n, d)
    return Codec(vae, mu.mean(0), mu.std(0).clamp(min=1e-6), log, seconds)
