"""Variational autoencoders for 28×28 digits (Kingma & Welling, ICLR 2014).

Encoder q_φ(z | x) = N(μ_φ(x), diag σ_φ²(x)) and decoder p_θ(x | z) = Π_i Bernoulli(x_i; π_θ(z)_i); prior
p(z) = N(0, I). :class:`VAE` has MLPs with one hidden layer of ReLU units (the paper's model);
:class:`ConvVAE` has a convolutional encoder (two stride-2 convolutions, 28 → 14 → 7) and the mirrored
transposed-convolution decoder, the autoencoder that also serves the latent diffusion of lecture 7 (Rombach et
al. 2022 train theirs with a small weight on the KL term, which keeps the latent codes near N(0, I) in scale
without blurring the reconstructions). Training maximises the evidence lower bound

    ELBO(x) = E_q[log p_θ(x | z)] − KL(q_φ(z | x) ‖ p(z))
            ≈ Σ_i [x_i log π_i + (1 − x_i) log(1 − π_i)] − ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²),

with one sample z = μ + σ ⊙ ε, ε ~ N(0, I) (the reparameterisation trick) drawn from an explicit generator.
Grey levels in [0, 1] are used as Bernoulli targets, as is customary for MNIST.

:class:`GaussianMixturePrior` is a prior learned after training (ex-post density estimation, Ghosh et al. 2020):
a Gaussian mixture fitted to the encoder means μ(x), sampled in place of N(0, I).
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


class ConvVAE(VAE):
    """Conv(1→c, 4, /2) SiLU Conv(c→2c, 4, /2) SiLU → (μ, log σ²); latent → 2c×7×7 → ConvT(2c→c) SiLU ConvT(c→1).

    The same ELBO, sampling and decoding as :class:`VAE`; ``channels`` is c.
    """

    def __init__(self, latent_dim: int = 16, channels: int = 32, generator: torch.Generator | None = None) -> None:
        nn.Module.__init__(self)
        self.hparams = {"kind": "conv", "latent_dim": latent_dim, "channels": channels}
        self.latent_dim = latent_dim
        c = channels
        with torch.device("meta"):
            self.encoder = nn.Sequential(nn.Conv2d(1, c, 4, 2, 1), nn.SiLU(), nn.Conv2d(c, 2 * c, 4, 2, 1), nn.SiLU(),
                                         nn.Flatten(), nn.Linear(2 * c * 49, 2 * latent_dim))
            self.decoder = nn.Sequential(nn.Linear(latent_dim, 2 * c * 49), nn.SiLU(), nn.Unflatten(1, (2 * c, 7, 7)),
                                         nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.SiLU(),
                                         nn.ConvTranspose2d(c, 1, 4, 2, 1), nn.Flatten())
        init_from(self, generator)


class GaussianMixturePrior:
    """A learned prior by ex-post density estimation (Ghosh et al., ICLR 2020, "From variational to deterministic
    autoencoders", section 4): after training, a Gaussian mixture

        p̂(z) = Σ_k π_k N(z; m_k, Σ_k),   k = 1 … K, full covariances,

    is fitted by EM (scikit-learn's ``GaussianMixture``, k-means initialisation from ``random_state``) to the
    encoder means μ(x) of the training images, and decoded samples z ~ p̂ replace those of N(0, I). The VAE's
    aggregate posterior q(z) = E_x q(z | x) does not fill N(0, I): a z from N(0, I) can fall in a "hole" between
    the codes of real digits and decode to a blend; p̂ puts its mass where the codes are.

    ``fit`` returns self; the learned state is ``weights_`` (K,), ``means_`` (K, d) and ``scale_tril_`` (K, d, d),
    the Cholesky factors L_k of Σ_k = L_k L_kᵀ, as float64 tensors. ``sample`` draws k ~ Categorical(π) and
    z = m_k + L_k ε, ε ~ N(0, I), from an explicit generator (the global random state is never used).
    """

    def __init__(self, n_components: int = 10, random_state: int = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, codes: torch.Tensor) -> GaussianMixturePrior:
        """Fit the mixture to ``codes`` (n, d); needs n ≥ n_components."""
        from sklearn.mixture import GaussianMixture  # imported here: scikit-learn is slow to import

        gm = GaussianMixture(self.n_components, covariance_type="full", random_state=self.random_state)
        gm.fit(codes.detach().to("cpu", torch.float64).numpy())
        self.weights_ = torch.from_numpy(gm.weights_)                             # (K,)
        self.means_ = torch.from_numpy(gm.means_)                                 # (K, d)
        self.scale_tril_ = torch.linalg.cholesky(torch.from_numpy(gm.covariances_))  # (K, d, d)
        return self

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n codes z ~ p̂ (n, d), float32 on the CPU; ``generator`` is a CPU generator."""
        k = torch.multinomial(self.weights_, n, replacement=True, generator=generator)  # (n,) components
        eps = torch.randn((n, self.means_.shape[1]), generator=generator, dtype=torch.float64)  # (n, d)
        z = self.means_[k] + (self.scale_tril_[k] @ eps.unsqueeze(-1)).squeeze(-1)  # (n, d)
        return z.float()
