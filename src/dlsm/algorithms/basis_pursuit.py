"""Basis pursuit min ‖x‖₁ subject to A x = y, as a linear program (Chen, Donoho, Saunders 1998).

With x = u − v, u, v ≥ 0: minimise 1ᵀu + 1ᵀv subject to [A, −A] [u; v] = y. Solved by scipy's HiGHS.
The noise-free ℓ1 recovery whose success probability over (δ = m/n, ρ = k/m) shows the Donoho-Tanner
phase transition.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog


def basis_pursuit(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x̂ = argmin ‖x‖₁ s.t. A x = y for one y (m,) -> (n,); NaNs if the LP fails (e.g. y not in range(A))."""
    A = np.asarray(A, dtype=float)
    n = A.shape[1]
    res = linprog(np.ones(2 * n), A_eq=np.hstack([A, -A]), b_eq=np.asarray(y, dtype=float), bounds=(0, None),
                  method="highs")
    if res.status != 0:
        return np.full(n, np.nan)
    return res.x[:n] - res.x[n:]
