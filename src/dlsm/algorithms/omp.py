"""Greedy recovery and the support oracle.

- OMP (orthogonal matching pursuit; Pati, Rezaiifar, Krishnaprasad 1993; Tropp & Gilbert, IEEE Trans. IT 2007):
  k times, add the column most correlated with the residual, |a_jᵀ r| / ‖a_j‖, then refit by least squares
  on the chosen columns S: x_S = argmin ‖y − A_S x_S‖², r = y − A_S x_S.
- Genie (support-oracle) estimate: knowing the true support S, the MMSE estimate of the Gaussian nonzero
  values is the LMMSE x_S = (A_Sᵀ A_S + (σw²/σx²) I)⁻¹ A_Sᵀ y; no method that does not know S does better
  on average, so its NMSE is a lower bound for the Bernoulli-Gaussian problem.
"""

from __future__ import annotations

import torch


def omp(A: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    """OMP with k atoms for every row of y (batch, m) or (m,) -> x̂ (batch, n) or (n,), k nonzeros each."""
    squeeze = y.ndim == 1
    y2 = y.unsqueeze(0) if squeeze else y  # (batch, m)
    batch, n = y2.shape[0], A.shape[1]
    k = min(k, n, A.shape[0])
    norms = A.norm(dim=0).clamp(min=torch.finfo(A.dtype).tiny)  # (n,)
    support = torch.empty(batch, 0, dtype=torch.long, device=y2.device)  # (batch, t)
    residual, coef = y2, torch.empty(batch, 0, 1, dtype=y2.dtype, device=y2.device)
    for _ in range(k):
        score = (residual @ A).abs() / norms  # (batch, n)
        score.scatter_(1, support, -1.0)  # never pick a column twice
        support = torch.cat([support, score.argmax(1, keepdim=True)], 1)  # (batch, t + 1)
        A_S = A.T[support].transpose(1, 2)  # (batch, m, t + 1)
        # least squares by the normal equations in float64 (batched LU is deterministic; batched lstsq in
        # float32 was seen to differ in the last digits between two identical calls)
        A_S64 = A_S.double()
        gram = A_S64.transpose(1, 2) @ A_S64  # (batch, t + 1, t + 1)
        coef = torch.linalg.solve(gram, A_S64.transpose(1, 2) @ y2.double().unsqueeze(-1)).to(y2.dtype)
        residual = y2 - (A_S @ coef).squeeze(-1)  # (batch, m)
    x = torch.zeros(batch, n, dtype=y2.dtype, device=y2.device).scatter(1, support, coef.squeeze(-1))
    return x[0] if squeeze else x


def genie_estimate(A: torch.Tensor, y: torch.Tensor, support_mask: torch.Tensor, noise_var: float,
                   sigma_x2: float) -> torch.Tensor:
    """LMMSE estimate on the true support (per row): y (batch, m), support_mask (batch, n) bool -> (batch, n)."""
    squeeze = y.ndim == 1
    y2 = y.unsqueeze(0) if squeeze else y  # (batch, m)
    mask = support_mask.unsqueeze(0) if support_mask.ndim == 1 else support_mask  # (batch, n)
    x = torch.zeros(y2.shape[0], A.shape[1], dtype=y2.dtype, device=y2.device)
    ratio = noise_var / sigma_x2
    for i in range(y2.shape[0]):
        idx = torch.nonzero(mask[i]).squeeze(1)  # (k,)
        if idx.numel() == 0:
            continue
        A_S = A[:, idx].double()  # (m, k)
        gram = A_S.T @ A_S + ratio * torch.eye(idx.numel(), dtype=torch.float64, device=A.device)  # (k, k)
        x[i, idx] = torch.linalg.solve(gram, A_S.T @ y2[i].double()).to(y2.dtype)
    return x[0] if squeeze else x
