"""Noise-prediction networks ε̂(x_t, t) for DDPM (lecture 7); each maps (x_t (batch, ...), t (batch,)) to x_t's shape.

- :class:`CourseDenoiser`: the course's network for 2-D points: three "conditional linear" layers
  h ↦ (W h + b) ⊙ γ_t with a learned per-step embedding γ_t ∈ R^width (one row per step t, initialised
  U(0, 1)), softplus after each, then a linear layer to 2. The step enters only through γ_t, so the
  network is tied to the number of steps it was built for.
- :class:`SinusoidalDenoiser`: an MLP on [x_t, e(t)] where e(t) is the sinusoidal embedding of the
  Transformer (Vaswani et al. 2017; used by Ho et al. 2020): e(t)_{2i} = sin(t/10000^{2i/d}),
  e(t)_{2i+1} = cos(·), with SiLU; residual hidden layers.
- :class:`SmallUNet`: a small U-Net (Ronneberger et al. 2015) for 1×28×28 digits: two down-sampling
  levels (28 → 14 → 7), residual blocks with group normalisation, the time embedding added in every block,
  skip connections, as in Ho et al. (2020) without attention; with ``n_classes`` a class embedding is added to
  the time embedding (the class-conditional ε̂(x_t, t, c) of classifier-free guidance).
- :class:`LatentDenoiser`: ε̂(z_t, t, c) on the latent codes z of an autoencoder (latent diffusion, Rombach et
  al. 2022): an MLP of residual blocks h ← h + W SiLU(LN(h)) on [z_t, MLP(e(t)) + E c].

Class-conditional networks take the class c (batch,) as a third argument; the class ``n_classes`` is the null
class ∅ of classifier-free guidance (Ho & Salimans 2022), the label the training drops to.

Every parameter is drawn from an explicit ``torch.Generator`` (PyTorch's default distributions), so a seed
fixes the network without touching the global random state.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


@torch.no_grad()
def init_from(module: nn.Module, generator: torch.Generator | None) -> None:
    """Materialise a module built on the meta device and initialise it from ``generator``.

    PyTorch's defaults: Linear / Conv2d / ConvTranspose2d weights and biases U(±1/√fan_in), Embedding N(0, 1),
    GroupNorm and LayerNorm scale 1 and shift 0. Building on the meta device (``with torch.device("meta"):``) skips
    PyTorch's own initialisation, which would draw from the global generator.
    """
    module.to_empty(device="cpu")
    for m in module.modules():
        if isinstance(m, (nn.GroupNorm, nn.LayerNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            m.weight.normal_(generator=generator)
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            fan_in = m.weight.shape[1] * math.prod(m.weight.shape[2:])
            if isinstance(m, nn.ConvTranspose2d):
                fan_in = m.weight.shape[0] * math.prod(m.weight.shape[2:])
            bound = 1.0 / math.sqrt(fan_in)
            m.weight.uniform_(-bound, bound, generator=generator)
            if m.bias is not None:
                m.bias.uniform_(-bound, bound, generator=generator)


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """e(t) (batch, dim): [sin(t ω_i), cos(t ω_i)] with ω_i = max_period^{−i/(dim/2)}, i = 0..dim/2−1."""
    half = dim // 2
    omega = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angle = t.to(omega.dtype).unsqueeze(1) * omega.unsqueeze(0)  # (batch, half)
    return torch.cat([angle.sin(), angle.cos()], dim=1)  # (batch, 2 half)


class ConditionalLinear(nn.Module):
    """h ↦ (W h + b) ⊙ γ_t: a linear layer whose output is scaled by a learned embedding of the step t."""

    def __init__(self, n_in: int, n_out: int, steps: int) -> None:
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)
        self.embed = nn.Embedding(steps, n_out)

    def forward(self, h: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.lin(h) * self.embed(t.long())  # (batch, n_out)


class CourseDenoiser(nn.Module):
    """The course's ε-network for 2-D points: 3 × (conditional linear, softplus), then linear to 2."""

    def __init__(self, steps: int, width: int = 128, dim: int = 2, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.hparams = {"kind": "course", "steps": steps, "width": width, "dim": dim}
        with torch.device("meta"):
            self.layers = nn.ModuleList([ConditionalLinear(dim, width, steps), ConditionalLinear(width, width, steps),
                                         ConditionalLinear(width, width, steps)])
            self.out = nn.Linear(width, dim)
        init_from(self, generator)
        with torch.no_grad():
            for layer in self.layers:
                layer.embed.weight.uniform_(0.0, 1.0, generator=generator)  # the course: embed.weight.uniform_()

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        h = x  # (batch, dim)
        for layer in self.layers:
            h = F.softplus(layer(h, t))  # (batch, width)
        return self.out(h)  # (batch, dim)


class SinusoidalDenoiser(nn.Module):
    """ε̂ = MLP([e(x_scale · x_1), ..., e(x_scale · x_d), e(t)]) with residual SiLU hidden layers.

    The coordinates get the same sinusoidal embedding as the step (Fourier features, Tancik et al. 2020;
    x_scale = 25 as in tanelp's tiny-diffusion): a small MLP can then resolve a curve 0.05 thick, which it
    cannot from the raw coordinates within a short training. ``x_scale=0`` feeds the raw coordinates.
    Works with any number of steps.
    """

    def __init__(self, width: int = 128, depth: int = 3, dim: int = 2, embed_dim: int = 32, x_scale: float = 25.0,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.hparams = {"kind": "sinusoidal", "width": width, "depth": depth, "dim": dim, "embed_dim": embed_dim,
                        "x_scale": x_scale}
        self.embed_dim, self.x_scale = embed_dim, x_scale
        n_x = dim * embed_dim if x_scale > 0 else dim
        with torch.device("meta"):
            self.inp = nn.Linear(n_x + embed_dim, width)
            self.hidden = nn.ModuleList([nn.Linear(width, width) for _ in range(depth - 1)])
            self.out = nn.Linear(width, dim)
        init_from(self, generator)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.x_scale > 0:
            # every coordinate embedded in one call: rows [e(x_1), ..., e(x_d)]
            x = sinusoidal_embedding(self.x_scale * x.reshape(-1), self.embed_dim).reshape(len(x), -1)  # (b, d·E)
        h = F.silu(self.inp(torch.cat([x, sinusoidal_embedding(t, self.embed_dim)], dim=1)))  # (batch, width)
        for layer in self.hidden:
            h = h + F.silu(layer(h))  # (batch, width)
        return self.out(h)  # (batch, dim)


class ResBlock(nn.Module):
    """GroupNorm, SiLU, 3×3 conv, + time embedding, GroupNorm, SiLU, 3×3 conv, plus a (1×1) skip."""

    def __init__(self, c_in: int, c_out: int, t_dim: int, groups: int = 8) -> None:
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(min(groups, c_in), c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.temb = nn.Linear(t_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(min(groups, c_out), c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))  # (batch, c_out, H, W)
        h = h + self.temb(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class SmallUNet(nn.Module):
    """A small U-Net ε-network for 1×28×28 images (any side divisible by 4): channels c, 2c, 2c at 28, 14, 7."""

    def __init__(self, channels: int = 32, in_channels: int = 1, embed_dim: int = 64, n_classes: int = 0,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.hparams = {"kind": "unet", "channels": channels, "in_channels": in_channels, "embed_dim": embed_dim}
        if n_classes:
            self.hparams["n_classes"] = n_classes
        c, t_dim = channels, 4 * channels
        self.embed_dim, self.n_classes = embed_dim, n_classes
        with torch.device("meta"):
            self.time = nn.Sequential(nn.Linear(embed_dim, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
            if n_classes:  # classes 0..n_classes−1 and the null class n_classes
                self.label = nn.Embedding(n_classes + 1, t_dim)
            self.inp = nn.Conv2d(in_channels, c, 3, padding=1)
            self.down1 = ResBlock(c, c, t_dim)  # 28
            self.pool1 = nn.Conv2d(c, c, 3, stride=2, padding=1)  # 28 -> 14
            self.down2 = ResBlock(c, 2 * c, t_dim)  # 14
            self.pool2 = nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1)  # 14 -> 7
            self.mid = ResBlock(2 * c, 2 * c, t_dim)  # 7
            self.up2 = ResBlock(4 * c, 2 * c, t_dim)  # 14, after the skip of down2
            self.up1 = ResBlock(3 * c, c, t_dim)  # 28, after the skip of down1
            self.out = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, in_channels, 3, padding=1))
        init_from(self, generator)

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        temb = self.time(sinusoidal_embedding(t, self.embed_dim))  # (batch, 4c)
        if self.n_classes:
            temb = temb + self.label(c)
        h0 = self.inp(x)  # (batch, c, 28, 28)
        h1 = self.down1(h0, temb)  # (batch, c, 28, 28)
        h2 = self.down2(self.pool1(h1), temb)  # (batch, 2c, 14, 14)
        h = self.mid(self.pool2(h2), temb)  # (batch, 2c, 7, 7)
        h = F.interpolate(h, scale_factor=2, mode="nearest")  # (batch, 2c, 14, 14)
        h = self.up2(torch.cat([h, h2], dim=1), temb)  # (batch, 2c, 14, 14)
        h = F.interpolate(h, scale_factor=2, mode="nearest")  # (batch, 2c, 28, 28)
        h = self.up1(torch.cat([h, h1], dim=1), temb)  # (batch, c, 28, 28)
        return self.out(h)  # (batch, 1, 28, 28)


class LatentDenoiser(nn.Module):
    """Class-conditional ε̂(z_t, t, c) for latent codes z ∈ R^dim: an MLP of residual blocks.

    e = MLP(e(t)) + E[c] (E: an embedding of the classes and the null class); h = W_in [z_t, e]; then ``depth``
    blocks h ← h + W_k SiLU(LN(h)); output W_out SiLU(h) ∈ R^dim.
    """

    def __init__(self, dim: int, n_classes: int = 10, width: int = 256, depth: int = 3, embed_dim: int = 64,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.hparams = {"kind": "latent", "dim": dim, "n_classes": n_classes, "width": width, "depth": depth,
                        "embed_dim": embed_dim}
        self.embed_dim, self.n_classes = embed_dim, n_classes
        e_dim = 2 * embed_dim
        with torch.device("meta"):
            self.time = nn.Sequential(nn.Linear(embed_dim, e_dim), nn.SiLU())
            self.label = nn.Embedding(n_classes + 1, e_dim)  # the last row: the null class ∅
            self.inp = nn.Linear(dim + e_dim, width)
            self.norms = nn.ModuleList([nn.LayerNorm(width) for _ in range(depth)])
            self.blocks = nn.ModuleList([nn.Linear(width, width) for _ in range(depth)])
            self.out = nn.Linear(width, dim)
        init_from(self, generator)

    def forward(self, z: torch.Tensor, t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        e = self.time(sinusoidal_embedding(t, self.embed_dim)) + self.label(c)  # (batch, 2 embed_dim)
        h = self.inp(torch.cat([z, e], dim=1))  # (batch, width)
        for norm, block in zip(self.norms, self.blocks, strict=True):
            h = h + block(F.silu(norm(h)))
        return self.out(F.silu(h))  # (batch, dim)
