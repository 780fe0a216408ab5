"""One definition of each metric, used by every lab, the benchmarks and the notebooks.

Each function takes NumPy arrays or torch tensors and returns plain Python / NumPy values.
"""

from __future__ import annotations

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor


def _labels(a: ArrayLike, name: str) -> np.ndarray:
    """A 1-D integer NumPy array of class labels (from a tensor on any device, or an array)."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class labels, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def accuracy(y_pred: ArrayLike, y_true: ArrayLike) -> float:
    """Fraction of correct predictions over the true number of samples N:

        accuracy = (1/N) Σ_i [ŷ_i = y_i]

    The course's notebook divided the count by (number of batches × batch size) instead of N, which
    is wrong whenever the last batch is short; here N is the number of labels given.
    """
    p, t = _labels(y_pred, "y_pred"), _labels(y_true, "y_true")
    if p.shape != t.shape:
        raise ValueError(f"y_pred {p.shape} and y_true {t.shape} differ in length")
    if t.size == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(np.count_nonzero(p == t)) / t.size


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> np.ndarray:
    """Counts C (n_classes, n_classes) with C[i, j] = #{samples of true class i predicted as j}.

    Rows are true classes, columns predicted classes (the convention of scikit-learn); the diagonal
    holds the correct predictions, so trace(C) / C.sum() is the accuracy.
    """
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if p.shape != t.shape:
        raise ValueError(f"y_pred {p.shape} and y_true {t.shape} differ in length")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (a.min() < 0 or a.max() >= n_classes):
            raise ValueError(f"{name} has labels outside 0..{n_classes - 1}")
    flat = np.bincount(t * n_classes + p, minlength=n_classes * n_classes)  # (K*K,)
    return flat.reshape(n_classes, n_classes)


def nmse_db(x_hat: ArrayLike, x: ArrayLike) -> float:
    """Normalised mean squared error of a set of estimates, in dB:

        NMSE = 10 log10( Σ_i ‖x̂_i − x_i‖² / Σ_i ‖x_i‖² )

    over every row i of x (batch, n) (a ratio of sums over the whole test set, not a mean of per-vector
    ratios, as in the TISTA paper). -inf for an exact recovery; ValueError for an all-zero x.
    """
    err = _as_float64(x_hat) - _as_float64(x)
    den = float(np.sum(_as_float64(x) ** 2))
    if den == 0.0:
        raise ValueError("NMSE is undefined for an all-zero x")
    num = float(np.sum(err**2))
    return float("-inf") if num == 0.0 else 10.0 * float(np.log10(num / den))


def ser(x_hat: ArrayLike, x: ArrayLike) -> float:
    """Symbol error rate: the fraction of symbols with x̂_ij ≠ x_ij, over every entry of the (batch, n) arrays.

    Both arrays hold symbols already decided (e.g. sign(·) for BPSK, nearest level for 4-PAM).
    """
    a, b = _as_float64(x_hat), _as_float64(x)
    if a.shape != b.shape:
        raise ValueError(f"x_hat {a.shape} and x {b.shape} differ in shape")
    if b.size == 0:
        raise ValueError("SER of an empty set is undefined")
    return float(np.count_nonzero(a != b)) / b.size


def _as_float64(a: ArrayLike) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def ser_confidence_interval(errors: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (low, high) for an error rate from ``errors`` out of ``trials`` independent trials
    (scipy's ``binomtest(errors, trials).proportion_ci(level, method="wilson")``); (nan, nan) for no trials."""
    from scipy.stats import binomtest

    if trials == 0:
        return float("nan"), float("nan")
    if not 0 <= errors <= trials:
        raise ValueError(f"need 0 <= errors <= trials, got errors={errors}, trials={trials}")
    ci = binomtest(int(errors), int(trials)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)
