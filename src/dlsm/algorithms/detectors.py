"""Classical MIMO detectors for y = H x + w (real-valued, x ∈ Cⁿ a PAM constellation, w ~ N(0, σ² I)).

Every detector has the same call, as in Sionna's detection module: ``detector(y, H, noise_var)`` with
y (b, m), H (m, n) shared or (b, m, n) per vector, and σ², returns a :class:`Detection` holding the hard
symbols x̂ (b, n) and, where the detector has them, soft estimates (b, n). The equalisers are plain
functions (:func:`zf_equalize`, :func:`lmmse_equalize`); the detectors wrap them.

- ZF:     x̃ = H⁺ y  (= (HᵀH)⁻¹Hᵀy for m >= n)
- LMMSE:  x̃ = Hᵀ(HHᵀ + (σ²/E_s) I)⁻¹ y, sliced after the bias is removed per stream
- ML:     x̂ = argmin_{x ∈ Cⁿ} ‖y − Hx‖², by exhaustive batched search (refused above 2²⁰ candidates); for one
          shared H as matrix products over the candidates, argmin_x ‖Hx‖² − 2yᵀHx (‖y‖² dropped)
- symbol-wise MAP: x̂_i = argmax_s Σ_{x: x_i = s} exp(−‖y − Hx‖²/2σ²), the SER-optimal detector
- K-best: breadth-first tree search on the QR decomposition, keeping the K best partial paths
  (Guo, Nilsson 2006); with n > m on the MMSE-extended channel [H; (σ/√E_s) I]
- EP: expectation propagation (Céspedes, Olmos, Sánchez-Fernández, Santamaría, IEEE Trans. Commun. 2014)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.problems.mimo import Constellation

#: Exhaustive search above this many candidate vectors |C|ⁿ is refused.
MAX_CANDIDATES = 2**20
#: Elements of one block of the exhaustive search's distance tensor (memory bound).
_BLOCK = 2**23
#: Elements of one block of the shared-H search: small enough (1 MiB in float64) to stay in cache between the
#: product and the reduction (at 8×8 BPSK, 20,000 vectors, about twice as fast as one 2²³-element block).
_CACHE_BLOCK = 2**17


@dataclass
class Detection:
    """Hard decisions x̂ (b, n) on the constellation and soft estimates (b, n), or None."""

    x_hat: torch.Tensor
    soft: torch.Tensor | None = None


def _batched_H(H: torch.Tensor, b: int) -> torch.Tensor:
    return H.expand(b, *H.shape) if H.dim() == 2 else H  # (b, m, n)


def _noise(noise_var: float | torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(noise_var, dtype=y.dtype, device=y.device).reshape(-1, 1, 1)  # (1 or b, 1, 1)


def zf_equalize(y: torch.Tensor, H: torch.Tensor) -> torch.Tensor:
    """x̃ = H⁺ y (b, n): (HᵀH)⁻¹Hᵀy for m >= n (least squares), Hᵀ(HHᵀ)⁻¹y for n > m (minimum norm).

    Computed by QR (H = QR gives H⁺ = R⁻¹Qᵀ; Hᵀ = QR gives H⁺ = QR⁻ᵀ), not from the Gram matrix, whose condition
    number is the square of H's; channels that are numerically singular fall back to the SVD pseudo-inverse.
    """
    m, n = H.shape[-2], H.shape[-1]
    A = H if m >= n else H.transpose(-1, -2)  # (.., max, min)
    Q, R = torch.linalg.qr(A)  # (.., max, min), (.., min, min)
    Wt = torch.linalg.solve_triangular(R, Q.transpose(-1, -2), upper=True)  # R⁻¹Qᵀ: (.., min, max)
    W = Wt if m >= n else Wt.transpose(-1, -2)  # (.., n, m)
    d = R.diagonal(dim1=-2, dim2=-1).abs()  # (.., min)
    tol = d.amax(-1) * max(m, n) * torch.finfo(H.dtype).eps
    bad = (d.amin(-1) <= tol) | ~torch.isfinite(W).flatten(-2).all(-1)  # (..,) rank-deficient H
    if bad.any():
        if H.dim() == 2:
            W = torch.linalg.pinv(H)
        else:
            W = W.clone()
            W[bad] = torch.linalg.pinv(H[bad])
    if W.dim() == 2:
        return y @ W.T  # (b, n)
    return (W @ y.unsqueeze(-1)).squeeze(-1)  # (b, n)


def lmmse_matrix(H: torch.Tensor, noise_var: float | torch.Tensor, energy: float = 1.0) -> torch.Tensor:
    """W = Hᵀ(HHᵀ + (σ²/E_s) I)⁻¹, (n, m) or (b, n, m)."""
    m = H.shape[-2]
    s2 = torch.as_tensor(noise_var, dtype=H.dtype, device=H.device)
    s2 = s2.reshape(-1, 1, 1) if H.dim() == 3 else s2
    G = H @ H.transpose(-1, -2) + (s2 / energy) * torch.eye(m, dtype=H.dtype, device=H.device)  # (.., m, m)
    return torch.linalg.solve(G, H).transpose(-1, -2)  # G symmetric: (G⁻¹H)ᵀ = HᵀG⁻¹


def lmmse_equalize(y: torch.Tensor, H: torch.Tensor, noise_var: float | torch.Tensor,
                   energy: float = 1.0) -> torch.Tensor:
    """The LMMSE estimate x̃ = Hᵀ(HHᵀ + (σ²/E_s) I)⁻¹ y, (b, n)."""
    W = lmmse_matrix(H, noise_var, energy)
    if W.dim() == 2:
        return y @ W.T  # (b, n)
    return (W @ y.unsqueeze(-1)).squeeze(-1)  # (b, n)


class ZF:
    """Zero forcing: x̂ = nearest point of H⁺y (soft: H⁺y)."""

    def __init__(self, const: Constellation) -> None:
        self.const = const

    def __call__(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        x_tilde = zf_equalize(y, H)  # (b, n)
        return Detection(self.const.decide(x_tilde), x_tilde)


class LMMSE:
    """Linear MMSE: x̃ = W y, W = Hᵀ(HHᵀ + σ²/E_s I)⁻¹; decisions on x̃_i / (WH)_ii (unbiased per stream)."""

    def __init__(self, const: Constellation) -> None:
        self.const = const

    def __call__(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        W = lmmse_matrix(H, noise_var, self.const.energy)  # (n, m) or (b, n, m)
        gain = (W @ H).diagonal(dim1=-2, dim2=-1)  # (n,) or (b, n)
        x_tilde = y @ W.T if W.dim() == 2 else (W @ y.unsqueeze(-1)).squeeze(-1)  # (b, n)
        return Detection(self.const.decide(x_tilde / gain), x_tilde)


def check_exhaustive(const: Constellation, n: int, what: str = "ml") -> None:
    """ConfigError when |C|ⁿ exceeds :data:`MAX_CANDIDATES`."""
    if const.size**n > MAX_CANDIDATES:
        raise ConfigError(t("models.err.exhaustive", what=what, size=const.size, n=n, count=const.size**n,
                              limit=MAX_CANDIDATES, max_n=_max_n(const), name=const.name), key="detectors")


def _max_n(const: Constellation) -> int:
    n = 0
    while const.size ** (n + 1) <= MAX_CANDIDATES:
        n += 1
    return n


def candidate_metrics(y: torch.Tensor, H: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """‖y_b − H_b X_k‖² for every vector b and candidate k: (b, K). X (K, n)."""
    if H.dim() == 2:
        return (reduced_metrics(y, X @ H.T) + (y**2).sum(1, keepdim=True)).clamp_(min=0.0)  # (b, K), >= 0
    HX = H @ X.T.unsqueeze(0)  # (b, m, K)
    return ((y.unsqueeze(-1) - HX) ** 2).sum(1)  # (b, K)


def reduced_metrics(y: torch.Tensor, HX: torch.Tensor) -> torch.Tensor:
    """‖Hx_k‖² − 2 yᵀHx_k = ‖y − Hx_k‖² − ‖y‖² for one shared H: (b, K), from HX (K, m) = the rows Hx_k.

    One matrix product y HXᵀ (b × m × K flops) instead of a distance per pair; ‖y‖² does not depend on k, so
    argmin_k and softmax_k over these equal those over the full distances.
    """
    energy = (HX**2).sum(1)  # (K,)
    return torch.addmm(energy, y, HX.T, beta=1.0, alpha=-2.0)  # (b, K)


def _shared_metric_blocks(y: torch.Tensor, H: torch.Tensor, X: torch.Tensor):
    """Yield (start, metrics) over blocks of y: for one H the reduced metrics in cache-sized blocks, for one H per
    vector the full distances in blocks below _BLOCK elements. Ties: ``min(1).indices`` and ``argmin`` both
    return the first minimal index, as the former search did."""
    if H.dim() == 2:
        HX = X @ H.T  # (K, m), computed once for all blocks
        K = X.shape[0]
        step = max(1, (_CACHE_BLOCK if K <= _CACHE_BLOCK else _BLOCK) // K)
        for s in range(0, y.shape[0], step):
            yield s, reduced_metrics(y[s:s + step], HX)  # (step, K)
        return
    step = max(1, _BLOCK // (X.shape[0] * H.shape[-2]))
    for s in range(0, y.shape[0], step):
        yield s, candidate_metrics(y[s:s + step], H[s:s + step], X)  # (step, K)


class ML:
    """Maximum likelihood by exhaustive search over Cⁿ, in blocks of vectors (exact; refused above 2²⁰)."""

    def __init__(self, const: Constellation) -> None:
        self.const = const

    def __call__(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        n = H.shape[-1]
        check_exhaustive(self.const, n, "ml")
        X = self.const.all_vectors(n).to(y.device, y.dtype)  # (K, n)
        out = [X[metric.min(1).indices] for _, metric in _shared_metric_blocks(y, H, X)]  # (step, n) each
        x_hat = torch.cat(out) if out else y.new_zeros(0, n)
        return Detection(x_hat, None)


class SymbolMAP:
    """Symbol-wise MAP: P(x_i = s | y) ∝ Σ_{x ∈ Cⁿ: x_i = s} exp(−‖y − Hx‖²/2σ²) (uniform prior);
    x̂_i maximises it (minimum SER); soft = posterior mean E[x_i | y]. Exhaustive, small n only."""

    def __init__(self, const: Constellation) -> None:
        self.const = const

    def __call__(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        n = H.shape[-1]
        check_exhaustive(self.const, n, "map")
        pts = self.const.points.to(y.device, y.dtype)
        X = self.const.all_vectors(n).to(y.device, y.dtype)  # (K, n)
        C = pts.numel()
        onehot = (X.unsqueeze(-1) == pts).to(y.dtype).reshape(X.shape[0], n * C)  # (K, n·|C|)
        hard, soft = [], []
        for _, metric in _shared_metric_blocks(y, H, X):
            # unnormalised posterior exp(−(d_k − min d)/2σ²) (bs, K); its marginals share one normaliser per row
            w = (metric - metric.amin(1, keepdim=True)).mul_(-1.0 / (2 * noise_var)).exp_()
            marg = (w @ onehot).reshape(-1, n, C)  # (bs, n, |C|)
            hard.append(pts[marg.argmax(-1)])
            soft.append((marg @ pts) / marg.sum(-1))
        return Detection(torch.cat(hard), torch.cat(soft))


class KBest:
    """K-best tree search. With H = QR (R upper triangular n × n), ‖y − Hx‖² = ‖Qᵀy − Rx‖² + const, so the
    metric adds up level by level from x_n down to x_1; at each level every kept path is extended by every
    symbol and only the K with the smallest partial metric survive. K = |C|ⁿ is ML. For n > m the QR is of
    the MMSE-extended channel [H; (σ/√E_s) I] with [y; 0] (a regularised metric)."""

    def __init__(self, const: Constellation, k: int = 16) -> None:
        if k < 1:
            raise ConfigError(t("models.err.kbest_k", k=k), key="kbest_k")
        self.const, self.k = const, k

    def __call__(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        b = y.shape[0]
        H = _batched_H(H, b)  # (b, m, n)
        m, n = H.shape[-2], H.shape[-1]
        if n > m:
            scale = torch.sqrt(_noise(noise_var, y) / self.const.energy)  # (1 or b, 1, 1)
            eye = torch.eye(n, dtype=H.dtype, device=H.device).expand(b, n, n)
            H = torch.cat([H, scale * eye], dim=1)  # (b, m+n, n)
            y = torch.cat([y, y.new_zeros(b, n)], dim=1)  # (b, m+n)
        Q, R = torch.linalg.qr(H)  # (b, m', n), (b, n, n)
        z = (Q.transpose(1, 2) @ y.unsqueeze(-1)).squeeze(-1)  # (b, n)
        pts = self.const.points.to(y.device, y.dtype)
        C = pts.numel()
        paths = y.new_zeros(b, 1, 0)  # (b, P, levels done): symbols x_{i+1..n}
        metric = y.new_zeros(b, 1)  # (b, P)
        for i in range(n - 1, -1, -1):
            P = paths.shape[1]
            known = (R[:, i, i + 1:].unsqueeze(1) * paths).sum(-1)  # (b, P)
            resid = z[:, i, None, None] - known.unsqueeze(-1) - R[:, i, i, None, None] * pts  # (b, P, C)
            cand = (metric.unsqueeze(-1) + resid**2).reshape(b, P * C)  # (b, P*C)
            keep = min(self.k, P * C)
            metric, idx = cand.topk(keep, dim=1, largest=False)  # (b, keep)
            parent, sym = idx // C, idx % C
            paths = torch.cat([pts[sym].unsqueeze(-1), paths.gather(1, parent.unsqueeze(-1).expand(-1, -1, n - 1 - i))],
                              dim=-1)  # (b, keep, n - i)
        return Detection(paths[:, 0, :], None)


class EP:
    """Expectation propagation (Céspedes et al. 2014). The prior 1[x_i ∈ C] is replaced by Gaussians
    N(x_i; γ_i/λ_i, 1/λ_i); each iteration

        Σ = (HᵀH/σ² + diag λ)⁻¹,  μ = Σ (Hᵀy/σ² + γ)                         (Gaussian posterior)
        h²_i = Σ_ii / (1 − Σ_ii λ_i),  t_i = h²_i (μ_i/Σ_ii − γ_i)             (cavity)
        μ̂_i, σ̂²_i = mean, variance of ∝ N(x; t_i, h²_i) 1[x ∈ C]               (moment matching)
        λ_i ← β (1/σ̂²_i − 1/h²_i) + (1 − β) λ_i,  γ_i ← β (μ̂_i/σ̂²_i − t_i/h²_i) + (1 − β) γ_i

    (updates giving λ_i <= 0 are skipped). x̂ = the nearest point of μ̂; soft = μ̂."""

    def __init__(self, const: Constellation, iterations: int = 10, beta: float = 0.9, min_var: float = 5e-7) -> None:
        self.const, self.iterations, self.beta, self.min_var = const, iterations, beta, min_var

    def __call__(self, y: torch.Tensor, H: torch.Tensor, noise_var: float) -> Detection:
        A, c, lam, gam = ep_start(y, H, noise_var, self.const)
        pts = self.const.points.to(y.device, y.dtype)
        mu_hat = torch.zeros_like(lam)
        for _ in range(self.iterations):
            lam, gam, _, mu_hat = ep_iteration(A, c, lam, gam, pts, self.beta, self.min_var)
        return Detection(self.const.decide(mu_hat), mu_hat)


def ep_start(y: torch.Tensor, H: torch.Tensor, noise_var: float | torch.Tensor, const: Constellation
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """EP's precision form of the likelihood, A = HᵀH/σ² (b, n, n) and c = Hᵀy/σ² (b, n), and its starting
    site parameters λ = 1/E_s, γ = 0 (b, n) each (H (m, n) shared or (b, m, n) per vector)."""
    b = y.shape[0]
    H = _batched_H(H, b)  # (b, m, n)
    n = H.shape[-1]
    s2 = _noise(noise_var, y)  # (1 or b, 1, 1)
    A = H.transpose(1, 2) @ H / s2  # (b, n, n)
    c = (H.transpose(1, 2) @ y.unsqueeze(-1)).squeeze(-1) / s2[:, :, 0]  # (b, n)
    return A, c, y.new_full((b, n), 1.0 / const.energy), y.new_zeros(b, n)


def ep_iteration(A: torch.Tensor, c: torch.Tensor, lam: torch.Tensor, gam: torch.Tensor, pts: torch.Tensor,
                 beta: float | torch.Tensor, min_var: float, xi: float | torch.Tensor = 1.0
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One EP iteration (Céspedes et al. 2014): the Gaussian posterior N(μ, Σ), Σ = (A + diag λ)⁻¹, μ = Σ(c + γ);
    the cavity N(t, h²) of each symbol; its moments under the discrete prior, with the cavity variance scaled by
    ``xi`` (1 for EP; EP-Net learns it); the new sites damped by ``beta`` (updates giving λ <= 0 are skipped).
    Returns (λ, γ, log-weights of the points (b, n, |C|), μ̂ (b, n))."""
    Sigma = torch.linalg.inv(A + torch.diag_embed(lam))  # (b, n, n)
    mu = (Sigma @ (c + gam).unsqueeze(-1)).squeeze(-1)  # (b, n)
    d = Sigma.diagonal(dim1=1, dim2=2).clamp(min=min_var)  # (b, n)
    h2 = (d / (1 - d * lam)).clamp(min=min_var)  # (b, n)
    t = h2 * (mu / d - gam)  # (b, n)
    scale = 2 * h2.unsqueeze(-1) if isinstance(xi, float) and xi == 1.0 else 2 * xi * h2.unsqueeze(-1)
    logw = -((t.unsqueeze(-1) - pts) ** 2) / scale  # (b, n, |C|)
    w = torch.softmax(logw, dim=-1)
    mu_hat = w @ pts  # (b, n)
    var_hat = (w @ pts**2 - mu_hat**2).clamp(min=min_var)  # (b, n)
    lam_new = 1 / var_hat - 1 / h2
    gam_new = mu_hat / var_hat - t / h2
    ok = lam_new > 0
    lam = torch.where(ok, beta * lam_new + (1 - beta) * lam, lam)
    gam = torch.where(ok, beta * gam_new + (1 - beta) * gam, gam)
    return lam, gam, logw, mu_hat
