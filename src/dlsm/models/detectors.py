"""Trained MIMO detectors for y = H x + w, with the same call as the classical ones:
``detector.detect(y, H, noise_var)`` -> :class:`~dlsm.algorithms.detectors.Detection`.

- :class:`NeuralDetector`: the course's MLP m-50-50-n with ReLU and a tanh output, trained on MSE; it sees y
  only (it learns one fixed H), or y and the entries of H (``channel_input=True``, for random H).
- :class:`TPG`: the trainable projected-gradient detector (Takabe, Imanishi, Wadayama, Hayakawa, Hayashi,
  "Trainable projected gradient detector for massive overloaded MIMO channels: data-driven tuning approach",
  IEEE Access 2019): s_0 = 0 and for t = 0..T-1

      r_t = s_t + γ_t W (y − H s_t),   W = Hᵀ(HHᵀ + α I)⁻¹,
      s_{t+1} = ψ_{θ_t}(r_t)          (soft projection: tanh(r/θ_t) for BPSK),

  with trainable γ_t, θ_t and α, all positive by construction (softplus of a free parameter), and α in
  units of σ² (α = a σ²; a = 1 makes the first step with γ_0 = 1 the LMMSE estimate). Trained incrementally.
- :class:`TPGSearch`: TPG followed by a local ML search over the 2^p candidates obtained by replacing the p
  least reliable symbols of TPG's decision by their second-nearest point (the stretch goal).
- :class:`EPNet`: expectation propagation (Céspedes et al. 2014, :class:`~dlsm.algorithms.detectors.EP`) unfolded
  into T layers with a learned damping β_t ∈ (0, 1) and a learned scale ξ_t > 0 of the cavity variance seen by the
  moment matching per layer; with β_t = β and ξ_t = 1 it is EP itself (issue 25, item 5).

  Why EP and not OAMP-Net2 (He, Wen, Jin, Li 2020): at 4×4 BPSK, σ = 0.5, random H, EP alone is already 1.4 × ML
  while OAMP (Ma & Ping 2017) is an LMMSE-plus-denoiser iteration whose de-correlation assumes large i.i.d. H; for
  a few antennas EP's exact Gaussian posterior (an n × n inverse per layer) is the better starting point, and
  learned damping is where EP loses most (a fixed β is a compromise between slow and oscillating updates).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from dlsm.algorithms.detectors import Detection, ep_iteration, ep_start
from dlsm.models.mlp import MLP
from dlsm.problems.mimo import Constellation


def inverse_softplus(v: float) -> float:
    """u with softplus(u) = v > 0."""
    return v + math.log(-math.expm1(-v))


class NeuralDetector(nn.Module):
    """x̂ = A · tanh-MLP(input), A = the largest |point| of C; input = y (b, m) or [y, vec H] (b, m + m n)."""

    def __init__(self, n: int, m: int, const: Constellation, hidden: Sequence[int] = (50, 50),
                 channel_input: bool = False, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.n, self.m, self.const, self.channel_input = n, m, const, channel_input
        in_dim = m + (m * n if channel_input else 0)
        self.mlp = MLP((in_dim, *hidden, n), "relu", output_activation="tanh", generator=generator)
        self.amplitude = float(const.points.abs().max())

    def forward(self, y: torch.Tensor, H: torch.Tensor | None = None) -> torch.Tensor:
        inp = y
        if self.channel_input:
            if H is None:
                raise ValueError("this detector was built with channel_input=True and needs H")
            Hb = H.expand(y.shape[0], *H.shape) if H.dim() == 2 else H  # (b, m, n)
            inp = torch.cat([y, Hb.flatten(1)], dim=1)  # (b, m + m n)
        return self.amplitude * self.mlp(inp)  # (b, n)

    @torch.no_grad()
    def detect(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        soft = self(y, H)
        return Detection(self.const.decide(soft), soft)


class TPG(nn.Module):
    """The trainable projected-gradient detector with ``layers`` = T iterations (see the module docstring)."""

    def __init__(self, layers: int, const: Constellation, gamma0: float = 1.0, theta0: float = 1.0,
                 alpha0: float = 1.0) -> None:
        super().__init__()
        self.layers, self.const = layers, const
        self.gamma_raw = nn.Parameter(torch.full((layers,), inverse_softplus(gamma0)))
        self.theta_raw = nn.Parameter(torch.full((layers,), inverse_softplus(theta0)))
        self.alpha_raw = nn.Parameter(torch.tensor(inverse_softplus(alpha0)))

    @property
    def gamma(self) -> torch.Tensor:
        return F.softplus(self.gamma_raw)  # (T,) > 0

    @property
    def theta(self) -> torch.Tensor:
        return F.softplus(self.theta_raw)  # (T,) > 0

    @property
    def alpha(self) -> torch.Tensor:
        """a in α = a σ² (> 0)."""
        return F.softplus(self.alpha_raw)

    def forward(self, y: torch.Tensor, H: torch.Tensor, noise_var: float | torch.Tensor,
                layers: int | None = None, pre_projection: bool = False) -> torch.Tensor:
        """s_T (b, n) after the first ``layers`` iterations (all T by default); with ``pre_projection``, the
        last r_{T-1} instead (its hard decision is the same, and a smoothed symbol error is measured on it)."""
        T = self.layers if layers is None else layers
        b, m = y.shape
        Hb = H.expand(b, *H.shape) if H.dim() == 2 else H  # (b, m, n)
        s2 = torch.as_tensor(noise_var, dtype=y.dtype, device=y.device).reshape(-1, 1, 1)
        G = Hb @ Hb.transpose(1, 2) + self.alpha * s2 * torch.eye(m, dtype=y.dtype, device=y.device)  # (b, m, m)
        W = torch.linalg.solve(G, Hb).transpose(1, 2)  # (b, n, m) = Hᵀ G⁻¹
        gamma, theta = self.gamma, self.theta
        s = r = y.new_zeros(b, Hb.shape[-1])  # (b, n)
        for t in range(T):
            resid = y - (Hb @ s.unsqueeze(-1)).squeeze(-1)  # (b, m)
            r = s + gamma[t] * (W @ resid.unsqueeze(-1)).squeeze(-1)  # (b, n)
            s = self.const.soft_projection(r, theta[t])  # (b, n)
        return r if pre_projection else s

    @torch.no_grad()
    def detect(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        soft = self(y, H, noise_var)
        return Detection(self.const.decide(soft), soft)


class TPGSearch:
    """A trained TPG, then ML among 2^p candidates: TPG's decision with any subset of its p least reliable
    symbols (largest |s_i − x̂_i| / distance to the second-nearest point) moved to their second-nearest point.

    p = 0 is TPG; p = n with BPSK is exhaustive ML. Cost: T TPG iterations plus 2^p metrics ‖y − Hx‖².
    """

    def __init__(self, tpg: TPG, flips: int) -> None:
        self.tpg, self.flips, self.const = tpg, flips, tpg.const

    @torch.no_grad()
    def detect(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        soft = self.tpg(y, H, noise_var)  # (b, n)
        b, n = soft.shape
        p = min(self.flips, n)
        pts = self.const.points.to(soft.device, soft.dtype)
        dist = (soft.unsqueeze(-1) - pts).abs()  # (b, n, |C|)
        order = dist.argsort(-1)
        first, second = pts[order[..., 0]], pts[order[..., 1]]  # (b, n)
        gap = dist.gather(-1, order[..., 1:2]).squeeze(-1) - dist.gather(-1, order[..., :1]).squeeze(-1)  # (b, n)
        if p == 0:
            return Detection(first, soft)
        weak = gap.topk(p, dim=1, largest=False).indices  # (b, p): least reliable symbols
        subsets = torch.cartesian_prod(*([torch.tensor([False, True], device=soft.device)] * p)).reshape(-1, p)
        mask = torch.zeros(subsets.shape[0], b, n, dtype=torch.bool, device=soft.device)  # (S, b, n)
        mask.scatter_(2, weak.unsqueeze(0).expand(subsets.shape[0], b, p), subsets.unsqueeze(1).expand(-1, b, p))
        cands = torch.where(mask, second, first)  # (S, b, n)
        Hb = H.expand(b, *H.shape) if H.dim() == 2 else H  # (b, m, n)
        metric = ((y.unsqueeze(0) - (Hb.unsqueeze(0) @ cands.unsqueeze(-1)).squeeze(-1)) ** 2).sum(-1)  # (S, b)
        best = metric.argmin(0)  # (b,)
        x_hat = cands[best, torch.arange(b, device=soft.device)]  # (b, n)
        return Detection(x_hat, soft)


class EPNet(nn.Module):
    """EP unfolded into ``layers`` = T layers; layer t is one EP iteration (see
    :class:`~dlsm.algorithms.detectors.EP`) with its own damping β_t and cavity-variance scale ξ_t:

        Σ = (HᵀH/σ² + diag λ)⁻¹,  μ = Σ (Hᵀy/σ² + γ),  h²_i = Σ_ii / (1 − Σ_ii λ_i),  t_i = h²_i (μ_i/Σ_ii − γ_i)
        p_t(x_i = s) ∝ exp(−(t_i − s)² / (2 ξ_t h²_i)),  μ̂_i, σ̂²_i = its mean and variance
        λ_i ← β_t (1/σ̂²_i − 1/h²_i) + (1 − β_t) λ_i,  γ_i ← β_t (μ̂_i/σ̂²_i − t_i/h²_i) + (1 − β_t) γ_i

    (updates giving λ_i <= 0 are skipped, as in EP). β_t = sigmoid(free parameter), ξ_t = softplus(free
    parameter); at the defaults (β_t = ``beta0`` = EP's 0.9, ξ_t = 1) the network equals EP with T iterations.
    The forward pass returns log p_T (b, n, |C|), the last layer's symbol posteriors: their cross-entropy with
    the sent symbols is the training loss, their mean μ̂ the soft output, and x̂ its nearest point.
    """

    def __init__(self, layers: int, const: Constellation, beta0: float = 0.9, min_var: float = 5e-7) -> None:
        super().__init__()
        if not 0 < beta0 < 1:
            raise ValueError(f"beta0 must lie in (0, 1), got {beta0}")
        self.layers, self.const, self.min_var = layers, const, min_var
        # float64 (2T scalars), so that β_t and ξ_t at their start are β and 1 to rounding; cast in forward
        self.beta_raw = nn.Parameter(torch.full((layers,), math.log(beta0 / (1 - beta0)), dtype=torch.float64))
        self.xi_raw = nn.Parameter(torch.full((layers,), inverse_softplus(1.0), dtype=torch.float64))

    @property
    def beta(self) -> torch.Tensor:
        return torch.sigmoid(self.beta_raw)  # (T,) in (0, 1)

    @property
    def xi(self) -> torch.Tensor:
        return F.softplus(self.xi_raw)  # (T,) > 0

    def forward(self, y: torch.Tensor, H: torch.Tensor, noise_var: float | torch.Tensor) -> torch.Tensor:
        """log p_T(x_i = s) (b, n, |C|) after the T layers."""
        A, c, lam, gam = ep_start(y, H, noise_var, self.const)
        pts = self.const.points.to(y.device, y.dtype)  # (|C|,)
        beta = self.beta.to(y.dtype)
        xi = self.xi.to(y.dtype)
        logp = torch.log_softmax(y.new_zeros(*lam.shape, pts.numel()), dim=-1)  # (b, n, |C|), uniform before layer 1
        for k in range(self.layers):
            lam, gam, logw, _ = ep_iteration(A, c, lam, gam, pts, beta[k], self.min_var, xi[k])
            logp = torch.log_softmax(logw, dim=-1)
        return logp

    @torch.no_grad()
    def detect(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        soft = self(y, H, noise_var).exp() @ self.const.points.to(y.device, y.dtype)  # μ̂ (b, n)
        return Detection(self.const.decide(soft), soft)


def symbol_cross_entropy(logp: torch.Tensor, x: torch.Tensor, const: Constellation) -> torch.Tensor:
    """−(1/(b n)) Σ log p(x_i): the cross-entropy of symbol posteriors logp (b, n, |C|) with the sent x (b, n)."""
    k = torch.bucketize(x.contiguous(), const.boundaries.to(x.device, x.dtype))  # index of the sent point
    return -logp.gather(-1, k.unsqueeze(-1)).mean()


__all__ = ["EPNet", "TPG", "NeuralDetector", "TPGSearch", "inverse_softplus", "symbol_cross_entropy"]
