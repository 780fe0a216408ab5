"""Lecture 1: fit the parametric model f_Θ(x) = a x² + b x + c to noisy samples by gradient descent.

Loss L(Θ) = 1/(2n) Σ_i (y_i - f_Θ(x_i))² (the lecture's squared error, averaged so the step size does not
depend on n). Its gradient is computed by autograd, and the update is Θ := Θ - α ∇L(Θ). L is a quadratic
in Θ with Hessian H = ΦᵀΦ / n, so gradient descent reaches the least-squares solution
Θ* = argmin ‖y - ΦΘ‖² iff 0 < α < 2/λmax(H); Θ* itself comes from numpy's lstsq as the independent oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dlsm import outcome
from dlsm.algorithms.quadratic_theory import GDTheory, gd_theory
from dlsm.config import LabConfig, param
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.outcome import Notes, metric
from dlsm.plotting.curves import plot_curves
from dlsm.plotting.fit import plot_fit, plot_parameters
from dlsm.problems.polynomial import features, sample_quadratic
from dlsm.result import Curve, ProgressFn, Table
from dlsm.seeds import generator
from dlsm.status import Status
from dlsm.training import FitLog, fit


@dataclass(frozen=True)
class Config(LabConfig):
    """Samples of a known quadratic plus noise, and the gradient-descent settings."""

    true_theta: tuple[float, ...] = param((2.0, -1.0, 0.5), "true (a, b, c) that generates the data", length=3)
    n: int = param(50, "number of training samples", ge=3, le=10_000_000)
    noise_std: float = param(0.2, "standard deviation of the additive Gaussian noise", ge=0)
    x_min: float = param(-1.0, "samples x are uniform on [x_min, x_max]")
    x_max: float = param(1.0, "right end of the sampling interval")
    lr: float = param(0.5, "learning rate α (stable below 2/λmax of the loss Hessian, about 1.8 here)", gt=0)
    steps: int = param(1000, "gradient-descent steps", ge=1, le=10_000_000)

    quick = {"steps": 300}

    def check(self) -> None:
        if self.x_max <= self.x_min:
            raise ConfigError(t("quadfit.err.x_range", x_max=self.x_max, x_min=self.x_min), key="x_max")


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """The parameters gradient descent reached, the least-squares oracle, and the theory of the step α."""

    a: float = metric(headline=True)
    b: float = metric(headline=True)
    c: float = metric(headline=True)
    a_ls: float = metric()
    b_ls: float = metric()
    c_ls: float = metric()
    distance_to_ls: float = metric(headline=True)
    loss_final: float = metric("loss", headline=True)
    loss_ls: float = metric("loss")
    steps_run: int = metric("steps")
    diverged: bool = metric(headline=True)
    lr_max: float = metric()
    rate_theory: float = metric()
    condition_number: float = metric()


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    gen = generator(config.seed, "main")
    x, y = sample_quadratic(config.n, config.true_theta, config.noise_std, config.x_min, config.x_max, gen)
    Phi = features(x)                                          # (n, 3)
    theta_ls = np.linalg.lstsq(Phi.numpy(), y.numpy(), rcond=None)[0]  # the oracle Θ*
    loss_ls = float(0.5 * np.mean((y.numpy() - Phi.numpy() @ theta_ls) ** 2))
    theory = gd_theory((Phi.T @ Phi / config.n).numpy(), config.lr)

    theta = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    path = [theta.detach().clone()]

    def step(k: int) -> dict[str, float]:
        loss = 0.5 * ((y - Phi @ theta) ** 2).mean()
        (grad,) = torch.autograd.grad(loss, theta)
        with torch.no_grad():
            theta.sub_(config.lr * grad)
        path.append(theta.detach().clone())
        return {"loss": float(loss.detach()), "grad_norm": float(grad.norm())}

    log = fit(step, config.steps, progress=progress)
    thetas = torch.stack(path).numpy()                         # (steps_done + 1, 3)
    final = thetas[-1]
    steps = np.asarray(log.steps)
    return Outcome(
        a=float(final[0]), b=float(final[1]), c=float(final[2]),
        a_ls=float(theta_ls[0]), b_ls=float(theta_ls[1]), c_ls=float(theta_ls[2]),
        distance_to_ls=float(np.linalg.norm(final - theta_ls)),
        loss_final=log.losses[-1] if log.losses else float("nan"),
        loss_ls=loss_ls,
        steps_run=log.steps_done,
        diverged=log.status == Status.DIVERGED or not np.isfinite(final).all(),
        lr_max=theory.lr_max,
        rate_theory=theory.rate,
        condition_number=theory.condition_number,
        status=Status.INTERRUPTED if log.status == Status.INTERRUPTED else Status.COMPLETED,
        tables={"parameters": Table(
            ["parameter", "true", "least squares (lstsq)", "gradient descent"],
            [[n, float(true), float(s), float(g)]
             for n, true, s, g in zip("abc", config.true_theta, theta_ls, final, strict=True)])},
        curves={
            "loss_gap": Curve(steps, np.asarray(log.losses) - loss_ls, t("common.label.step"), "L(Θ_k) - L(Θ*)",
                              log_y=True),
            "distance": Curve(np.arange(len(thetas)), np.linalg.norm(thetas - theta_ls, axis=1),
                              t("common.label.step"), "‖Θ_k - Θ*‖", log_y=True),
        },
        artifacts={"theta": torch.from_numpy(final)},
        data={"x": x.numpy(), "y": y.numpy(), "thetas": thetas, "theta_ls": theta_ls, "theory": theory,
              "log": log},
    )


def notes(config: Config, out: Outcome) -> Notes:
    """How far gradient descent got (or how it diverged, or where it was interrupted); apart, the theory."""
    log: FitLog = out.data["log"]
    theory: GDTheory = out.data["theory"]
    found = Notes()
    if out.diverged:
        if log.status == Status.DIVERGED:
            found.measured.append(t("quadfit.note.diverged_loss", loss=log.losses[-1], step=log.steps[-1],
                                    first=log.losses[0]))
        else:
            found.measured.append(t("quadfit.note.diverged_unbounded", steps=out.steps_run))
    elif out.steps_run:
        found.measured.append(t("quadfit.note.reached", steps=out.steps_run, distance=out.distance_to_ls,
                                gap=out.loss_final - out.loss_ls))
    if log.status == Status.INTERRUPTED:
        found.measured.append(t("quadfit.note.interrupted", steps=log.steps_done, total=config.steps))
    found.explanations.append(t("quadfit.note.theory",
                                eigenvalues=", ".join(f"{v:.4g}" for v in theory.eigenvalues),
                                lr_max=theory.lr_max, rate=theory.rate, kappa=theory.condition_number))
    if out.diverged and config.lr > theory.lr_max:
        found.explanations.append(t("quadfit.note.diverged_why", lr=config.lr, lr_max=theory.lr_max))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """The data with the fitted curves, the loss above the least-squares loss, and the parameters per step."""
    d = out.data
    final = d["thetas"][-1]
    return {
        "fit": plot_fit(d["x"], d["y"], final, d["theta_ls"], np.asarray(config.true_theta)),
        "loss": plot_curves({f"α = {config.lr:g}": out.curves["loss_gap"]}, title=t("quadfit.title.loss")),
        "parameters": plot_parameters(d["thetas"], d["theta_ls"]),
    }


LAB = Lab(
    name="quadfit",
    lecture=1,
    description="fit f(x) = a x² + b x + c to noisy data by gradient descent; compare with least squares",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
