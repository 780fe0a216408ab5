"""A variational autoencoder for 28×28 digits (Kingma & Welling, ICLR 2014).

Encoder q_φ(z | x) = N(μ_φ(x), diag σ_φ²(x)) and decoder p_θ(x | z) = Π_i Bernoulli(x_i; π_θ(z)_i), both MLPs
with one hidden layer of ReLU units; prior p(z) = N(0, I). Training maximises the evidence lower bound

    ELBO(x) = E_q[log p_θ(x | z)] − KL(q_φ(z | x) ‖ p(z))
            ≈ Σ_i [x_i log π_i + (1 − x_i) log(1 − π_i)] − ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²),

with one sample z = μ + σ ⊙ ε, ε ~ N(0, I) (the reparameterisation trick) drawn from an explicit generator.
Grey levels in [0, 1] are used as Bernoulli targets, as is customary for MNIST.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlsm.models.denoisers import init_from


class VAE(nn.Module):
    """784 → hidden → (μ, log σ²) ∈ R^{2·latent}; latent → hidden → 784 Bernoulli logits."""

    def __init__(self, latent_dim: int = 2, hidden: int = 400, n_pixels: int = 784,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.hparams = {"latent_dim": latent_dim, "hidden": hidden, "n_pixels": n_pixels}
        self.latent_dim = latent_dim
        with torch.device("meta"):  # initialised from the generator by init_from, not by PyTorch
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(n_pixels, hidden), nn.ReLU(),
                                         nn.Linear(hidden, 2 * latent_dim))
            self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_pixels))
        init_from(self, generator)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """μ, log σ² (batch, latent) of q(z | x) for images x (batch, 1, 28, 28)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (batch, 784) Bernoulli logits

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Mean image π_θ(z) (batch, 1, 28, 28) in [0, 1]."""
        return torch.sigmoid(self.decoder(z)).reshape(len(z), 1, 28, 28)

    def elbo(self, x: torch.Tensor, generator: torch.Generator | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-image ELBO, reconstruction log-likelihood and KL term, each (batch,), in nats."""
        mu, logvar = self.encode(x)  # (batch, latent) each
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + (0.5 * logvar).exp() * eps
        logits = self.decode_logits(z)  # (batch, 784)
        rec = -F.binary_cross_entropy_with_logits(logits, x.reshape(len(x), -1), reduction="none").sum(1)
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
        return rec - kl, rec, kl

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
        """Mean images of z ~ N(0, I) from the prior: (n, 1, 28, 28) in [0, 1]."""
        z = torch.randn((n, self.latent_dim), generator=generator, device=device)
        return self.decode(z)
