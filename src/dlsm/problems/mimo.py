"""The real-valued MIMO channel of lecture 6: y = H x + w.

- x ∈ Cⁿ, each symbol drawn uniformly from a PAM constellation C with unit average energy
  E|x_i|² = 1: BPSK {±1} (the course) or 4-PAM {±1, ±3}/√5;
- H (m, n) with i.i.d. N(0, 1) entries, m receive and n transmit antennas; fixed once (the course) or
  drawn anew for every vector (``channel=random``); n > m is an overloaded system;
- w ~ N(0, σ² I_m).

The SNR per receive antenna is E‖Hx‖² / E‖w‖² = n E|x_i|² / σ² = n / σ², so a given SNR in dB sets
σ² = n · 10^(-SNR/10) (the course's 4×4 channel with σ = 0.5 is at 10 log10(16) ≈ 12.04 dB).

:func:`monte_carlo_ser` estimates a detector's symbol error rate by drawing batches until it has seen a
target number of errors or spent a symbol budget, and gives a Wilson confidence interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.metrics import ser_confidence_interval


@dataclass(frozen=True)
class Constellation:
    """A real PAM constellation: ``points`` (K,) in increasing order, unit average energy."""

    name: str
    points: torch.Tensor  # (K,)

    @property
    def size(self) -> int:
        return int(self.points.numel())

    @property
    def energy(self) -> float:
        """Average symbol energy E|x|² (1 for the constellations here)."""
        return float((self.points**2).mean())

    @property
    def spacing(self) -> float:
        """Smallest distance between two neighbouring points (2 for BPSK, 2/√5 for 4-PAM)."""
        return float((self.points[1:] - self.points[:-1]).min())

    @property
    def boundaries(self) -> torch.Tensor:
        """Decision thresholds between neighbouring points (K-1,)."""
        return (self.points[1:] + self.points[:-1]) / 2

    def decide(self, x: torch.Tensor) -> torch.Tensor:
        """Nearest point of C for every entry of x (hard decision; sign(x) for BPSK)."""
        p = self.points.to(x.device, x.dtype)
        idx = torch.bucketize(x.contiguous(), self.boundaries.to(x.device, x.dtype))  # same shape as x
        return p[idx]

    def soft_projection(self, r: torch.Tensor, theta: torch.Tensor | float) -> torch.Tensor:
        """Smooth staircase onto C: p_1 + Σ_k (p_{k+1} - p_k)/2 · (1 + tanh((r - b_k)/θ)); tanh(r/θ) for BPSK.

        θ → 0 gives the hard decision; the projection of the TPG detector (Takabe et al. 2019).
        """
        p = self.points.to(r.device, r.dtype)
        b = self.boundaries.to(r.device, r.dtype)
        steps = (p[1:] - p[:-1]) / 2  # (K-1,)
        u = torch.tanh((r.unsqueeze(-1) - b) / torch.as_tensor(theta, dtype=r.dtype, device=r.device).unsqueeze(-1))
        return (p[0] + steps.sum()) + (steps * u).sum(-1)  # same shape as r

    def all_vectors(self, n: int) -> torch.Tensor:
        """Every vector of Cⁿ, (K**n, n) (for maximum likelihood by exhaustive search)."""
        grids = torch.cartesian_prod(*([self.points] * n)) if n > 1 else self.points[:, None]
        return grids.reshape(-1, n)


def constellation(name: str) -> Constellation:
    """``bpsk`` ({-1, +1}) or ``pam4`` ({-3, -1, 1, 3}/√5)."""
    if name == "bpsk":
        return Constellation("bpsk", torch.tensor([-1.0, 1.0], dtype=torch.float64))
    if name == "pam4":
        return Constellation("pam4", torch.tensor([-3.0, -1.0, 1.0, 3.0], dtype=torch.float64) / math.sqrt(5.0))
    raise ConfigError.not_one_of("modulation", name, ("bpsk", "pam4"))


def noise_var_from_snr(snr_db: float, n: int, energy: float = 1.0) -> float:
    """σ² such that the SNR per receive antenna n E|x|² / σ² equals ``snr_db`` dB."""
    if not math.isfinite(snr_db):
        raise ConfigError(t("cli.err.bad_value", key="snr_db", value=snr_db, allowed=t("data.allowed.finite_db")),
                          key="snr_db")
    return n * energy * 10.0 ** (-snr_db / 10.0)


def snr_db_from_noise_var(noise_var: float, n: int, energy: float = 1.0) -> float:
    """The SNR per receive antenna, 10 log10(n E|x|² / σ²), in dB."""
    return 10.0 * math.log10(n * energy / noise_var)


def check_sizes(n: int, m: int) -> None:
    """ConfigError unless n >= 1 and m >= 1."""
    for key, v in (("n", n), ("m", m)):
        if not isinstance(v, int) or v < 1:
            raise ConfigError(t("data.err.antennas", key=key, value=repr(v)), key=key)


def draw_channel(n: int, m: int, generator: torch.Generator, batch: int | None = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """H with i.i.d. N(0, 1) entries: (m, n), or (batch, m, n) when ``batch`` is given."""
    check_sizes(n, m)
    shape = (m, n) if batch is None else (batch, m, n)
    return torch.randn(shape, generator=generator, dtype=dtype)


@dataclass(frozen=True)
class MimoBatch:
    """One batch of transmissions: x (b, n), H (m, n) or (b, m, n), y (b, m), noise variance σ²."""

    x: torch.Tensor
    H: torch.Tensor
    y: torch.Tensor
    noise_var: float


class MimoChannel:
    """Draws batches (x, H, y) of y = H x + w; H is ``H_fixed`` when given, else new per vector.

    Random draws come from ``generator`` (on the CPU, so that numbers do not depend on the device); the
    batch is then moved to ``device``.
    """

    def __init__(self, n: int, m: int, const: Constellation, noise_var: float, generator: torch.Generator,
                 H_fixed: torch.Tensor | None = None, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> None:
        check_sizes(n, m)
        if not (math.isfinite(noise_var) and noise_var > 0):
            raise ConfigError(t("data.err.noise_variance", value=repr(noise_var)), key="noise_std")
        self.n, self.m, self.const, self.noise_var = n, m, const, float(noise_var)
        self.generator, self.H_fixed, self.dtype = generator, H_fixed, dtype
        self.device = torch.device(device)

    def sample(self, batch: int, noise_var: float | None = None) -> MimoBatch:
        s2 = self.noise_var if noise_var is None else float(noise_var)
        g = self.generator
        idx = torch.randint(0, self.const.size, (batch, self.n), generator=g)  # (b, n)
        x = self.const.points.to(self.dtype)[idx]  # (b, n)
        if self.H_fixed is not None:
            H = self.H_fixed.to(self.dtype).cpu()  # (m, n)
            Hx = x @ H.T  # (b, m)
        else:
            H = draw_channel(self.n, self.m, g, batch, self.dtype)  # (b, m, n)
            Hx = (H @ x.unsqueeze(-1)).squeeze(-1)  # (b, m)
        w = math.sqrt(s2) * torch.randn((batch, self.m), generator=g, dtype=self.dtype)  # (b, m)
        d = self.device
        return MimoBatch(x.to(d), H.to(d), (Hx + w).to(d), s2)


def symbol_error_rate_zf_bpsk(H: torch.Tensor, noise_var: float) -> float:
    """Exact SER of zero forcing with BPSK on a fixed H (m >= n, full column rank):

        SER = (1/n) Σ_i Q(1 / (σ √[(HᵀH)⁻¹]_ii)),  Q(u) = ½ erfc(u/√2),

    since x̃ = H⁺y = x + H⁺w and stream i's noise has variance σ² [(HᵀH)⁻¹]_ii.
    """
    H = H.to(torch.float64)
    d = torch.linalg.inv(H.T @ H).diagonal()  # (n,)
    u = 1.0 / torch.sqrt(noise_var * d)
    return float((0.5 * torch.erfc(u / math.sqrt(2.0))).mean())


@dataclass(frozen=True)
class SerEstimate:
    """A Monte-Carlo SER: ``errors`` wrong symbols out of ``symbols``, with a ``level`` confidence interval."""

    errors: int
    symbols: int
    low: float
    high: float
    level: float

    @property
    def ser(self) -> float:
        return self.errors / self.symbols if self.symbols else math.nan


#: ``detect(y, H, noise_var)`` -> hard symbols (b, n): the uniform call of every detector.
DetectFn = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]


def monte_carlo_ser(detectors: Mapping[str, DetectFn], channel: MimoChannel, *, target_errors: int,
                    max_symbols: int, batch: int = 10_000, noise_var: float | None = None,
                    level: float = 0.95) -> dict[str, SerEstimate]:
    """SER of several detectors on the same draws: each stops after ``target_errors`` symbol errors or
    ``max_symbols`` symbols, whichever comes first (all see the same vectors while they run, so their
    ratios are measured more precisely than their values).

    The interval is the Wilson interval of ``errors`` out of ``symbols`` (symbols of one vector share a
    channel and a noise draw, so with random H the interval is slightly optimistic).
    """
    if target_errors < 1 or max_symbols < 1:
        raise ValueError(f"need target_errors >= 1 and max_symbols >= 1, got {target_errors}, {max_symbols}")
    errors = dict.fromkeys(detectors, 0)
    symbols = dict.fromkeys(detectors, 0)
    active = set(detectors)
    while active:
        b = max(1, min(batch, math.ceil(max(max_symbols - symbols[k] for k in active) / channel.n)))
        data = channel.sample(b, noise_var)
        for name in sorted(active):
            with torch.no_grad():
                x_hat = detectors[name](data.y, data.H, data.noise_var)  # (b, n)
            errors[name] += int((x_hat.to(data.x.dtype) != data.x).sum())
            symbols[name] += data.x.numel()
            if errors[name] >= target_errors or symbols[name] >= max_symbols:
                active.discard(name)
    out = {}
    for name in detectors:
        low, high = ser_confidence_interval(errors[name], symbols[name], level)
        out[name] = SerEstimate(errors[name], symbols[name], low, high, level)
    return out
