"""Compressed sensing forward model y = A x + w with a Bernoulli-Gaussian x (lectures 5 and 6).

- x ∈ Rⁿ: each entry is nonzero with probability p, the nonzero values are N(0, σx²);
- A ∈ R^{m×n}: i.i.d. N(0, 1/m) (``"gauss_1/m"``, columns of unit norm on average, the TISTA paper),
  i.i.d. N(0, 1) (``"gauss_1"``, the course notebook), ±1/√m (``"rademacher"``) or
  A = U diag(s) Vᵀ with Haar U, V and singular values spaced geometrically from s_max to s_max / cond
  (``"cond"``, condition number ``cond``, scaled so that ‖A‖_F² = n like N(0, 1/m));
- w ~ N(0, σw² I_m), with σw given directly (``noise_std``) or by the SNR
  SNR = E‖Ax‖² / E‖w‖² = p σx² ‖A‖_F² / (m σw²) for the drawn A (``snr_db`` = 10 log10 SNR).

Randomness enters only through the ``torch.Generator`` passed in (a CPU generator; the draws are made on
the CPU and moved to ``device``), so the same seed gives the same A and data on every machine.

Reference: D. Ito, S. Takabe, T. Wadayama, "Trainable ISTA for sparse signal recovery",
IEEE Trans. Signal Processing 67(12), 2019 (setting S1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from dlsm.errors import ConfigError
from dlsm.i18n import t

MatrixKind = Literal["gauss_1/m", "gauss_1", "rademacher", "cond"]
MATRIX_KINDS: tuple[str, ...] = ("gauss_1/m", "gauss_1", "rademacher", "cond")


@dataclass(frozen=True)
class SparseSetting:
    """Sizes and statistics of one compressed-sensing problem. Exactly one of ``snr_db`` / ``noise_std``."""

    n: int
    m: int
    p: float
    sigma_x: float = 1.0
    matrix: MatrixKind = "gauss_1/m"
    cond: float | None = None
    snr_db: float | None = None
    noise_std: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n <= 0:
            raise ConfigError(t("cli.err.bad_value", key="n", value=self.n, allowed="int > 0"), key="n")
        if not isinstance(self.m, int) or self.m <= 0:
            raise ConfigError(t("data.err.m_positive", value=repr(self.m)), key="m")
        if not (isinstance(self.p, (int, float)) and 0 < self.p <= 1):
            raise ConfigError(t("cli.err.bad_value", key="p", value=self.p, allowed="0 < p <= 1"), key="p")
        if not (math.isfinite(self.sigma_x) and self.sigma_x > 0):
            raise ConfigError(t("cli.err.bad_value", key="sigma_x", value=self.sigma_x, allowed="float > 0"),
                              key="sigma_x")
        if self.matrix not in MATRIX_KINDS:
            raise ConfigError(t("data.err.matrix_kind", value=repr(self.matrix), kinds=", ".join(MATRIX_KINDS)),
                              key="matrix")
        if self.matrix == "cond" and (self.cond is None or not math.isfinite(self.cond) or self.cond < 1):
            raise ConfigError(t("data.err.cond_finite", value=repr(self.cond)), key="cond")
        if (self.snr_db is None) == (self.noise_std is None):
            raise ConfigError(t("data.err.snr_or_noise", snr_db=repr(self.snr_db), noise_std=repr(self.noise_std)),
                              key="snr_db")
        if self.snr_db is not None and not math.isfinite(self.snr_db):
            raise ConfigError(t("cli.err.bad_value", key="snr_db", value=self.snr_db,
                                allowed=t("data.allowed.finite_db")),
                              key="snr_db")
        if self.noise_std is not None and not (math.isfinite(self.noise_std) and self.noise_std >= 0):
            raise ConfigError(t("cli.err.bad_value", key="noise_std", value=self.noise_std, allowed="float >= 0"),
                              key="noise_std")


SETTINGS: dict[str, SparseSetting] = {
    "S1": SparseSetting(500, 250, 0.1, matrix="gauss_1/m", snr_db=40.0),  # the TISTA paper
    "S2": SparseSetting(300, 150, 0.1, matrix="gauss_1", noise_std=0.05),  # the course notebook (lecture 6)
}


def sensing_matrix(kind: str, m: int, n: int, generator: torch.Generator, cond: float | None = None,
                   dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Draw A (m, n) of the given kind (see the module docstring) on the CPU."""
    if kind == "gauss_1/m":
        return torch.randn(m, n, generator=generator, dtype=dtype) / math.sqrt(m)  # (m, n)
    if kind == "gauss_1":
        return torch.randn(m, n, generator=generator, dtype=dtype)  # (m, n)
    if kind == "rademacher":
        signs = torch.randint(0, 2, (m, n), generator=generator).to(dtype) * 2 - 1  # (m, n)
        return signs / math.sqrt(m)
    if kind == "cond":
        if cond is None or cond < 1:
            raise ConfigError(t("data.err.cond", value=repr(cond)), key="cond")
        r = min(m, n)
        u, _ = torch.linalg.qr(torch.randn(m, r, generator=generator, dtype=dtype))  # (m, r)
        v, _ = torch.linalg.qr(torch.randn(n, r, generator=generator, dtype=dtype))  # (n, r)
        s = cond ** (-torch.arange(r, dtype=dtype) / max(r - 1, 1))  # (r,) from 1 to 1/cond
        s = s * math.sqrt(n / float((s**2).sum()))  # ‖A‖_F² = n
        return (u * s) @ v.T  # (m, n)
    raise ConfigError(t("data.err.matrix_kind", value=repr(kind), kinds=", ".join(MATRIX_KINDS)), key="matrix")


@dataclass
class SparseProblem:
    """One drawn instance: the matrix A, the effective noise level σw, and the prior (p, σx).

    ``noise_std`` is the σw actually used, also when the setting gave an SNR.
    """

    A: torch.Tensor  # (m, n)
    noise_std: float
    p: float
    sigma_x: float = 1.0

    @property
    def n(self) -> int:
        return int(self.A.shape[1])

    @property
    def m(self) -> int:
        return int(self.A.shape[0])

    @property
    def noise_var(self) -> float:
        return self.noise_std**2

    @property
    def snr_db(self) -> float:
        """10 log10(E‖Ax‖² / E‖w‖²) = 10 log10(p σx² ‖A‖_F² / (m σw²)) for this A."""
        if self.noise_std == 0:
            return math.inf
        signal = self.p * self.sigma_x**2 * float((self.A.double() ** 2).sum())
        return 10 * math.log10(signal / (self.m * self.noise_var))

    @classmethod
    def create(cls, setting: SparseSetting, generator: torch.Generator, device: torch.device | str | None = None,
               dtype: torch.dtype = torch.float32) -> SparseProblem:
        """Draw A from ``generator`` and fix σw (from ``noise_std``, or from ``snr_db`` for this A)."""
        A = sensing_matrix(setting.matrix, setting.m, setting.n, generator, setting.cond)  # (m, n) float64
        if setting.noise_std is not None:
            noise_std = float(setting.noise_std)
        else:
            signal = setting.p * setting.sigma_x**2 * float((A**2).sum())  # E‖Ax‖² = p σx² ‖A‖_F²
            noise_std = math.sqrt(signal / (setting.m * 10 ** (setting.snr_db / 10)))
        return cls(A=A.to(device=device, dtype=dtype), noise_std=noise_std, p=float(setting.p),
                   sigma_x=float(setting.sigma_x))

    def draw_x(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """x (batch, n): Bernoulli(p) support times N(0, σx²) values."""
        support = torch.rand(batch, self.n, generator=generator) < self.p  # (batch, n)
        values = torch.randn(batch, self.n, generator=generator) * self.sigma_x  # (batch, n)
        return (values * support).to(device=self.A.device, dtype=self.A.dtype)

    def measure(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """y = A x + w for every row of x (batch, n) -> y (batch, m)."""
        w = torch.randn(x.shape[0], self.m, generator=generator) * self.noise_std  # (batch, m)
        return x @ self.A.T + w.to(device=self.A.device, dtype=self.A.dtype)  # (batch, m)

    def draw(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A fresh batch: x (batch, n) Bernoulli-Gaussian and y = A x + w (batch, m)."""
        if batch <= 0:
            raise ConfigError(t("cli.err.bad_value", key="batch", value=batch, allowed="int > 0"), key="batch")
        x = self.draw_x(batch, generator)  # (batch, n)
        return x, self.measure(x, generator)
