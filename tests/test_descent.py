"""Hand-written update rules against torch.optim, and the quadratic theory against simulation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlsm.algorithms.descent import Adam, GradientDescent, Momentum, Nesterov, descend
from dlsm.algorithms.quadratic_theory import gd_theory, momentum_rate

Q = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)


def grad(x: torch.Tensor) -> torch.Tensor:
    return Q @ x


@pytest.mark.parametrize(
    ("rule", "make_opt"),
    [
        (GradientDescent(0.1), lambda p: torch.optim.SGD([p], lr=0.1)),
        (Momentum(0.1, 0.9), lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9)),
        (Nesterov(0.05, 0.8), lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, nesterov=True)),
        (Adam(0.1), lambda p: torch.optim.Adam([p], lr=0.1)),
    ],
    ids=["gd", "momentum", "nesterov", "adam"],
)
def test_rules_match_torch_optim(rule, make_opt):
    x0 = torch.tensor([1.5, -2.0], dtype=torch.float64)
    ours = descend(grad, x0, rule, 30).x
    p = x0.clone().requires_grad_(True)
    opt = make_opt(p)
    ref = [p.detach().clone()]
    for _ in range(30):
        opt.zero_grad()
        (0.5 * p @ Q @ p).backward()
        opt.step()
        ref.append(p.detach().clone())
    torch.testing.assert_close(ours, torch.stack(ref), rtol=1e-12, atol=1e-12)


def test_divergence_stops_early_and_is_flagged():
    traj = descend(grad, torch.tensor([1.0, 1.0], dtype=torch.float64), GradientDescent(2.0), 10_000)
    assert traj.diverged
    assert traj.steps_run < 10_000
    assert torch.isfinite(traj.x).all()


def test_gd_theory_on_the_course_quadratic():
    Qc = np.diag([1.0, 10.0])
    assert gd_theory(Qc, 0.18).regime == "converges"
    assert gd_theory(Qc, 0.2).regime == "oscillates"
    assert gd_theory(Qc, 0.21).regime == "diverges"
    th = gd_theory(Qc, 0.18)
    assert th.lr_max == pytest.approx(0.2)
    assert th.lr_opt == pytest.approx(2 / 11)
    assert th.rate == pytest.approx(0.82)          # max(|1-0.18|, |1-1.8|)
    assert th.rate_opt == pytest.approx(9 / 11)    # (κ-1)/(κ+1), κ = 10


def test_negative_eigenvalue_diverges_and_zero_eigenvalue_stalls():
    assert gd_theory(np.array([[1.0, 2.0], [2.0, 1.0]]), 0.1).regime == "diverges"
    assert gd_theory(np.diag([0.0, 2.0]), 0.1).regime == "stalls"


@pytest.mark.parametrize("seed", range(5))
def test_predicted_rates_match_simulation(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(3, 3))
    Qr = A @ A.T + 0.5 * np.eye(3)
    lam = np.linalg.eigvalsh(Qr)
    Qt = torch.from_numpy(Qr)
    x0 = torch.from_numpy(rng.normal(size=3))
    lr = 1.0 / lam.max()
    for rule, predicted in [
        (GradientDescent(lr), gd_theory(Qr, lr).rate),
        (Momentum(lr, 0.5), momentum_rate(lam, lr, 0.5)),
        (Nesterov(lr, 0.5), momentum_rate(lam, lr, 0.5, nesterov=True)),
    ]:
        x = descend(lambda v: Qt @ v, x0, rule, 400).x
        e = x.norm(dim=1).numpy()
        measured = (e[400] / e[300]) ** (1 / 100)
        assert measured == pytest.approx(predicted, rel=0.02)
