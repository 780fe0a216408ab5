"""The unfold lab's parts apart from its report: incremental training of one network, the classical baselines
(ISTA / FISTA at the best λ of a grid, AMP and VAMP with the Bayes denoiser, VAMP's state evolution), and reading
saved models back.

The training is the lab's, moved here unchanged: it runs through the engine (:func:`train_incremental`), so a
run session checkpoints and resumes it as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from dlsm.algorithms.sparse import SVD, amp, fista, ista, vamp, vamp_se_nmse_db
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.metrics import nmse_db
from dlsm.models.unfolded import Unfolded
from dlsm.problems.sparse import SparseProblem
from dlsm.result import ProgressFn
from dlsm.status import Status
from dlsm.training import Generation, IncrementalLog, train_incremental
from dlsm.training.optim import OptimizerName

ISTA_LAMBDAS = (0.3, 0.1, 0.03, 0.01, 0.003, 0.001)  # λ grid of plain ISTA, × λmax = median_i ‖Aᵀy_i‖∞


@dataclass(frozen=True)
class TrainPlan:
    """How every network is trained (the training settings of the lab's Config)."""

    steps_per_generation: int = 100
    batch_size: int = 64
    optimizer: OptimizerName = "adam"
    lr_schedule: Literal["constant", "cosine"] = "constant"
    incremental: bool = True

    @classmethod
    def of(cls, config: Any) -> TrainPlan:
        """The plan of a lab Config (any object with these five settings)."""
        return cls(config.steps_per_generation, config.batch_size, config.optimizer, config.lr_schedule,
                   config.incremental)


def train(model: Unfolded, problem: SparseProblem, plan: TrainPlan, generator: torch.Generator, name: str,
          progress: ProgressFn | None, lr: float, evaluate_on: tuple[torch.Tensor, torch.Tensor] | None = None,
          loss_kind: Literal["mse", "db"] = "mse") -> IncrementalLog:
    """Incremental training of ``model``: generation g trains layers 1..g on the loss of x̂_g, fresh batches.

    ``loss_kind``: ``"mse"``, the mean ‖x̂_g - x‖² over the batch, or ``"db"``, the batch NMSE in dB,
    10 log10(Σ‖x̂_g - x‖² / Σ‖x‖²). The two have the same minimiser batch by batch, but not the same
    gradient noise: the squared error of a batch is heavy-tailed (a few signals whose support is missed
    carry most of it), and in dB every batch weighs the same. On S2 this decides what DU-ISTA learns.
    With ``evaluate_on = (x, y)`` each generation ends with the test NMSE of its g-layer network
    (``test_nmse_db`` in the generation's log).
    """
    depth = [1]

    def loss_for(g: int):
        depth[0] = g
        if 1 < g and plan.incremental:
            model.init_layer_from(g - 1)  # the new layer starts from the last one

        def loss(net: Unfolded, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
            x, y = batch
            err = ((net(y, g) - x) ** 2).sum(-1)  # (batch,) ‖x̂_g - x‖²
            if loss_kind == "db":
                return 10 * torch.log10(err.sum() / (x**2).sum())
            return err.mean()
        return loss

    def evaluate(net: Unfolded) -> dict[str, float]:
        x, y = evaluate_on
        return {"test_nmse_db": nmse_db(net(y, depth[0]), x)}

    options = {"evaluate": evaluate} if evaluate_on is not None else {}
    gens = [Generation(model.layer_params(t), plan.steps_per_generation, lr) for t in range(model.T)]
    losses, run_name = loss_for, name
    if not plan.incremental:  # one generation: every layer (all starting at the ISTA / AMP values) at once
        params = [p for t in range(model.T) for p in model.layer_params(t)]
        gens = [Generation(params, plan.steps_per_generation * model.T, lr)]
        loss_all = loss_for(model.T)
        depth[0] = model.T
        losses, run_name = (lambda _g: loss_all), f"{name}-all"
    return train_incremental(model, losses, lambda _k: problem.draw(plan.batch_size, generator), gens,
                             optimizer=plan.optimizer, schedule=plan.lr_schedule, name=run_name,
                             progress=progress, generators={"data": generator}, skip_nonfinite=True, **options)


def per_layer(xs: list[torch.Tensor], x: torch.Tensor) -> np.ndarray:
    """NMSE [dB] of each estimate in ``xs`` against ``x``."""
    return np.array([nmse_db(xt, x) for xt in xs])


def classic(problem: SparseProblem, x: torch.Tensor, y: torch.Tensor, T: int) -> tuple[dict[str, np.ndarray], float]:
    """Per-iteration NMSE of ISTA and FISTA (best λ of a grid at iteration T), AMP and VAMP (undamped, one SVD
    of A) with the MMSE denoiser, and the λ chosen."""
    A = problem.A
    lam_max = float((y @ A).abs().max(dim=1).values.median())  # above it, x̂ = 0
    best = None
    for c in ISTA_LAMBDAS:
        lam = c * lam_max
        traj: list[torch.Tensor] = []
        ista(A, y, lam, T, track=lambda _t, xt, traj=traj: traj.append(xt))
        curve = per_layer(traj, x)
        if best is None or curve[-1] < best[1][-1]:
            best = (lam, curve)
    lam, out_ista = best
    traj = []
    fista(A, y, lam, T, track=lambda _t, xt: traj.append(xt))
    out = {"ista": out_ista, "fista": per_layer(traj, x)}
    traj = []
    amp(A, y, T, denoiser="bg", p=problem.p, sigma_x2=problem.sigma_x**2, noise_var=problem.noise_var,
        track=lambda _t, xt: traj.append(xt))
    out["amp"] = per_layer(traj, x)
    traj = []
    vamp(A, y, T, p=problem.p, sigma_x2=problem.sigma_x**2, noise_var=problem.noise_var,
         track=lambda _t, xt: traj.append(xt))
    out["vamp"] = per_layer(traj, x)
    return out, lam


def vamp_limit(problem: SparseProblem, T: int) -> np.ndarray:
    """VAMP's state evolution over the singular values of this A: the NMSE [dB] it predicts at t = 1..T (T,)."""
    s = SVD.of(problem.A.double()).s.cpu().numpy()  # (R,)
    return np.array(vamp_se_nmse_db(s**2, problem.n, problem.p, problem.sigma_x**2, problem.noise_var, T))


def load_saved(path: str) -> dict:
    """The trained models of a run folder (or its artifacts.pt) of the unfold lab."""
    file = Path(path)
    if file.is_dir():
        file = file / "artifacts.pt"
    if not file.is_file():
        raise ConfigError(t("unfold.err.load_path", path=repr(path)), key="load")
    from dlsm.checkpoints import load_plain  # plain messages for a damaged file and for one holding Python objects

    return load_plain(file)


@dataclass(frozen=True)
class Ending:
    """How the trainings of a run ended: the first status that is not completed (else completed), the
    optimizer steps and skipped steps of all of them, and for a divergence the loss that blew up and the
    first loss of that training."""

    status: Status = Status.COMPLETED
    steps: int = 0
    skipped: int = 0
    loss: float = math.nan
    first_loss: float = math.nan

    @classmethod
    def of(cls, logs: list[IncrementalLog]) -> Ending:
        fits = [fl for lg in logs for fl in lg.logs]
        stopped = next((fl for fl in fits if fl.status != Status.COMPLETED), None)
        status = stopped.status if stopped is not None else Status.COMPLETED
        losses = stopped.losses if stopped is not None and stopped.losses else [math.nan]
        return cls(status, sum(fl.steps_done for fl in fits), sum(fl.skipped for fl in fits), losses[-1], losses[0])

    @property
    def diverged(self) -> bool:
        return self.status == Status.DIVERGED
