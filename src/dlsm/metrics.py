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


# ----- sample quality of generative models (lecture 7) ---------------------------------------------------


def _points(a: ArrayLike, name: str) -> torch.Tensor:
    """A (n, d) float64 CPU tensor of sample points (vectors: images are flattened)."""
    t = a.detach().cpu() if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    t = t.to(torch.float64)
    if t.dim() == 1:
        t = t.unsqueeze(1)
    if t.dim() != 2:
        t = t.reshape(len(t), -1)
    if len(t) < 2:
        raise ValueError(f"{name} needs at least 2 points, got {len(t)}")
    return t


def energy_distance(a: ArrayLike, b: ArrayLike) -> float:
    """Energy distance between the samples a (n, d) and b (m, d), as the unbiased U-statistic:

        E(a, b) = 2/(n m) Σ_ij ‖a_i − b_j‖ − 1/(n(n−1)) Σ_{i≠i'} ‖a_i − a_i'‖ − 1/(m(m−1)) Σ_{j≠j'} ‖b_j − b_j'‖

    (Székely & Rizzo 2013). Its expectation is 2E‖X−Y‖ − E‖X−X'‖ − E‖Y−Y'‖ ≥ 0, zero iff the two
    distributions are equal; the estimate of two samples of one distribution is about 0 and can be
    slightly negative.
    """
    x, y = _points(a, "a"), _points(b, "b")
    n, m = len(x), len(y)
    xy = torch.cdist(x, y).mean()
    xx = torch.cdist(x, x).sum() / (n * (n - 1))  # the diagonal is 0
    yy = torch.cdist(y, y).sum() / (m * (m - 1))
    return float(2 * xy - xx - yy)


def _kth_neighbour_radius(x: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each point of x (n, d) to its k-th nearest other point of x: (n,)."""
    if not 1 <= k < len(x):
        raise ValueError(f"k must be in 1..{len(x) - 1} for {len(x)} points, got {k}")
    d = torch.cdist(x, x)  # (n, n), d_ii = 0 is the 0-th neighbour
    return d.kthvalue(k + 1, dim=1).values


def _share_inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor) -> float:
    """Fraction of ``points`` that lie in at least one ball B(centres_j, radii_j)."""
    inside = (torch.cdist(points, centres) <= radii.unsqueeze(0)).any(dim=1)  # (n,)
    return float(inside.double().mean())


def knn_precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall of generated samples (Kynkäänniemi et al., NeurIPS 2019).

    The real manifold is estimated by the union of balls around each real point with radius its distance
    to its k-th nearest real neighbour; likewise the fake manifold. Then

        precision = share of fake samples inside the real manifold   (are the samples realistic?)
        recall    = share of real samples inside the fake manifold   (is every part of the data covered?)

    Samples off the data (blur) lower the precision; modes that are missed lower the recall.
    Returns ``(precision, recall)``.
    """
    x, y = _points(real, "real"), _points(fake, "fake")
    precision = _share_inside(y, x, _kth_neighbour_radius(x, k))
    recall = _share_inside(x, y, _kth_neighbour_radius(y, k))
    return precision, recall


def frechet_distance(feats_a: ArrayLike, feats_b: ArrayLike) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula, Heusel et al. 2017):

        d² = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})

    feats (n, d): one row per sample (e.g. a classifier's penultimate layer).
    """
    x, y = _points(feats_a, "feats_a"), _points(feats_b, "feats_b")
    mu_a, mu_b = x.mean(0), y.mean(0)  # (d,)
    cov_a, cov_b = torch.cov(x.T).reshape(x.shape[1], -1), torch.cov(y.T).reshape(y.shape[1], -1)  # (d, d)
    w, v = torch.linalg.eigh(cov_a)
    root_a = (v * w.clamp(min=0).sqrt()) @ v.T  # Σ_a^{1/2}
    middle = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    return float(((mu_a - mu_b) ** 2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * middle)


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
