"""A fast batched FISTA for the LASSO  min_x ½‖y − A x‖² + λ‖x‖₁, stopping on a tolerance or on a certificate of
optimality (issue 25).

Same iteration as :func:`dlsm.algorithms.ista.fista` (Beck & Teboulle 2009), with what the problem offers:

- the gradient step s + β Aᵀ(y − A s) as ``s M + c`` with M = I − β AᵀA (n × n) and c = β Aᵀy, when that is
  cheaper by a flop count (:func:`use_gram`): per iteration 2 b m n flops without the Gram matrix, b n² with it,
  plus n² m once to form it. For many iterations that is n < 2 m (m > n/2);
- fused, in-place updates into buffers allocated once;
- adaptive restart of the momentum per row (O'Donoghue & Candès, Found. Comput. Math. 2015): q ← 1 when
  (s_t − x_{t+1})ᵀ(x_{t+1} − x_t) > 0, which makes FISTA converge linearly on a LASSO with a unique solution;
- **support polishing** (:func:`polish`): FISTA finds the support S and the signs σ of the solution long before
  it converges to them (finite identification, e.g. Hare & Lewis 2004). Given (S, σ) the LASSO solution is
  closed form, x_S = (A_Sᵀ A_S)⁻¹ (A_Sᵀ y − λ σ_S); it is *the* minimiser when the optimality (KKT) conditions
  hold: sign(x_S) = σ_S and |A_jᵀ(y − A x)| ≤ λ off S. Every few iterations each unfinished row is polished and
  checked; a row that passes is exact (to rounding) and leaves the loop;
- a stopping rule on the relative change ‖x_{t+1} − x_t‖ / ‖x_{t+1}‖ ≤ tol for the rows no certificate ends;
- float64 by default (a reference solver); the step 1/L from the eigenvalues of the smaller Gram matrix;
- **one vector on the CPU** (:func:`fista_vector`): the same FISTA in NumPy, where a step on vectors of a few
  hundred entries costs about half of torch's per-operation overhead, with a backtracking step (Beck & Teboulle
  2009, §4; Scheinberg, Goldfarb & Bai 2014) instead of an eigenvalue computation: L starts at the largest
  squared column norm (a lower bound on λ_max(AᵀA)), each step first tries a smaller L and raises it by
  :data:`BACKTRACK` until f(z) ≤ f(s) + ∇f(s)ᵀ(z − s) + L/2 ‖z − s‖². The products A s are carried along
  (A s_{t+1} = A x_{t+1} + w (A x_{t+1} − A x_t)), so a step costs one product with A and one with Aᵀ, as
  without the test.

:func:`dlsm.algorithms.ista.fista` keeps the plain loop (the labs' numbers do not change).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch

from dlsm.algorithms.ista import _lam

KKT_SLACK = 1e-9  # relative slack on |A_jᵀ r| ≤ λ for the rounding of the check itself
NOT_FINITE = "fista_solve: A and y must be finite (a NaN or inf entry has no LASSO solution)"
BACKTRACK = 1.5  # the factor η by which the backtracking step raises L (Beck & Teboulle 2009)
SHRINK = 0.95  # the factor by which each step of fista_vector first tries to lower L (Scheinberg et al. 2014)


@dataclass
class LassoSolution:
    """x̂ (batch, n) or (n,); the iterations run; whether every row ended before ``max_iter``; which rows
    carry a certificate of optimality (``certified``, (batch,) or () bool: the KKT conditions hold)."""

    x: torch.Tensor
    iters: int
    converged: bool
    certified: torch.Tensor


def use_gram(m: int, n: int, batch: int, iters: int) -> bool:
    """True when iterating with M = I − βAᵀA costs fewer flops than with A:
    n² m + iters · b n² < iters · 2 b m n (forming AᵀA once, then one (b, n) × (n, n) product per iteration
    against two (b, n) × (n, m) products)."""
    return n * n * m + iters * batch * n * n < iters * 2 * batch * m * n


def lipschitz_gram(A: torch.Tensor) -> float:
    """L = λ_max(AᵀA) = λ_max(AAᵀ), from the symmetric eigenvalues of the smaller of the two (about 3 × faster
    than an SVD of A at 128 × 256)."""
    small = A @ A.T if A.shape[0] <= A.shape[1] else A.T @ A
    return float(torch.linalg.eigvalsh(small)[-1])


def polish(x: torch.Tensor, Aty: torch.Tensor, lam: float | torch.Tensor, A: torch.Tensor,
           G: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The LASSO solution on the support and signs of x, and whether it is optimal.

    For each row with S = {j : x_j ≠ 0} and σ = sign(x): x̃_S = (A_Sᵀ A_S)⁻¹ (A_Sᵀ y − λ σ_S), x̃ = 0 off S.
    x̃ minimises ½‖y − A x‖² + λ‖x‖₁ iff sign(x̃_S) = σ_S and |A_jᵀ(y − A x̃)| ≤ λ for j ∉ S (the
    subgradient conditions), checked with a relative slack :data:`KKT_SLACK`.
    x (b, n), Aty = Aᵀy (b, n), lam scalar or (b, 1), G = AᵀA if formed. Returns x̃ (b, n) and ok (b,).
    """
    b, n = x.shape
    m = A.shape[0]
    mask = x != 0
    k = mask.sum(1)  # (b,) support sizes
    kmax = int(k.max())
    sign = torch.sign(x)
    if kmax == 0:
        x_t = torch.zeros_like(x)
        grad = Aty
        solved = torch.ones(b, dtype=torch.bool, device=x.device)
    else:
        idx = torch.argsort(mask.to(torch.int8), dim=1, descending=True, stable=True)[:, :kmax]  # S first
        valid = torch.arange(kmax, device=x.device) < k.unsqueeze(1)  # (b, kmax)
        if G is not None:
            GS = G[idx.unsqueeze(2), idx.unsqueeze(1)]  # (b, kmax, kmax)
        else:
            AS = A[:, idx].permute(1, 0, 2)  # (b, m, kmax)
            GS = AS.mT @ AS
        pair = valid.unsqueeze(2) & valid.unsqueeze(1)
        eye = torch.eye(kmax, dtype=x.dtype, device=x.device)
        GS = torch.where(pair, GS, eye)  # padding: identity rows, zero right-hand side
        rhs = torch.where(valid, Aty.gather(1, idx) - lam * sign.gather(1, idx), 0.0)
        L, info = torch.linalg.cholesky_ex(GS)
        xs = torch.cholesky_solve(rhs.unsqueeze(-1), L).squeeze(-1)
        x_t = torch.zeros_like(x).scatter_(1, idx, torch.where(valid, xs, 0.0))
        grad = Aty - (x_t @ G if G is not None else (x_t @ A.T) @ A)  # Aᵀ(y − A x̃)
        solved = (info == 0) & (k <= m)
    same_signs = (torch.sign(x_t) == sign).all(1)
    inside = ((grad.abs() <= lam * (1 + KKT_SLACK)) | mask).all(1)
    return x_t, solved & same_signs & inside


@functools.lru_cache(maxsize=8)
def momentum_weights(length: int) -> tuple[float, ...]:
    """w[j] = (q_{j−1} − 1) / q_j for j = 1..length−1 and w[0] = 0, with q_0 = 1, q_{j+1} = (1 + √(1 + 4 q_j²)) / 2:
    the extrapolation weight of FISTA's j-th step since its last (re)start (Beck & Teboulle 2009)."""
    q = [1.0]
    for _ in range(length - 1):
        q.append((1 + math.sqrt(1 + 4 * q[-1] ** 2)) / 2)
    return (0.0, *((q[j - 1] - 1) / q[j] for j in range(1, length)))


@functools.lru_cache(maxsize=8)
def _momentum_tensor(length: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """:func:`momentum_weights` as a tensor, built once per length, dtype and device (read only)."""
    return torch.tensor(momentum_weights(length), dtype=dtype, device=device)


def polish_vector(A: np.ndarray, Aty: np.ndarray, lam: float, x: np.ndarray) -> np.ndarray | None:
    """:func:`polish` for one vector in NumPy: the LASSO solution on the support and signs of x when it passes
    the KKT conditions, else None."""
    S = np.flatnonzero(x)
    if S.size == 0:  # x = 0 is the minimiser iff |Aᵀy| ≤ λ everywhere
        return np.zeros_like(x) if np.abs(Aty).max(initial=0.0) <= lam * (1 + KKT_SLACK) else None
    if S.size > A.shape[0]:
        return None
    sign = np.sign(x[S])
    AS = A[:, S]
    try:
        factor = scipy.linalg.cho_factor(AS.T @ AS, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    xs = scipy.linalg.cho_solve(factor, Aty[S] - lam * sign, check_finite=False)
    if not np.array_equal(np.sign(xs), sign):
        return None
    grad = Aty - A.T @ (AS @ xs)  # Aᵀ(y − A x̃)
    grad[S] = 0.0
    if S.size < x.size and np.abs(grad).max() > lam * (1 + KKT_SLACK):
        return None
    out = np.zeros_like(x)
    out[S] = xs
    return out


def fista_vector(A: np.ndarray, y: np.ndarray, lam: float, *, tol: float = 1e-10, max_iter: int = 10_000,
                 restart: bool = True, step: float | None = None, check_every: int = 3,
                 certify: bool = True, momentum: bool = True) -> tuple[np.ndarray, int, bool, bool, float]:
    """FISTA with restart for one vector, in NumPy: the iteration of :func:`fista_solve`, with a backtracking
    step unless ``step`` fixes β = 1/L; ``momentum=False`` is ISTA. Returns x̂ (n,), the iterations, whether it
    ended before ``max_iter``, whether :func:`polish_vector` certified x̂, and the last L.

    The backtracking may also lower L (Scheinberg, Goldfarb & Bai, Found. Comput. Math. 2014): each step first
    tries L ← :data:`SHRINK` · L, then raises it by :data:`BACKTRACK` until
    f(z) ≤ f(s) + ∇f(s)ᵀ(z − s) + L/2 ‖z − s‖², i.e. ‖A(z − s)‖² ≤ L ‖z − s‖². The momentum then follows
    q_{k+1} = (1 + √(1 + 4 θ q_k²)) / 2 with θ = L_{k+1}/L_k, s = x_{k+1} + (q_k − 1)/q_{k+1} (x_{k+1} − x_k);
    with a fixed L (θ = 1) that is Beck & Teboulle's sequence (:func:`momentum_weights`). Near the solution
    the iterates live on the support, where the curvature is below λ_max(AᵀA), so the step grows.
    """
    m, n = A.shape
    Aty = A.T @ y
    if not np.isfinite(Aty).all():  # a NaN or inf in A or y makes Aᵀy non-finite (one check, n numbers)
        raise ValueError(NOT_FINITE)
    if step is None:
        L, grow, shrink = float(np.einsum("ij,ij->j", A, A).max()), BACKTRACK, SHRINK  # max_j ‖a_j‖² ≤ λ_max
    else:
        L, grow, shrink = 1.0 / step, 0.0, 1.0
    if L <= 0.0:  # A = 0: x = 0 is the solution
        return np.zeros(n, dtype=A.dtype), 0, True, True, L
    x = s = np.zeros(n, dtype=A.dtype)
    Ax = As = np.zeros(m, dtype=A.dtype)
    q, signs, t = 1.0, None, 0
    tiny = np.finfo(A.dtype).tiny
    while t < max_iter:
        t += 1
        grad = A.T @ (As - y)  # ∇f(s) = Aᵀ(A s − y)
        L_old, L = L, L * shrink
        while True:
            thr = lam / L
            z = s - grad * (1.0 / L)
            z -= np.minimum(np.maximum(z, -thr), thr)  # η_soft(z; λ/L)
            Az = A @ z
            dz = z - s
            if not grow:
                break
            Adz = Az - As
            if Adz @ Adz <= L * (dz @ dz):  # the majorisation holds at z (exact for a quadratic f)
                break
            L *= grow
            if not math.isfinite(L):  # the test never holds (an overflow in A z): refuse, not an endless loop
                raise ValueError(NOT_FINITE)
        d = z - x  # x_{k+1} − x_k
        if restart and dz @ d < 0:  # (s − x_{k+1})ᵀ(x_{k+1} − x_k) > 0: the momentum points uphill
            q = 1.0
        q_new = (1.0 + math.sqrt(1.0 + 4.0 * (L / L_old) * q * q)) / 2.0
        w = (q - 1.0) / q_new if momentum else 0.0
        q = q_new
        s = z + w * d
        As = Az + w * (Az - Ax)
        x, Ax = z, Az
        if t % check_every and t != max_iter:
            continue
        small = d @ d <= tol * tol * max(float(x @ x), tiny)  # ‖x_{k+1} − x_k‖ ≤ tol ‖x_{k+1}‖
        if certify:
            new_signs = np.sign(x)
            settled = signs is not None and np.array_equal(new_signs, signs)
            signs = new_signs
            if settled or small:  # the support has settled, or the run ends here: try the certificate
                x_t = polish_vector(A, Aty, lam, x)
                if x_t is not None:
                    return x_t, t, True, True, L
        if small:
            return x, t, True, False, L
    return x, t, False, False, L


def fista_solve(A: torch.Tensor, y: torch.Tensor, lam: float | torch.Tensor, *, tol: float = 1e-10,
                max_iter: int = 10_000, gram: bool | None = None, restart: bool = True, step: float | None = None,
                check_every: int | None = None, certify: bool = True,
                dtype: torch.dtype | None = torch.float64) -> LassoSolution:
    """Batched FISTA with restart. A row ends when :func:`polish` certifies its solution (``certify``) or when
    its relative change is at most ``tol``; both are checked every ``check_every`` iterations (None: 5, or 3 for
    one vector), and a row is polished when its signs are those of the check before (its support has settled)
    or when it ends on the tolerance (``certified`` then says whether its polished solution passed).

    y (batch, m) or (m,); ``lam`` a scalar or one λ per row (batch,). ``gram``: None decides by
    :func:`use_gram` with ``max_iter``; ``dtype``: the working precision (None keeps y's). One vector on the CPU
    (unless ``gram=True``) goes to :func:`fista_vector`, with the backtracking step unless ``step`` is given.
    """
    if tol < 0 or max_iter < 1 or (check_every is not None and check_every < 1):
        raise ValueError(f"fista_solve: need tol >= 0, max_iter >= 1, check_every >= 1; got {tol}, {max_iter}, "
                         f"{check_every}")
    squeeze = y.ndim == 1
    dt = dtype or y.dtype
    A = A.to(dt)
    y2 = (y.unsqueeze(0) if squeeze else y).to(dt)  # (b, m)
    b, (m, n) = y2.shape[0], A.shape
    dev = A.device
    lam_v = _lam(lam, y2)  # scalar or (b, 1)
    per_row = isinstance(lam_v, torch.Tensor)
    if b == 1 and dev.type == "cpu" and gram is not True:
        xv, iters, converged, ok, _ = fista_vector(
            A.detach().numpy(), y2[0].detach().numpy(), float(lam_v) if per_row else lam_v, tol=tol, max_iter=max_iter,
            restart=restart, step=step, check_every=check_every or 3, certify=certify)
        x1 = torch.from_numpy(xv)
        return LassoSolution(x1 if squeeze else x1.unsqueeze(0), iters, converged,
                             torch.tensor(ok) if squeeze else torch.tensor([ok]))
    check_every = check_every or 5
    Aty = y2 @ A  # Aᵀy: (b, n)
    if not bool(torch.isfinite(Aty).all()):  # a NaN or inf in A or y makes Aᵀy non-finite
        raise ValueError(NOT_FINITE)
    beta = step if step is not None else 1.0 / lipschitz_gram(A)
    gram = use_gram(m, n, b, max_iter) if gram is None else gram
    G = A.T @ A if gram or (certify and b > 1) else None  # (n, n); polishing many rows gathers from it
    M = torch.eye(n, dtype=dt, device=dev) - beta * G if gram else None  # (n, n), symmetric
    W = _momentum_tensor(max_iter + 1, dt, dev)  # W[j]: the weight j steps after a restart
    out = torch.zeros(b, n, dtype=dt, device=dev)
    certified = torch.zeros(b, dtype=torch.bool, device=dev)
    rows = torch.arange(b, device=dev)  # the unfinished rows, in the order of the buffers below
    yy, c, Aty_r = y2, beta * Aty, Aty
    x = torch.zeros(b, n, dtype=dt, device=dev)  # x_t
    s = torch.zeros_like(x)  # extrapolated point s_t
    j = torch.zeros(b, 1, dtype=torch.long, device=dev)  # steps since each row's last restart
    signs = torch.zeros(b, n, dtype=dt, device=dev)  # sign(x) at the last check
    t, converged = 0, False
    while t < max_iter:
        t += 1
        thr = beta * lam_v
        if gram:
            z = torch.addmm(c, s, M)  # s M + c = s + βAᵀ(y − A s)
        else:
            z = torch.addmm(s, torch.addmm(yy, s, A.T, alpha=-1.0), A, alpha=beta)  # s + βAᵀ(y − A s)
        if per_row:
            z.sub_(torch.clamp(z, -thr, thr))  # η_soft(z; βλ) = z − clip(z, −βλ, βλ)
        else:
            z = torch.nn.functional.softshrink(z, thr)
        d = z - x  # x_{t+1} − x_t
        j.add_(1)
        if restart:
            s.sub_(z)  # s_t − x_{t+1}
            j.masked_fill_(torch.linalg.vecdot(s, d).unsqueeze(1) > 0, 0)  # the momentum points uphill: q ← 1
        s = torch.addcmul(z, W[j], d)  # s_{t+1} = x_{t+1} + w (x_{t+1} − x_t)
        x = z
        if t % check_every and t != max_iter:
            continue
        done = d.norm(dim=1) <= tol * x.norm(dim=1).clamp(min=torch.finfo(dt).tiny)  # (b_active,)
        out[rows] = x
        if certify:
            new_signs = torch.sign(x)
            settled = (new_signs == signs).all(1) | done  # a settled support, or a row that ends here
            signs = new_signs
            if bool(settled.any()):
                at = settled.nonzero().squeeze(1)
                x_t, ok = polish(x[at], Aty_r[at], lam_v[at] if per_row else lam_v, A, G)
                out[rows[at[ok]]] = x_t[ok]
                certified[rows[at[ok]]] = True
                done[at[ok]] = True
        if bool(done.all()):
            converged = True
            break
        if bool(done.any()):
            keep = ~done
            rows, x, s, j, signs, yy, c, Aty_r = (v[keep] for v in (rows, x, s, j, signs, yy, c, Aty_r))
            if per_row:
                lam_v = lam_v[keep]
    return LassoSolution(out[0] if squeeze else out, t, converged, certified[0] if squeeze else certified)
