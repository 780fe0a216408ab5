"""2-D point clouds for the diffusion lab (lecture 7), with the clean set each one is drawn around.

Every data set is a clean generating set S (a curve, a union of squares, a few points) plus isotropic
Gaussian noise of standard deviation ``noise`` in the final coordinates::

    x = s + noise · ε,   s ~ uniform on S (by its parameter),   ε ~ N(0, I_2)

- ``moons``: scikit-learn's ``make_moons``: the upper unit half circle around (0, 0) and the lower one
  around (1, 0.5);
- ``swiss_roll``: scikit-learn's ``make_swiss_roll``, coordinates (x, z), scaled by 1/10 as in the course:
  the spiral (t cos t, t sin t)/10, t ∈ [1.5π, 4.5π];
- ``s_curve``: scikit-learn's ``make_s_curve``, coordinates (x, z), scaled by 1/10 as in the course;
- ``circles``: scikit-learn's ``make_circles`` (radii 1 and 0.5);
- ``checkerboard``: uniform on the 8 dark unit squares of a 4×4 board on [-2, 2]² (Grathwohl et al. 2019);
- ``gaussians``: a mixture of 8 equally weighted Gaussians centred on the circle of radius 2.

:func:`distance_to_clean` gives each point's distance to S, so the share of samples farther than a
radius (a few noise standard deviations) measures how many generated points fall off the data.
Randomness comes only from the NumPy generator (or seed) passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import make_circles, make_moons, make_s_curve, make_swiss_roll

from dlsm.errors import ConfigError

COURSE_SCALE = 0.1  # the course divides the swiss roll and the S-curve by 10


def _sk_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _moons(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    return make_moons(n, noise=noise, random_state=_sk_seed(rng))[0]


def _swiss_roll(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    x = make_swiss_roll(n, noise=noise / COURSE_SCALE, random_state=_sk_seed(rng))[0]  # (n, 3)
    return x[:, [0, 2]] * COURSE_SCALE


def _s_curve(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    x = make_s_curve(n, noise=noise / COURSE_SCALE, random_state=_sk_seed(rng))[0]  # (n, 3)
    return x[:, [0, 2]] * COURSE_SCALE


def _circles(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    return make_circles(n, noise=noise, factor=0.5, random_state=_sk_seed(rng))[0]


def _checkerboard(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    x1 = rng.uniform(-2, 2, n)  # (n,)
    x2 = rng.uniform(0, 1, n) - 2 * rng.integers(0, 2, n) + np.floor(x1) % 2  # dark squares only
    return np.stack([x1, x2], axis=1) + noise * rng.standard_normal((n, 2))


GAUSSIAN_CENTRES = 2.0 * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], axis=1)


def _gaussians(n: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    k = rng.integers(0, len(GAUSSIAN_CENTRES), n)
    return GAUSSIAN_CENTRES[k] + noise * rng.standard_normal((n, 2))


def _polyline(f: Callable[[np.ndarray], np.ndarray], lo: float, hi: float, n: int = 4000) -> np.ndarray:
    return f(np.linspace(lo, hi, n))  # (n, 2) dense points of a curve


def _clean_moons() -> np.ndarray:
    u = np.linspace(0, np.pi, 4000)
    upper = np.stack([np.cos(u), np.sin(u)], axis=1)
    lower = np.stack([1 - np.cos(u), 0.5 - np.sin(u)], axis=1)
    return np.concatenate([upper, lower])


def _clean_swiss_roll() -> np.ndarray:
    return COURSE_SCALE * _polyline(lambda t: np.stack([t * np.cos(t), t * np.sin(t)], 1), 1.5 * np.pi,
                                    4.5 * np.pi, 8000)


def _clean_s_curve() -> np.ndarray:
    return COURSE_SCALE * _polyline(lambda t: np.stack([np.sin(t), np.sign(t) * (np.cos(t) - 1)], 1),
                                    -1.5 * np.pi, 1.5 * np.pi, 8000)


def _clean_circles() -> np.ndarray:
    u = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    ring = np.stack([np.cos(u), np.sin(u)], axis=1)
    return np.concatenate([ring, 0.5 * ring])


def _dist_checkerboard(x: np.ndarray) -> np.ndarray:
    """Distance of each point to the union of the 8 dark unit squares [i, i+1] × [j, j+1]."""
    best = np.full(len(x), np.inf)
    for i in range(-2, 2):
        for j in range(-2, 2):
            if (i + j) % 2 != 0:  # dark squares: floor(x1) + floor(x2) even
                continue
            dx = np.maximum(np.maximum(i - x[:, 0], x[:, 0] - (i + 1)), 0)
            dy = np.maximum(np.maximum(j - x[:, 1], x[:, 1] - (j + 1)), 0)
            best = np.minimum(best, np.hypot(dx, dy))
    return best


def _dist_to_points(points: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    ref = torch.as_tensor(points, dtype=torch.float64)

    def dist(x: np.ndarray) -> np.ndarray:
        out = [torch.cdist(torch.as_tensor(chunk, dtype=torch.float64), ref).min(dim=1).values
               for chunk in np.array_split(x, max(1, len(x) // 2000))]
        return torch.cat(out).numpy()

    return dist


@dataclass(frozen=True)
class Toy2D:
    """One data set: a sampler ``draw(n, noise, rng)``, the distance to its clean set ``distance(x)`` and the
    noise standard deviation used when none is given (sized to the set: the S-curve is 0.2 wide)."""

    name: str
    description: str
    draw: Callable[[int, float, np.random.Generator], np.ndarray]
    distance: Callable[[np.ndarray], np.ndarray]
    default_noise: float


DATASETS: dict[str, Toy2D] = {
    "moons": Toy2D("moons", "two interleaved half circles (sklearn make_moons)", _moons,
                   _dist_to_points(_clean_moons()), 0.05),
    "swiss_roll": Toy2D("swiss_roll", "a spiral (sklearn make_swiss_roll, (x, z) / 10)", _swiss_roll,
                        _dist_to_points(_clean_swiss_roll()), 0.05),
    "s_curve": Toy2D("s_curve", "an S (sklearn make_s_curve, (x, z) / 10)", _s_curve,
                     _dist_to_points(_clean_s_curve()), 0.01),
    "circles": Toy2D("circles", "two concentric circles (sklearn make_circles, factor 0.5)", _circles,
                     _dist_to_points(_clean_circles()), 0.05),
    "checkerboard": Toy2D("checkerboard", "uniform on 8 squares of a 4×4 board", _checkerboard,
                                 _dist_checkerboard, 0.02),
    "gaussians": Toy2D("gaussians", "8 Gaussians on a circle of radius 2", _gaussians,
                       _dist_to_points(GAUSSIAN_CENTRES), 0.1),
}


def get_dataset(name: str) -> Toy2D:
    if name not in DATASETS:
        raise ConfigError.not_one_of("data", name, DATASETS)
    return DATASETS[name]


@dataclass(frozen=True)
class ToySplits:
    """Training points and two independent held-out sets of the same distribution (float32 tensors (n, 2)).

    ``heldout`` is the reference the samples are compared with; ``heldout2`` scores the same metrics
    against ``heldout`` and so gives the floor (what a perfect generator would score).
    """

    train: torch.Tensor
    heldout: torch.Tensor
    heldout2: torch.Tensor


def toy_splits(name: str, n_train: int, n_eval: int, noise: float, seed: int) -> ToySplits:
    """Draw train (n_train), held-out and second held-out (n_eval each) sets with one NumPy generator."""
    data = get_dataset(name)
    rng = np.random.default_rng(seed)
    sets = [torch.as_tensor(data.draw(n, noise, rng), dtype=torch.float32) for n in (n_train, n_eval, n_eval)]
    return ToySplits(*sets)


def off_share(name: str, x: np.ndarray | torch.Tensor, radius: float) -> float:
    """Share of the points x (n, 2) farther than ``radius`` from the clean generating set of data set ``name``."""
    pts = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    pts = pts.astype(np.float64)
    finite = np.isfinite(pts).all(axis=1)
    d = np.full(len(pts), np.inf)
    d[finite] = get_dataset(name).distance(pts[finite])
    return float(np.mean(d > radius))
