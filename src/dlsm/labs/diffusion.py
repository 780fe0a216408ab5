"""Lecture 7: denoising diffusion (DDPM) on 2-D point clouds and on digits, with measured sample quality.

A noise-prediction network ε̂(x_t, t) is trained on the loss E‖ε − ε̂(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖² (Ho et al.
2020) and sampled ancestrally from x_T ~ N(0, I) (:mod:`dlsm.algorithms.ddpm`). EMA weights and gradient
clipping come from the training engine; the EMA model is the one sampled.

``recipe=tuned`` (default) works; ``recipe=course`` is the course's setting: 100 sigmoid steps from 1e-5 to
5e-3, the conditional-linear network, EMA 0.9, 1,000 epochs. Its ᾱ_T = 0.78: the forward process never
reaches noise (x_T keeps √0.78 = 88 % of x_0), so sampling from N(0, I) starts from the wrong distribution
and cannot recover the data. Every other key left at none takes the recipe's value.

Sample quality is measured (2-D sets) by the energy distance to a held-out set, k-NN precision and recall
(Kynkäänniemi et al. 2019) and the share of samples farther than ``off_radius`` from the clean generating
curve, each beside the same number for a second held-out set (the floor) and for N(0, I) noise (the
ceiling). For ``data=digits`` a small U-Net is trained on the embedded MNIST digits and its samples are
judged by the lecture-3 CNN (:mod:`dlsm.labs._digit_quality`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from dlsm.algorithms.ddpm import DDPMScheduler, ScheduleName, VarianceName, noise_prediction_loss
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.errors import ConfigError
from dlsm.labs import Lab
from dlsm.labs._digit_quality import quality_table_rows, train_judge
from dlsm.metrics import energy_distance, knn_precision_recall
from dlsm.models.denoisers import CourseDenoiser, SinusoidalDenoiser, SmallUNet
from dlsm.plotting.generative import (
    plot_image_grid,
    plot_image_process,
    plot_loss,
    plot_process_2d,
    plot_samples_2d,
    plot_schedule,
)
from dlsm.problems.images import load_embedded_mnist
from dlsm.problems.toy2d import DATASETS, get_dataset, off_share, toy_splits
from dlsm.result import Curve, ProgressFn, Result, table_from_columns
from dlsm.training import (
    EpochBatches,
    Trainer,
    carry_status,
    count_parameters,
    make_optimizer,
    make_schedule,
    want_figures,
)

DataName = Literal["moons", "swiss_roll", "s_curve", "circles", "checkerboard", "gaussians", "digits"]
ALPHA_BAR_T_MAX = 0.01  # ᾱ_T above this: x_T keeps > 10 % of x_0's amplitude and N(0, I) is the wrong start
MIN_STEPS = 10
#: Generated digits drawn in the samples figure (all of them are scored).
SHOWN_DIGITS = 60

#: The course's schedule (lecture 7) and its training of the 2-D network.
COURSE_SCHEDULE = {"schedule": "sigmoid", "steps": 100, "beta_min": 1e-5, "beta_max": 5e-3, "variance": "beta"}
COURSE_2D = {**COURSE_SCHEDULE, "network": "course", "width": 128, "epochs": 1000, "batch_size": 128, "lr": 1e-3,
             "lr_schedule": "constant", "ema_decay": 0.9, "clip_sample": None}
#: A setting that works on the 2-D sets: the forward process reaches noise (DDPM's linear β from 1e-4 to 0.02 over
#: T = 1000 steps, Ho et al. 2020: ᾱ_T = 4.0e-5), the posterior variance keeps the last steps sharp, the network
#: sees Fourier features of x, a one-cycle learning rate and a slower EMA. Steps matter more than width here: a
#: 64-wide network's step took 2.0 ms against 3.2-3.4 ms for a 128-wide one (batch 256, one CPU thread), so 18,000
#: updates (450 epochs at batch 256) fit in the time of about 11,000, and ended sharper. Many small steps matter
#: for recall: with T = 200 and β up to 0.1 the same training gave moons too thin at their ends (seed 0: recall
#: 0.968 against the held-out set's 0.980); with T = 1000 it gave 0.979 (seeds 1, 2: 0.976, 0.979). T costs
#: only sampling time, not training time.
#: (The cosine schedule ends with β ≈ 0.999 at T = 100, and its first reverse step divides by √(1 − β): it
#: amplifies the network's error 30 times.)
TUNED_2D = {"schedule": "linear", "steps": 1000, "beta_min": 1e-4, "beta_max": 0.02, "variance": "posterior",
            "network": "sinusoidal", "width": 64, "epochs": 450, "batch_size": 256, "lr": 3e-3,
            "lr_schedule": "onecycle", "ema_decay": 0.99, "clip_sample": None}
TUNED_DIGITS = {"schedule": "cosine", "steps": 500, "beta_min": 1e-4, "beta_max": 0.02, "variance": "posterior",
                "network": "unet", "batch_size": 128, "lr": 2e-3, "lr_schedule": "onecycle", "ema_decay": 0.999,
                "clip_sample": 1.0}
RECIPE_KEYS = tuple(TUNED_2D)


@dataclass(frozen=True)
class Config(LabConfig):
    """DDPM on a 2-D point cloud or on digits; keys left at none take the recipe's value."""

    data: DataName = param("moons", "data set: a 2-D point cloud (course: moons) or the embedded MNIST digits")
    recipe: Literal["tuned", "course"] = param(
        "tuned", "tuned: a setting that works; course: the lecture's schedule and network (ᾱ_T = 0.78, fails)")
    n_train: int | None = param(None, "training points (none: 10,000 as in the course; digits: 4,000)", ge=2,
                                le=1_000_000)
    noise: float | None = param(None, "noise std around the clean set (none: the set's own, moons 0.05)", ge=0)
    schedule: ScheduleName | None = param(None, "β schedule (none: the recipe's; tuned linear, course sigmoid)")
    steps: int | None = param(None, "diffusion steps T (none: the recipe's; course 100)", ge=1, le=10_000)
    beta_min: float | None = param(None, "first β (none: the recipe's; course 1e-5; unused by cosine)", gt=0, lt=1)
    beta_max: float | None = param(None, "last β (none: the recipe's; course 5e-3; unused by cosine)", gt=0, lt=1)
    variance: VarianceName | None = param(
        None, "reverse-step σ_t²: beta (course), posterior β̃_t, or analytic (Analytic-DPM, fitted after training) "
              "(none: recipe)")
    network: Literal["course", "sinusoidal", "unet"] | None = param(
        None, "ε-network: course (conditional linear), sinusoidal (time-embedding MLP), unet (digits)")
    width: int | None = param(None, "hidden units of the 2-D networks (none: the recipe's; course 128, tuned 64)",
                              ge=1, le=4096)
    channels: int = param(32, "base channels of the U-Net (data=digits)", ge=8, le=512)
    epochs: float | None = param(None, "passes over the 2-D training set (none: recipe; course 1000)", gt=0)
    digit_epochs: float = param(40, "passes over the digits (data=digits; --full: 300, meant for a GPU)", gt=0)
    batch_size: int | None = param(None, "mini-batch size (none: the recipe's; course 128)", ge=1)
    lr: float | None = param(None, "Adam 学習係数 (none: the recipe's; course 1e-3)", gt=0)
    lr_schedule: Literal["constant", "onecycle", "cosine"] | None = param(
        None, "learning-rate schedule (none: the recipe's; course constant)")
    ema_decay: float | None = param(None, "EMA decay of the sampled weights (none: recipe; course 0.9)", ge=0, lt=1)
    clip_sample: float | None = param(None, "clip the reverse steps' estimate of x_0 to ±this (none: the "
                                             "recipe's; digits 1, the pixel range; 2-D: no clipping)", gt=0)
    clip_grad_norm: float = param(1.0, "gradient-norm clipping (course 1)", gt=0)
    antithetic: bool = param(True, "draw training steps in antithetic pairs (t, T-1-t) as the course does")
    n_eval: int = param(2000, "points in each of the two held-out sets (2-D)", ge=10, le=100_000)
    n_samples: int = param(2000, "samples generated for the quality metrics (2-D)", ge=10, le=100_000)
    digit_samples: int = param(500, "digits generated for the quality metrics (at most 500)", ge=2, le=500)
    off_radius: float | None = param(None, "distance from the clean curve that counts as off the data "
                                           "(none: 3 × noise; moons 0.15)", gt=0)
    n_reference: int = param(500, "test digits the Fréchet distance is measured against (the next "
                                  "digit_samples: the floor)", ge=2, le=500)
    judge_epochs: float = param(2, "passes of the lecture-3 CNN over the digits it judges samples with", gt=0)
    device: DeviceName = device_param()

    quick = {"n_train": 1000, "epochs": 40, "digit_epochs": 2, "n_eval": 500, "n_samples": 500,
             "digit_samples": 16, "channels": 8, "judge_epochs": 0.25, "batch_size": 64, "n_reference": 100}
    full = {"n_eval": 5000, "n_samples": 5000, "digit_epochs": 300}

    def check(self) -> None:
        s = settings(self)
        if s["steps"] < MIN_STEPS:
            raise ConfigError(f"steps={s['steps']}: too few diffusion steps; each reverse step is a Gaussian and "
                              f"can only undo a little noise, so use at least {MIN_STEPS} (the course uses 100)",
                              key="steps")
        if s["schedule"] != "cosine" and s["beta_max"] < s["beta_min"]:
            raise ConfigError(f"beta_max={s['beta_max']} is below beta_min={s['beta_min']}; β must grow with t",
                              key="beta_max")
        if self.data == "digits":
            if s["network"] != "unet":
                raise ConfigError(f"network={s['network']!r} is for 2-D points; data=digits needs network=unet",
                                  key="network")
            if self.n_train is not None and self.n_train > 4000:
                raise ConfigError(f"n_train={self.n_train}: the embedded MNIST subset has 4,000 training digits",
                                  key="n_train")
        elif s["network"] == "unet":
            raise ConfigError(f"network='unet' is for images; data={self.data} needs course or sinusoidal",
                              key="network")


def settings(config: Config) -> dict[str, Any]:
    """The recipe's values with the keys the user set on top."""
    if config.data == "digits":
        base = {**TUNED_DIGITS, **(COURSE_SCHEDULE if config.recipe == "course" else {})}
    else:
        base = dict(COURSE_2D if config.recipe == "course" else TUNED_2D)
    chosen = {k: getattr(config, k) for k in RECIPE_KEYS if getattr(config, k) is not None}
    return {**base, **chosen}


def _build_network(s: dict[str, Any], config: Config, generator: torch.Generator) -> torch.nn.Module:
    if s["network"] == "course":
        return CourseDenoiser(s["steps"], s["width"], generator=generator)
    if s["network"] == "sinusoidal":
        return SinusoidalDenoiser(s["width"], generator=generator)
    return SmallUNet(config.channels, generator=generator)


def _keep_steps(T: int) -> tuple[int, ...]:
    """Ten evenly spaced steps T, ..., 0 (both ends included) to picture a process."""
    return tuple(sorted({round(T * k / 9) for k in range(10)}, reverse=True))


def run(config: Config, progress: ProgressFn | None = None) -> Result:
    device = resolve_device(config.device)
    s = settings(config)
    digits = config.data == "digits"
    generator = torch.Generator().manual_seed(config.seed)
    scheduler = DDPMScheduler.from_name(s["schedule"], s["steps"], s["beta_min"], s["beta_max"], s["variance"],
                                        s["clip_sample"])

    # ----- data: x_0 rows (n, 2), or digits scaled to [-1, 1] (n, 1, 28, 28) -------------------------------
    if digits:
        n_train = config.n_train or 4000
        train_set, test_set = load_embedded_mnist(n_train, 1000)
        X = (train_set.X * 2 - 1).to(device)  # (n, 1, 28, 28)
        epochs = config.digit_epochs
    else:
        noise = config.noise if config.noise is not None else get_dataset(config.data).default_noise
        splits = toy_splits(config.data, config.n_train or 10_000, config.n_eval, noise, config.seed)
        X = splits.train.to(device)  # (n, 2)
        epochs = s["epochs"]

    model = _build_network(s, config, generator).to(device)
    batches = EpochBatches(len(X), s["batch_size"], generator, device=device)
    steps = max(1, math.ceil(epochs * batches.per_epoch))
    optimizer = make_optimizer("adam", model.parameters(), s["lr"], foreach=True)
    judge_share = 0.15 if digits else 0.0
    train_progress = None if progress is None else (  # training is most of the run; judging the digits the rest
        lambda done, _n, info: progress(round(done / steps * 1000 * (1 - judge_share)), 1000, info))
    def loss_fn(m: torch.nn.Module, idx: torch.Tensor) -> torch.Tensor:
        return noise_prediction_loss(m, scheduler, X[idx], generator, config.antithetic)

    trainer = Trainer(model, loss_fn, batches, optimizer, steps, name="ddpm",
                      scheduler=make_schedule(s["lr_schedule"], optimizer, steps),
                      clip_grad_norm=config.clip_grad_norm, ema_decay=s["ema_decay"], skip_nonfinite=True,
                      generators={"data": generator}, log_every=max(1, steps // 500), progress=train_progress)
    t0 = time.perf_counter()
    log = trainer.run()
    train_seconds = time.perf_counter() - t0
    sampled = trainer.eval_model  # the EMA model when ema_decay is set
    sampled.eval()
    if s["variance"] == "analytic":  # Γ_t = E‖ε̂(x_t, t)‖²/d from the training data, with its own generator
        scheduler.fit_analytic_variance(sampled, X, torch.Generator().manual_seed(config.seed + 2),
                                        batch=100 if digits else 2000)

    result = Result()
    losses = np.asarray(log.history.get("loss", []), dtype=float)
    loss_steps = np.asarray(log.steps, dtype=float) + 1
    alpha_bar_T = scheduler.alpha_bar_last
    result.metrics = {
        "alpha_bar_T": alpha_bar_T, "terminal_signal": math.sqrt(alpha_bar_T),
        "train_loss": float(np.mean(losses[-10:])) if len(losses) else None,
        "first_loss": float(losses[0]) if len(losses) else None,
        "steps": log.steps_done, "epochs": log.steps_done / batches.per_epoch,
        "n_params": count_parameters(model), "train_seconds": train_seconds,
        "ema_differs": _differs(model, sampled),
    }
    sample_gen = torch.Generator(device=device).manual_seed(config.seed + 1)
    keep = _keep_steps(scheduler.steps)
    if digits:
        n = config.digit_samples
        x0, kept = scheduler.sample(sampled, (n, 1, 28, 28), sample_gen, device, keep=keep)
        images = ((x0.cpu() + 1) / 2).clamp(0, 1)  # (n, 1, 28, 28)
        result.artifacts["samples"] = images
        judge_progress = None if progress is None else (
            lambda d, total, info: progress(round(1000 * (1 - judge_share + judge_share * d / total)), 1000, info))
        judge = train_judge(train_set, config.judge_epochs, config.seed, device, judge_progress)
        rows, judge_acc = quality_table_rows(judge, images, test_set, config.n_reference, generator)
        _digit_metrics(result, rows, judge_acc)
    else:
        x0, kept = scheduler.sample(sampled, (config.n_samples, 2), sample_gen, device, keep=keep)
        x0 = x0.cpu()
        result.artifacts["samples"] = x0
        radius = config.off_radius if config.off_radius is not None else 3 * noise
        _point_metrics(result, config.data, x0, splits, radius, generator)
    result.metrics["diverged"] = False
    carry_status(log, result)
    result.tables["settings"] = table_from_columns({"key": list(s), "value": [str(v) for v in s.values()]})
    if len(losses):
        result.curves["loss"] = Curve(loss_steps, losses, "step", "noise-prediction MSE", log_y=True)
    result.artifacts["model"] = {k: v.detach().cpu() for k, v in sampled.state_dict().items()}
    result.notes += reading_notes(config, s, result.metrics)
    if want_figures():
        _figures(result, config, s, scheduler, kept, X, loss_steps, losses, digits)
    return result


def _differs(model: torch.nn.Module, sampled: torch.nn.Module) -> bool:
    if sampled is model:
        return False
    return any(not torch.equal(a, b) for a, b in zip(model.parameters(), sampled.parameters(), strict=True))


def _null_std(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator, n_perm: int = 20) -> float:
    """Sampling error of the energy distance: its standard deviation over random relabellings of a ∪ b."""
    pooled = torch.cat([a, b]).double()  # (n + m, 2)
    d = torch.cdist(pooled, pooled)
    n, m = len(a), len(b)
    values = []
    for _ in range(n_perm):
        perm = torch.randperm(n + m, generator=generator)
        i, j = perm[:n], perm[n:]
        within = d[i][:, i].sum() / (n * (n - 1)) + d[j][:, j].sum() / (m * (m - 1))
        values.append(float(2 * d[i][:, j].mean() - within))
    return float(np.std(values))


def _point_metrics(result: Result, data: str, x0: torch.Tensor, splits: Any, radius: float,
                   generator: torch.Generator) -> None:
    ref = splits.heldout  # (n_eval, 2)
    noise = torch.randn(x0.shape, generator=generator)  # (n_samples, 2): the sampler's starting distribution
    finite = torch.isfinite(x0).all(dim=1)
    rows = {}
    for label, pts in (("generated", x0[finite]), ("held-out (floor)", splits.heldout2), ("N(0, I) (ceiling)", noise)):
        ok = len(pts) >= 2
        p, r = knn_precision_recall(ref, pts) if ok else (None, None)
        rows[label] = {"energy_distance": energy_distance(pts, ref) if ok else None, "precision": p, "recall": r,
                       "off_share": off_share(data, pts, radius)}
    g, f, c = rows["generated"], rows["held-out (floor)"], rows["N(0, I) (ceiling)"]
    result.metrics.update({
        "energy_distance": g["energy_distance"], "energy_floor": f["energy_distance"],
        "energy_noise": c["energy_distance"], "energy_error": _null_std(splits.heldout2, ref, generator),
        "precision": g["precision"], "recall": g["recall"], "precision_floor": f["precision"],
        "recall_floor": f["recall"], "precision_noise": c["precision"], "recall_noise": c["recall"],
        "off_share": off_share(data, x0, radius), "off_floor": f["off_share"], "off_noise": c["off_share"],
        "off_radius": radius, "nonfinite_samples": int((~finite).sum()),
    })
    result.tables["quality"] = table_from_columns({
        "samples": list(rows), **{key: [rows[k][key] for k in rows]
                                  for key in ("energy_distance", "precision", "recall", "off_share")}})


def _digit_metrics(result: Result, rows: dict[str, dict[str, float]], judge_acc: float) -> None:
    g, f, c = rows["generated"], rows["held-out digits (floor)"], rows["noise (ceiling)"]
    result.metrics.update({
        "confident_share": g["confident_share"], "class_entropy": g["class_entropy"], "frechet": g["frechet"],
        "confident_floor": f["confident_share"], "class_entropy_floor": f["class_entropy"],
        "frechet_floor": f["frechet"], "confident_noise": c["confident_share"],
        "class_entropy_noise": c["class_entropy"], "frechet_noise": c["frechet"], "judge_accuracy": judge_acc,
        "energy_distance": None, "precision": None, "recall": None, "off_share": None,
    })
    result.tables["quality"] = table_from_columns({
        "samples": list(rows), **{key: [rows[k][key] for k in rows]
                                  for key in ("confident_share", "class_entropy", "frechet")}})


def reading_notes(config: Config, s: dict[str, Any], m: dict[str, Any]) -> list[str]:
    """What the numbers say: the schedule's end point, and sample quality against its floor and ceiling."""
    notes = []
    abar = m["alpha_bar_T"]
    if abar > ALPHA_BAR_T_MAX:
        notes.append(
            f"ᾱ_T = {abar:.3g}: the forward process does not reach noise; x_T still holds √ᾱ_T = "
            f"{math.sqrt(abar):.0%} of x_0, but sampling starts from N(0, I). The reverse process never saw such "
            "inputs during training, so the samples land in the wrong places (a large energy distance). Fix: "
            "schedule=cosine, or a larger beta_max (e.g. 0.2 with 100 linear steps), or more steps.")
    if config.data == "digits":
        if m.get("confident_share") is not None:
            notes.append(f"Digits: {m['confident_share']:.0%} of the samples are classified with confidence > 0.9 "
                         f"(held-out digits {m['confident_floor']:.0%}, noise {m['confident_noise']:.0%}); class "
                         f"entropy {m['class_entropy']:.2f} bits (all ten digits equally: 3.32); Fréchet distance "
                         f"{m['frechet']:.3g} (floor {m['frechet_floor']:.3g}, noise {m['frechet_noise']:.3g}). "
                         f"The judging CNN scores {m['judge_accuracy']:.1%} on the test digits.")
        if m["steps"] < 2000:
            notes.append(f"Only {m['steps']} training steps: digits need thousands (--full, on a GPU); at this size "
                         "the loss decreasing and blurry strokes are what to expect.")
        return notes
    if m.get("energy_distance") is not None:
        within = abs(m["energy_distance"] - m["energy_floor"]) <= 2 * m["energy_error"]
        notes.append(
            f"Energy distance {m['energy_distance']:.4f} (floor {m['energy_floor']:.4f} ± {m['energy_error']:.4f}, "
            f"noise {m['energy_noise']:.3f}): " + ("within sampling error of the floor." if within else
                                                   "above the floor: the mass is not in the right places."))
        notes.append(
            f"Precision {m['precision']:.3f} / recall {m['recall']:.3f} (held-out {m['precision_floor']:.3f} / "
            f"{m['recall_floor']:.3f}); {m['off_share']:.2%} of the samples lie farther than {m['off_radius']:.3g} "
            f"from the clean {config.data} (held-out {m['off_floor']:.2%}). The energy distance hardly sees blur; "
            "precision and the off-data share do.")
    if m.get("nonfinite_samples"):
        notes.append(f"{m['nonfinite_samples']} samples were not finite (the reverse process blew up) and were "
                     "left out of the metrics.")
    return notes


def _figures(result: Result, config: Config, s: dict[str, Any], scheduler: DDPMScheduler, kept: dict,
             X: torch.Tensor, loss_steps: np.ndarray, losses: np.ndarray, digits: bool) -> None:
    name = f"{config.data}, {s['schedule']} T={s['steps']}"
    variances = {}  # the reverse steps' σ_t² when it is not β_t (and β̃_t beside the analytic one)
    if s["variance"] != "beta":
        variances["β̃_t (posterior)"] = scheduler.posterior_variance[1:].numpy()
    if s["variance"] == "analytic":
        variances["σ_t² (analytic, fitted)"] = scheduler.analytic_variance[1:].numpy()
    result.figures["schedule"] = plot_schedule(scheduler.betas.numpy(), scheduler.alpha_bars.numpy(),
                                               f"schedule: {name} (reverse σ_t²: {s['variance']})", variances)
    if len(losses):
        result.figures["loss"] = plot_loss(loss_steps, losses, f"training loss ({s['network']} network)")
    g = torch.Generator().manual_seed(config.seed + 2)
    keep = sorted(kept, reverse=True)
    if digits:
        x0 = X[:6].cpu()
        forward = [(t, ((scheduler.add_noise(x0, torch.randn(x0.shape, generator=g),
                                             torch.full((6,), max(t - 1, 0))) + 1) / 2).numpy())
                   if t > 0 else (0, ((x0 + 1) / 2).numpy()) for t in sorted(keep)]
        result.figures["forward"] = plot_image_process(forward, "forward process q(x_t | x_0)")
        result.figures["reverse"] = plot_image_process([(t, ((kept[t][:6] + 1) / 2).numpy()) for t in keep],
                                                       "reverse process (sampling)")
        samples = result.artifacts["samples"].numpy()
        shown = samples[:SHOWN_DIGITS]
        part = f" (the first {len(shown)} of {len(samples)})" if len(shown) < len(samples) else ""
        result.figures["samples"] = plot_image_grid(shown, "DDPM samples" + part)
        return
    x0 = X[:2000].cpu()
    forward = [(t, scheduler.add_noise(x0, torch.randn(x0.shape, generator=g), torch.full((len(x0),), t - 1)).numpy()
                if t > 0 else x0.numpy()) for t in sorted(keep)]
    ref = x0.numpy()
    result.figures["forward"] = plot_process_2d(forward, "forward process q(x_t | x_0)", ref)
    result.figures["reverse"] = plot_process_2d([(t, kept[t].numpy()) for t in keep], "reverse process (sampling)",
                                                ref)
    samples = result.artifacts["samples"].numpy()
    radius = result.metrics["off_radius"]
    finite = np.isfinite(samples).all(axis=1)
    off = np.zeros(len(samples), bool)
    off[finite] = get_dataset(config.data).distance(samples[finite].astype(np.float64)) > radius
    result.figures["samples"] = plot_samples_2d(ref, samples[finite], f"samples ({config.recipe} recipe)",
                                                off[finite])


LAB = Lab(
    name="diffusion",
    lecture=7,
    description="DDPM on 2-D point clouds (" + ", ".join(DATASETS) + ") or digits, with measured sample quality",
    config=Config,
    run=run,
    headline=("energy_distance", "energy_floor", "precision", "recall", "off_share", "alpha_bar_T", "train_loss"),
)
