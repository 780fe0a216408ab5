"""Lecture 4: multiple linear regression on the course's crop-yield table by plain gradient descent.

Model ŷ = x w + b with x = (temperature, rainfall, humidity); loss the mean squared error over the five
regions; random initial w, b; gradients by autograd and the update w ← w - α ∂L/∂w, b ← b - α ∂L/∂b
(course: α = 1e-5). The lab compares gradient descent with the closed-form least-squares fit and
explains its speed by the Hessian H = (2/n) AᵀA of the loss (A = [X 1]): GD is stable only for
α < 2/λmax(H), and at such α the direction of λmin(H) shrinks by 1 - α λmin per step. On the raw table
κ = λmax/λmin is about 2e6, so GD with α = 1e-5 is far from the least-squares loss after 100 steps and
α = 1e-4 diverges; standardising the inputs brings κ down to about 7 and GD converges in tens of steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm import outcome, seeds
from dlsm.algorithms.least_squares import (
    LinearFit,
    Standardizer,
    gd_excess_loss,
    least_squares,
    mse,
    mse_hessian,
)
from dlsm.algorithms.quadratic_theory import gd_theory
from dlsm.config import LabConfig, param
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.outcome import Notes, metric
from dlsm.plotting.regression import plot_loss_with_floor, plot_predictions
from dlsm.problems.regression import FEATURES, crop_yields
from dlsm.result import Curve, ProgressFn, table_from_columns
from dlsm.status import Status
from dlsm.training import fit

#: Step size used when ``lr`` is none: the course's on raw inputs; on standardised inputs λmax(H) ≈ 4,
#: so 0.1 is well inside the stable range α < 2/λmax ≈ 0.5.
DEFAULT_LR = {False: 1e-5, True: 0.1}

PARAMETERS = tuple(f"w ({name.split(' ')[0]})" for name in FEATURES) + ("b",)


@dataclass(frozen=True)
class Config(LabConfig):
    """Gradient descent on the MSE of ŷ = x w + b, compared with the least-squares fit."""

    target: Literal["apples", "oranges"] = param(
        "apples", "yield to fit (course: apples; the source of the table also has oranges)")
    lr: float | None = param(
        None, "step size α; none: 1e-5 on raw inputs (the course), 0.1 on standardized inputs", gt=0)
    steps: int = param(100, "gradient-descent steps (the table's public source trains for 100)",
                       ge=1, le=1_000_000)
    standardize: bool = param(False, "run GD on z = (x - mean) / std of each input column (κ ≈ 7 instead of 2e6)")
    predict_at: tuple[float, ...] = param(
        (80.0, 80.0, 80.0), "input (temperature °F, rainfall mm, humidity %) to predict the yield at "
        "(course exercise: 80, 80, 80)", length=3)
    tol: float = param(0.01, "steps_to_tol counts the steps until the loss is within this fraction of the "
                       "least-squares loss", gt=0)

    @property
    def lr_used(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.standardize]


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """Gradient descent's fit against the least-squares fit, and the curvature of the loss that explains it."""

    loss: float = metric("loss", headline=True)
    lstsq_loss: float = metric("loss", headline=True)
    excess: float = metric()
    prediction: float = metric(headline=True)
    lstsq_prediction: float = metric(headline=True)
    lr: float = metric()
    lr_max: float = metric(headline=True)
    condition_number: float = metric()
    lambda_max: float = metric()
    lambda_min: float = metric()
    stable_by_theory: bool = metric()
    diverged: bool = metric(headline=True)
    steps_run: int = metric("steps")
    loss_initial: float = metric("loss")
    steps_to_tol: int | None = metric("steps", headline=True, default=None)


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    generator = seeds.generator(config.seed, "main")
    X, y = crop_yields(config.target)  # (5, 3), (5,)
    x_new = torch.tensor(config.predict_at, dtype=X.dtype).unsqueeze(0)  # (1, 3)
    lr = config.lr_used

    scaler = Standardizer.fit(X) if config.standardize else None
    inputs = scaler.transform(X) if scaler else X  # (5, 3): what gradient descent sees

    best = least_squares(X, y)  # closed form, raw units
    best_inputs = least_squares(inputs, y)  # the same minimiser in GD's coordinates
    loss_star = float(mse(X, y, best.w, best.b))

    H = mse_hessian(inputs)  # (4, 4)
    theory = gd_theory(H.numpy(), lr)
    theory_raw = gd_theory(mse_hessian(X).numpy(), lr) if scaler else theory

    # Course: random initial w, b (torch.randn), gradients by autograd, plain GD.
    w = torch.randn(3, generator=generator, dtype=X.dtype).requires_grad_(True)  # (3,)
    b = torch.randn((), generator=generator, dtype=X.dtype).requires_grad_(True)  # ()
    theta0 = torch.cat([w.detach(), b.detach().reshape(1)])  # (4,)
    target_loss = (1 + config.tol) * loss_star
    reached: list[int] = []

    def step(k: int) -> dict[str, float]:
        loss = mse(inputs, y, w, b)
        loss.backward()
        with torch.no_grad():
            w.sub_(lr * w.grad)  # w ← w - α ∂L/∂w (the course writes w -= w.grad * 1e-5)
            b.sub_(lr * b.grad)
        w.grad = None
        b.grad = None
        value = float(loss.detach())
        if not reached and value <= target_loss:
            reached.append(k)
        return {"loss": value}

    log = fit(step, config.steps, progress=progress, log_every=max(1, config.steps // 2000))

    with torch.no_grad():
        loss_final = float(mse(inputs, y, w, b))
        gd_raw = scaler.to_raw(w, b) if scaler else LinearFit(w=w.detach().clone(), b=b.detach().clone())
        pred_new = float(gd_raw.predict(x_new)[0])
        pred_star = float(best.predict(x_new)[0])
        pred_train = gd_raw.predict(X).numpy()
        star_train = best.predict(X).numpy()

    steps = np.asarray(log.steps, dtype=float)
    losses = np.asarray(log.losses)
    with np.errstate(over="ignore", invalid="ignore"):
        predicted = loss_star + gd_excess_loss(H, theta0 - _theta(best_inputs), lr, torch.tensor(log.steps)).numpy()
    loss_initial = float(losses[0])
    diverged = log.status == Status.DIVERGED or not math.isfinite(loss_final) or loss_final > loss_initial

    names = list(PARAMETERS)
    columns = {name: X[:, j].numpy() for j, name in enumerate(FEATURES)}
    return Outcome(
        loss=loss_final,
        lstsq_loss=loss_star,
        excess=loss_final / loss_star - 1 if math.isfinite(loss_final) else math.inf,
        prediction=pred_new,
        lstsq_prediction=pred_star,
        lr=lr,
        lr_max=theory.lr_max,
        condition_number=theory.condition_number,
        lambda_max=max(theory.eigenvalues),
        lambda_min=min(theory.eigenvalues),
        stable_by_theory=theory.regime == "converges",
        diverged=diverged,
        steps_run=log.steps_done,
        loss_initial=loss_initial,
        steps_to_tol=reached[0] if reached else None,
        status=Status.INTERRUPTED if log.status == Status.INTERRUPTED else Status.COMPLETED,
        tables={
            "weights": table_from_columns({
                "parameter": names,
                "gradient descent": torch.cat([gd_raw.w, gd_raw.b.reshape(1)]).numpy(),
                "least squares": _theta(best).numpy(),
            }),
            "data": table_from_columns({
                "region": np.arange(1, 6), **columns, config.target: y.numpy(),
                "gradient descent": pred_train, "least squares": star_train,
            }),
            "curvature": curvature_table(H, lr, names, standardized=scaler is not None),
        },
        curves={"loss": Curve(steps, losses, t("common.label.step"), t("common.label.mse_loss"), log_y=True)},
        artifacts={"w_init": theta0[:3], "b_init": theta0[3], "w": w.detach(), "b": b.detach(),
                   "w_raw": gd_raw.w, "b_raw": gd_raw.b},
        data={"theory": theory, "theory_raw": theory_raw, "predicted": predicted, "y": y.numpy(),
              "pred_train": pred_train, "star_train": star_train},
    )


def notes(config: Config, out: Outcome) -> Notes:
    """What gradient descent reached; apart, the eigenvalues of the loss's Hessian that explain it."""
    found = Notes()
    if out.status == Status.INTERRUPTED:
        found.measured.append(t("linreg.note.interrupted", steps=out.steps_run, total=config.steps))
    theory_notes(found, out.data["theory"], out.data["theory_raw"], config, out)
    if out.steps_to_tol is None:
        found.measured.append(t("linreg.note.tol_not_reached", percent=100 * config.tol, steps=out.steps_run))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """The loss per step against the least-squares floor (and theory's curve), and the predictions."""
    where = t("linreg.word.standardized") if config.standardize else t("linreg.word.raw")
    target = {"apples": t("linreg.word.apples"), "oranges": t("linreg.word.oranges")}[config.target]
    curve = out.curves["loss"]
    return {
        "loss": plot_loss_with_floor(curve.x, curve.y, out.lstsq_loss,
                                     t("linreg.title.loss", target=target, lr=out.lr, where=where),
                                     theory=out.data["predicted"]),
        "fit": plot_predictions(out.data["y"], {t("common.legend.gradient_descent"): out.data["pred_train"],
                                                t("common.legend.least_squares"): out.data["star_train"]},
                                t("linreg.title.fit", target=target)),
    }


def _theta(fit_: LinearFit) -> torch.Tensor:
    """θ = (w, b) as one vector."""
    return torch.cat([fit_.w, fit_.b.reshape(1)])  # (4,)


def curvature_table(H: torch.Tensor, lr: float, names: list[str], standardized: bool):
    """One row per eigen-direction of H: λ_i, 2/λ_i, the per-step factor 1 - αλ_i, steps per factor e."""
    lam, U = torch.linalg.eigh(H)  # (4,), (4, 4)
    factor = 1 - lr * lam
    with np.errstate(divide="ignore"):
        per_e = np.where(np.abs(factor.numpy()) < 1, -1 / np.log(np.abs(factor.numpy())), np.inf)
    main = [names[int(torch.argmax(U[:, i].abs()))] for i in range(len(lam))]
    weight = [float(U[:, i].abs().max() ** 2) for i in range(len(lam))]
    return table_from_columns({
        "mode": np.arange(1, len(lam) + 1),
        "lambda": lam.numpy(),
        "2/lambda": (2 / lam).numpy(),
        "1 - lr*lambda": factor.numpy(),
        "steps per factor e": per_e,
        "mostly": main,
        "share": weight,
        "inputs": ["standardized" if standardized else "raw"] * len(lam),
    })


def theory_notes(found: Notes, theory, theory_raw, config: Config, out: Outcome) -> None:
    """What the run reached (measured), and why by the eigenvalues of the loss's Hessian (explanations)."""
    lr, steps_done, loss_final, loss_star = out.lr, out.steps_run, out.loss, out.lstsq_loss
    lam_min, lam_max = min(theory.eigenvalues), max(theory.eigenvalues)
    where = t("linreg.word.standardized") if config.standardize else t("linreg.word.raw")
    found.explanations.append(t("linreg.note.hessian", where=where, lam_max=lam_max, lam_min=lam_min,
                                kappa=theory.condition_number, lr_max=theory.lr_max))
    if config.standardize:
        found.explanations.append(t("linreg.note.raw_kappa", kappa=theory_raw.condition_number,
                                    lr_max=theory_raw.lr_max))
    if out.diverged:
        growth = abs(1 - lr * lam_max)
        found.measured.append(t("linreg.note.diverged", steps=steps_done, loss=loss_final,
                                loss_initial=out.loss_initial))
        found.explanations.append(t("linreg.note.diverged_why", lr=lr, lr_max=theory.lr_max, growth=growth,
                                    growth2=growth**2))
    elif loss_final > (1 + config.tol) * loss_star:
        slow = lr * lam_min
        advice = t("linreg.note.advice_standardized") if config.standardize else t("linreg.note.advice_raw")
        found.measured.append(t("linreg.note.slow", steps=steps_done, loss=loss_final,
                                percent=100 * (loss_final / loss_star - 1), loss_star=loss_star))
        found.explanations.append(t("linreg.note.slow_why", slow=slow, per_e=1 / slow, advice=advice))
    else:
        found.measured.append(t("linreg.note.converged", steps=steps_done, loss=loss_final,
                                percent=100 * config.tol, loss_star=loss_star))


LAB = Lab(
    name="linreg",
    lecture=4,
    description="multiple linear regression (crop yields) by gradient descent vs least squares; why lr 1e-4 diverges",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
