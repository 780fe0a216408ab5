"""Data augmentation for image batches: random label-preserving changes drawn from an explicit generator.

Every function takes a batch x (N, C, H, W) with pixels in [0, 1] and a CPU ``torch.Generator``; each image
gets its own random draw. The draws are made on the CPU (so a seed gives the same augmentation on any device)
and the images are transformed where they live.

- :func:`random_shift`: translate by whole pixels, zeros outside (digits: ±2 pixels, LeCun et al. 1998);
- :func:`random_rotate`: rotate by a small angle about the centre (bilinear, zeros outside);
- :func:`random_flip`: mirror left-right with probability 1/2 (photos: a cat facing left is still a cat);
- :func:`random_crop`: pad by reflection and cut a random window of the original size (the CIFAR recipe of
  He et al. 2016: pad 4, crop 32x32), i.e. a shift that fills with the mirrored border instead of zeros;
- :func:`colour_jitter`: random brightness, contrast and saturation factors in [1 - s, 1 + s]
  (torchvision's ``ColorJitter`` formulas), clipped to [0, 1].

:class:`Augment` bundles the settings of a lab and applies them in that order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: ITU-R 601 luma weights (what Pillow's convert("L") and torchvision's rgb_to_grayscale use).
LUMA = (0.299, 0.587, 0.114)


def shift_images(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Translate image i by (dy_i, dx_i) whole pixels (down, right), filling with zeros:

        out[i, c, r, s] = x[i, c, r - dy_i, s - dx_i]  (0 outside the image)

    x (N, C, H, W); dy, dx (N,) integers with |d| ≤ max(H, W).
    """
    n, _, h, w = x.shape
    p = int(max(dy.abs().max(), dx.abs().max())) if n else 0
    padded = F.pad(x, (p, p, p, p))                                            # (N, C, H+2p, W+2p)
    return _window(padded, p - dy.to(x.device), p - dx.to(x.device), h, w)


def _window(padded: torch.Tensor, top: torch.Tensor, left: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """out[i] = padded[i, :, top_i : top_i + h, left_i : left_i + w]; top, left (N,)."""
    n = len(padded)
    rows = torch.arange(h, device=padded.device)[None, :] + top[:, None]      # (N, H)
    cols = torch.arange(w, device=padded.device)[None, :] + left[:, None]     # (N, W)
    i = torch.arange(n, device=padded.device)[:, None, None]                  # (N, 1, 1)
    out = padded[i, :, rows[:, :, None], cols[:, None, :]]                    # (N, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()                               # (N, C, H, W)


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image shifted by offsets drawn uniformly from {-max_shift, ..., max_shift}² (CPU generator)."""
    d = torch.randint(-max_shift, max_shift + 1, (2, len(x)), generator=generator).to(x.device)  # (2, N)
    return shift_images(x, d[0], d[1])


def rotate_images(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate image i by ``angles[i]`` radians about its centre (bilinear, zeros outside):

        out(p) = x(R(-θ_i) p),  p = pixel position relative to the centre

    in the normalised coordinates of ``F.affine_grid`` (for non-square images a slight shear). (N, C, H, W).
    """
    cos, sin = angles.cos(), angles.sin()                                       # (N,)
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)  # (N, 2, 3)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)  # (N, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_rotate(x: torch.Tensor, max_degrees: float, generator: torch.Generator) -> torch.Tensor:
    """Each image rotated by an angle drawn uniformly from [-max_degrees, max_degrees] (CPU generator)."""
    u = torch.rand(len(x), generator=generator)                                 # (N,)
    return rotate_images(x, (2 * u - 1) * math.radians(max_degrees))


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image mirrored left-right (x[..., ::-1]) with probability 1/2."""
    flip = (torch.rand(len(x), generator=generator) < 0.5).to(x.device)        # (N,)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def random_crop(x: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Pad each image by ``pad`` pixels (reflecting the border) and cut an H×W window at a random offset
    in {0, ..., 2 pad}² (CPU generator): a shift by up to ±pad pixels that keeps the background."""
    if pad <= 0:
        return x
    n, _, h, w = x.shape
    pad = min(pad, h - 1, w - 1)  # reflection needs pad < size
    offsets = torch.randint(0, 2 * pad + 1, (2, n), generator=generator).to(x.device)  # (2, N)
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")                   # (N, C, H+2p, W+2p)
    return _window(padded, offsets[0], offsets[1], h, w)


def grey(x: torch.Tensor) -> torch.Tensor:
    """Luma of RGB images (N, 3, H, W) -> (N, 1, H, W); grey images are returned as they are."""
    if x.shape[1] != 3:
        return x
    w = torch.tensor(LUMA, device=x.device, dtype=x.dtype)[None, :, None, None]  # (1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def colour_jitter(x: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Random brightness b, contrast c and saturation s, each uniform in [1 - strength, 1 + strength]:

        x ↦ b x;   x ↦ c x + (1 - c) mean(grey(x));   x ↦ s x + (1 - s) grey(x)   (saturation: RGB only)

    each clipped to [0, 1], in this order (torchvision's ``adjust_brightness/contrast/saturation``).
    """
    if strength <= 0:
        return x
    n = len(x)
    b, c, s = (1 + strength * (2 * torch.rand(3, n, generator=generator) - 1)).to(x.device, x.dtype)  # (N,) each
    x = (x * b[:, None, None, None]).clamp(0, 1)
    mean = grey(x).mean(dim=(1, 2, 3), keepdim=True)                          # (N, 1, 1, 1)
    x = (c[:, None, None, None] * x + (1 - c[:, None, None, None]) * mean).clamp(0, 1)
    if x.shape[1] == 3:
        x = (s[:, None, None, None] * x + (1 - s[:, None, None, None]) * grey(x)).clamp(0, 1)
    return x


@dataclass(frozen=True)
class Augment:
    """A lab's augmentation settings; ``augment(x, generator)`` applies them (flip, crop, shift, rotate, jitter).

    Each setting off (0 / False) draws nothing from the generator, so a run without it draws exactly as before.
    """

    shift: int = 0
    rotate: float = 0.0
    flip: bool = False
    crop: int = 0
    jitter: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.shift or self.rotate or self.flip or self.crop or self.jitter)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.flip:
            x = random_flip(x, generator)
        if self.crop:
            x = random_crop(x, self.crop, generator)
        if self.shift:
            x = random_shift(x, self.shift, generator)
        if self.rotate:
            x = random_rotate(x, self.rotate, generator)
        if self.jitter:
            x = colour_jitter(x, self.jitter, generator)
        return x

    def describe(self) -> str:
        parts = ["flips" if self.flip else "", f"crops ±{self.crop} px" if self.crop else "",
                 f"shifts ±{self.shift} px" if self.shift else "",
                 f"rotations ±{self.rotate:g}°" if self.rotate else "",
                 f"colour jitter ±{100 * self.jitter:.0f} %" if self.jitter else ""]
        return ", ".join(p for p in parts if p) or "none"
