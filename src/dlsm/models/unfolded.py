"""Deep-unfolded sparse recovery: T iterations of ISTA / AMP-like algorithms as layers with learned parameters.

Every network here maps measurements y (batch, m) to estimates x̂ (batch, n); the matrix A is a buffer fixed
by the constructor (the forward model draws y = A x + w; the noise is never drawn inside a network).
``forward(y, layers=g)`` runs the first g layers (incremental training trains generation g on that output),
``trajectory(y)`` returns every layer's output, ``layer_params(t)`` the parameters of layer t (0-based) and
``init_layer_from(t)`` copies layer t-1's parameters into layer t (each new generation starts from the last).

- :class:`DUISTA` (the course): r_t = s_t + β_t Aᵀ(y - A s_t), s_{t+1} = η_soft(r_t; λ_t), with β_t in units
  of 1/L and positive by construction: β_t = exp(b_t)/L, or β_t = β_max sigmoid(b_t)/L with a cap β_max; and
  λ_t = exp(l_t) (positive). With β_max = 2 every layer is non-expansive, so no test signal can blow up, but
  the steps stay far from what the true support allows (its restricted condition number is about 7 on S2).
  Without a cap, with the NMSE in dB as the loss (the lab's default) and all layers trained at once
  (``incremental=false``), the last layer learns a huge step (β_T L ≈ 65-85 on S2) and a large threshold:
  it overshoots the soft threshold's bias on the support by about β_T m and the threshold takes the
  overshoot back, a debiasing step in ISTA's own form.
  With β_t = 1/L and λ_t = λ/L it is plain ISTA for ½‖y - Ax‖² + λ‖x‖₁.
- :class:`LISTA` (Gregor & LeCun, ICML 2010): s_{t+1} = η_soft(B_t y + S_t s_t; θ_t) with learned matrices
  B_t (n, m), S_t (n, n) per layer (``tied=True``: one B, S shared by every layer, θ_t per layer), initialised
  at ISTA's B = Aᵀ/L, S = I - AᵀA/L.
- :class:`TISTA` (Ito, Takabe, Wadayama, IEEE Trans. Signal Process. 67(12), 2019):
  r_t = s_t + γ_t W (y - A s_t), W = Aᵀ(AAᵀ)⁻¹;
  v_t² = max((‖y - A s_t‖² - m σ²) / tr(AᵀA), ε);
  τ_t² = v_t² (n + (γ_t² - 2γ_t) m)/n + γ_t² σ² tr(WWᵀ)/n;
  s_{t+1} = η_MMSE(r_t; τ_t²) (the Bernoulli-Gaussian posterior mean). Only γ_t = softplus(g_t) is trained.
- :class:`LAMP` (learned AMP with the MMSE denoiser, after Borgerding, Schniter, Lu, IEEE TSP 2017):
  AMP on A/s (unit-norm columns), r_t = x_t + β_t Aᵀz_t, τ_t² = ‖z_t‖²/m, x_{t+1} = (1 - d_t) x_t +
  d_t η_MMSE(r_t; τ_t²), z_{t+1} = y - A x_{t+1} + (b_t/δ) z_t ⟨η'⟩ with learned β_t, d_t, b_t per layer; at
  β = d = b = 1 it is plain AMP with the Bayes denoiser.
- :class:`LVAMP` (learned VAMP, Borgerding, Schniter, Rangan, IEEE TSP 65(16), 2017, section on learned VAMP):
  T iterations of :func:`dlsm.algorithms.vamp.vamp` (its SVD LMMSE stage, the Bernoulli-Gaussian denoiser and
  the extrinsic messages, reused, not re-written) with learned per-layer scalars: the LMMSE stage uses
  γw e^{w_t}, the denoiser g₁(r₁; γ₁ e^{c_t}) with the prior's σx² e^{q_t}, and x₁, 1/η₁ are damped by d_t
  (x₁ ← d_t g₁ + (1 − d_t) x₁_prev). At w = c = q = 0 and d = 1 (or VAMP's β) it is VAMP, layer by layer.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dlsm.algorithms.sparse import SVD, bg_mmse_denoiser, column_scale, lipschitz, lmmse_stage, soft_threshold
from dlsm.algorithms.vamp import GAMMA_CLIP, extrinsic


class Unfolded(nn.Module):
    """Shared machinery: T layers, ``forward(y, layers)``, ``trajectory``, per-layer parameters."""

    T: int

    def layer(self, t: int, state: tuple, y: torch.Tensor) -> tuple:
        """One layer: (state after layer t) from (state before it); state[0] is the estimate x_t."""
        raise NotImplementedError

    def initial_state(self, y: torch.Tensor) -> tuple:
        x = torch.zeros(y.shape[0], self.A.shape[1], dtype=y.dtype, device=y.device)  # (batch, n)
        return (x,)

    def trajectory(self, y: torch.Tensor, layers: int | None = None) -> list[torch.Tensor]:
        """[x_1, ..., x_layers]: the estimate after each layer, (batch, n) each."""
        state = self.initial_state(y)
        out = []
        for t in range(self.T if layers is None else layers):
            state = self.layer(t, state, y)
            out.append(state[0])
        return out

    def forward(self, y: torch.Tensor, layers: int | None = None) -> torch.Tensor:
        return self.trajectory(y, layers)[-1]

    def layer_params(self, t: int) -> list[nn.Parameter]:
        raise NotImplementedError

    @torch.no_grad()
    def init_layer_from(self, t: int) -> None:
        """Copy layer t-1's parameters into layer t (t >= 1)."""
        for dst, src in zip(self.layer_params(t), self.layer_params(t - 1), strict=True):
            if dst is not src:
                dst.copy_(src)

    def learned(self) -> dict[str, torch.Tensor]:
        """The learned scalars per layer, for plots and tables: name -> (T,)."""
        return {}


class DUISTA(Unfolded):
    """DU-ISTA: ISTA with a learned step β_t (units of 1/L) and threshold λ_t per layer (see the module docstring).

    Args:
        A: the sensing matrix (m, n).
        T: number of layers.
        beta_init: initial β_t·L (1: ISTA's step 1/L), in (0, beta_max).
        lam_init: initial threshold λ_t (in the units of x; ISTA with penalty λ uses λ/L).
        beta_max: upper bound of β_t·L (β_t·L = beta_max·sigmoid(b_t)); None: no cap (β_t·L = exp(b_t)).
    """

    def __init__(self, A: torch.Tensor, T: int, beta_init: float = 1.0, lam_init: float = 0.1,
                 beta_max: float | None = 2.0) -> None:
        super().__init__()
        if not 0 < beta_init < (math.inf if beta_max is None else beta_max):
            raise ValueError(f"need 0 < beta_init < beta_max, got {beta_init}, {beta_max}")
        self.T, self.beta_max = T, beta_max
        self.register_buffer("A", A.clone())
        self.L = lipschitz(A)
        if beta_max is None:
            b0 = math.log(beta_init)
        else:
            u = beta_init / beta_max
            b0 = math.log(u / (1 - u))
        self.b = nn.Parameter(torch.full((T,), b0, dtype=A.dtype))  # (T,) log β_t L, or logit(β_t L/β_max)
        self.l = nn.Parameter(torch.full((T,), math.log(lam_init), dtype=A.dtype))  # (T,) log λ_t

    @property
    def beta(self) -> torch.Tensor:
        if self.beta_max is None:
            return torch.exp(self.b) / self.L  # (T,)
        return self.beta_max * torch.sigmoid(self.b) / self.L  # (T,)

    @property
    def lam(self) -> torch.Tensor:
        return torch.exp(self.l)  # (T,)

    def layer(self, t: int, state: tuple, y: torch.Tensor) -> tuple:
        s = state[0]
        r = s + self.beta[t] * (y - s @ self.A.T) @ self.A  # (batch, n)
        return (soft_threshold(r, self.lam[t]),)

    def layer_params(self, t: int) -> list[nn.Parameter]:
        return [self.b, self.l]

    @torch.no_grad()
    def init_layer_from(self, t: int) -> None:
        self.b[t] = self.b[t - 1]
        self.l[t] = self.l[t - 1]

    def learned(self) -> dict[str, torch.Tensor]:
        return {"β_t·L": self.beta.detach() * self.L, "λ_t": self.lam.detach()}


class LISTA(Unfolded):
    """LISTA: s_{t+1} = η_soft(B_t y + S_t s_t; θ_t); ``tied``: one (B, S) for all layers (see the module docstring).

    Args:
        A: the sensing matrix (m, n), for the ISTA initialisation B = Aᵀ/L, S = I - AᵀA/L.
        T: number of layers.
        theta_init: initial threshold θ_t (units of x).
        tied: share B and S across the layers.
    """

    def __init__(self, A: torch.Tensor, T: int, theta_init: float = 0.1, tied: bool = False) -> None:
        super().__init__()
        self.T, self.tied = T, tied
        self.register_buffer("A", A.clone())
        L = lipschitz(A)
        n = A.shape[1]
        B0 = A.T / L  # (n, m)
        S0 = torch.eye(n, dtype=A.dtype, device=A.device) - A.T @ A / L  # (n, n)
        k = 1 if tied else T
        self.B = nn.ParameterList([nn.Parameter(B0.clone()) for _ in range(k)])
        self.S = nn.ParameterList([nn.Parameter(S0.clone()) for _ in range(k)])
        self.l = nn.Parameter(torch.full((T,), math.log(theta_init), dtype=A.dtype))  # (T,) log θ_t

    @property
    def theta(self) -> torch.Tensor:
        return torch.exp(self.l)  # (T,)

    def layer(self, t: int, state: tuple, y: torch.Tensor) -> tuple:
        j = 0 if self.tied else t
        s = state[0]
        r = y @ self.B[j].T + s @ self.S[j].T  # (batch, n)
        return (soft_threshold(r, self.theta[t]),)

    def layer_params(self, t: int) -> list[nn.Parameter]:
        j = 0 if self.tied else t
        return [self.B[j], self.S[j], self.l]

    @torch.no_grad()
    def init_layer_from(self, t: int) -> None:
        if not self.tied:
            self.B[t].copy_(self.B[t - 1])
            self.S[t].copy_(self.S[t - 1])
        self.l[t] = self.l[t - 1]

    def learned(self) -> dict[str, torch.Tensor]:
        return {"θ_t": self.theta.detach()}


def _inv_softplus(v: float) -> float:
    return math.log(math.expm1(v))


class TISTA(Unfolded):
    """TISTA: pseudo-inverse step scaled by γ_t, Bernoulli-Gaussian MMSE shrinkage, τ_t² from the residual.

    Args:
        A: the sensing matrix (m, n) with m <= n (AAᵀ must be invertible).
        T: number of layers.
        noise_var: σw² of the measurements (in the units of A as given).
        p, sigma_x2: the Bernoulli-Gaussian prior.
        gamma_init: initial γ_t.
        eps: lower clamp of the error-variance estimate v_t².
    """

    def __init__(self, A: torch.Tensor, T: int, noise_var: float, p: float, sigma_x2: float = 1.0,
                 gamma_init: float = 1.0, eps: float = 1e-9) -> None:
        super().__init__()
        m, n = A.shape
        if m > n:
            raise ValueError(f"TISTA needs m <= n (AAᵀ invertible for W = Aᵀ(AAᵀ)⁻¹), got m={m} > n={n}")
        self.T, self.noise_var, self.p, self.sigma_x2, self.eps = T, noise_var, p, sigma_x2, eps
        self.register_buffer("A", A.clone())
        Ad = A.double()
        W = torch.linalg.solve(Ad @ Ad.T, Ad).T  # (n, m) = Aᵀ(AAᵀ)⁻¹
        self.register_buffer("W", W.to(A.dtype))
        self.trATA = float((Ad**2).sum())
        self.trWWT = float((W**2).sum())
        self.g = nn.Parameter(torch.full((T,), _inv_softplus(gamma_init), dtype=A.dtype))  # (T,)

    @property
    def gamma(self) -> torch.Tensor:
        return nn.functional.softplus(self.g)  # (T,)

    def layer(self, t: int, state: tuple, y: torch.Tensor) -> tuple:
        s = state[0]
        m, n = self.A.shape
        gam = self.gamma[t]
        res = y - s @ self.A.T  # (batch, m)
        v2 = torch.clamp(((res**2).sum(-1, keepdim=True) - m * self.noise_var) / self.trATA, min=self.eps)  # (b, 1)
        tau2 = v2 * (n + (gam**2 - 2 * gam) * m) / n + gam**2 * self.noise_var * self.trWWT / n  # (batch, 1)
        r = s + gam * res @ self.W.T  # (batch, n)
        x, _ = bg_mmse_denoiser(r, torch.clamp(tau2, min=self.eps), self.p, self.sigma_x2)
        return (x,)

    def layer_params(self, t: int) -> list[nn.Parameter]:
        return [self.g]

    @torch.no_grad()
    def init_layer_from(self, t: int) -> None:
        self.g[t] = self.g[t - 1]

    def learned(self) -> dict[str, torch.Tensor]:
        return {"γ_t": self.gamma.detach()}


class LAMP(Unfolded):
    """Learned AMP with the Bernoulli-Gaussian MMSE denoiser (see the module docstring); state (x, z).

    Args:
        A: the sensing matrix (m, n); AMP runs on A/s with s the RMS column norm (unit-norm columns).
        T: number of layers.
        p, sigma_x2: the Bernoulli-Gaussian prior.
    """

    def __init__(self, A: torch.Tensor, T: int, p: float, sigma_x2: float = 1.0) -> None:
        super().__init__()
        self.T, self.p, self.sigma_x2 = T, p, sigma_x2
        self.s = column_scale(A)
        self.register_buffer("A", A.clone())
        self.register_buffer("An", A / self.s)
        ones = torch.zeros(T, dtype=A.dtype)
        self.b = nn.Parameter(ones.clone())  # log β_t (step on Aᵀz)
        self.d = nn.Parameter(torch.ones(T, dtype=A.dtype))  # damping d_t (1: none)
        self.c = nn.Parameter(ones.clone())  # log of the Onsager scale b_t

    def initial_state(self, y: torch.Tensor) -> tuple:
        x = torch.zeros(y.shape[0], self.A.shape[1], dtype=y.dtype, device=y.device)  # (batch, n)
        return (x, y / self.s)

    def layer(self, t: int, state: tuple, y: torch.Tensor) -> tuple:
        x, z = state
        m, n = self.An.shape
        tau2 = torch.clamp((z**2).sum(-1, keepdim=True) / m, min=torch.finfo(y.dtype).tiny)  # (batch, 1)
        r = x + torch.exp(self.b[t]) * z @ self.An  # (batch, n)
        eta, deta = bg_mmse_denoiser(r, tau2, self.p, self.sigma_x2)
        d = self.d[t]
        x_new = x + d * (eta - x)  # (batch, n)
        onsager = d * deta.mean(-1, keepdim=True) * torch.exp(self.c[t])  # (batch, 1)
        z_new = y / self.s - x_new @ self.An.T + z * onsager * n / m  # (batch, m)
        return (x_new, z_new)

    def layer_params(self, t: int) -> list[nn.Parameter]:
        return [self.b, self.d, self.c]

    @torch.no_grad()
    def init_layer_from(self, t: int) -> None:
        for p in (self.b, self.d, self.c):
            p[t] = p[t - 1]

    def learned(self) -> dict[str, torch.Tensor]:
        return {"β_t": torch.exp(self.b).detach(), "d_t": self.d.detach(),
                "b_t": torch.exp(self.c).detach()}


class LVAMP(Unfolded):
    """Learned VAMP (see the module docstring); state (x₁, r₂, γ₂, r₁, γ₁, 1/η₁), all float64 like ``vamp``.

    Per layer t: x₂, α₂ = LMMSE(r₂, γ₂; σw² e^{−w_t}), η₂ = γ₂/α₂, (γ₁, r₁) = extrinsic(η₂, x₂ | γ₂, r₂);
    x₁ = d_t g₁(r₁; 1/(γ₁ e^{c_t}), p, σx² e^{q_t}) + (1 − d_t) x₁_prev, 1/η₁ = d_t ⟨g₁'⟩/γ₁ + (1 − d_t)/η₁_prev;
    (γ₂, r₂) = extrinsic(η₁, x₁ | γ₁, r₁). The first layer is never damped (no previous x₁), as in ``vamp``.

    Args:
        A: the sensing matrix (m, n); its SVD (float64) is computed once here.
        T: number of layers.
        noise_var: σw² > 0 of the measurements (in the units of A as given).
        p, sigma_x2: the Bernoulli-Gaussian prior (p is fixed; σx² is learned per layer as a correction).
        damping: VAMP's β ∈ (0, 1], the initial d_t (None: 1, undamped).
    """

    def __init__(self, A: torch.Tensor, T: int, noise_var: float, p: float, sigma_x2: float = 1.0,
                 damping: float | None = None) -> None:
        super().__init__()
        if noise_var <= 0:
            raise ValueError(f"noise_var must be > 0 for VAMP's LMMSE stage, got {noise_var!r}")
        if damping is not None and not 0 < damping <= 1:
            raise ValueError(f"damping must be in (0, 1], got {damping!r}")
        self.T, self.noise_var, self.p, self.sigma_x2 = T, float(noise_var), float(p), float(sigma_x2)
        self.lo, self.hi = (c / (p * sigma_x2) for c in GAMMA_CLIP)
        self.register_buffer("A", A.clone())
        svd = SVD.of(A.double())
        for name in ("U", "s", "V"):  # recomputed from A by the constructor: not saved with the model
            self.register_buffer(name, getattr(svd, name), persistent=False)
        zeros = torch.zeros(T, dtype=torch.float64)
        self.d = nn.Parameter(torch.full((T,), 1.0 if damping is None else float(damping), dtype=torch.float64))
        self.w = nn.Parameter(zeros.clone())  # log of the LMMSE stage's noise-precision scale
        self.c = nn.Parameter(zeros.clone())  # log of the denoiser's input-precision scale
        self.q = nn.Parameter(zeros.clone())  # log of the prior's σx² scale

    def initial_state(self, y: torch.Tensor) -> tuple:
        batch, n = y.shape[0], self.A.shape[1]
        r2 = torch.zeros(batch, n, dtype=torch.float64, device=y.device)  # (batch, n)
        gamma2 = torch.full((batch, 1), 1.0 / (self.p * self.sigma_x2), dtype=torch.float64, device=y.device)
        return (r2, r2, gamma2, None, None, None)  # x₁ = 0 before the first layer

    def layer(self, t: int, state: tuple, y: torch.Tensor) -> tuple:
        x1, r2, gamma2, r1, gamma1, v1 = state
        svd = SVD(self.U, self.s, self.V)
        x2, alpha2 = lmmse_stage(svd, y.double(), r2, gamma2, self.noise_var * torch.exp(-self.w[t]))
        eta2 = gamma2 / alpha2.clamp(min=1e-300)  # (batch, 1)
        gamma1, r1 = extrinsic(eta2, x2, gamma2, r2, gamma1, r1, self.lo, self.hi)
        x1_new, deta = bg_mmse_denoiser(r1, 1.0 / (gamma1 * torch.exp(self.c[t])), self.p,
                                        self.sigma_x2 * torch.exp(self.q[t]))
        v1_new = (deta.mean(-1, keepdim=True) / gamma1).clamp(1.0 / self.hi, 1.0 / self.lo)  # 1/η₁ = α₁/γ₁
        if v1 is None:
            x1, v1 = x1_new, v1_new
        else:
            d = self.d[t]
            x1, v1 = d * x1_new + (1 - d) * x1, d * v1_new + (1 - d) * v1
        gamma2, r2 = extrinsic(1.0 / v1, x1, gamma1, r1, gamma2, r2, self.lo, self.hi)
        return (x1, r2, gamma2, r1, gamma1, v1)

    def layer_params(self, t: int) -> list[nn.Parameter]:
        return [self.d, self.w, self.c, self.q]

    @torch.no_grad()
    def init_layer_from(self, t: int) -> None:
        for p in (self.d, self.w, self.c, self.q):
            p[t] = p[t - 1]

    def learned(self) -> dict[str, torch.Tensor]:
        return {"d_t": self.d.detach(), "γw scale": torch.exp(self.w).detach(),
                "γ₁ scale": torch.exp(self.c).detach(), "σx²_t": self.sigma_x2 * torch.exp(self.q).detach()}
