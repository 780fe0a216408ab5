"""Lecture 7: sample quality of DDPM on moons (tuned and course recipes), and of digits by DDPM and by a VAE."""

from __future__ import annotations

import os
import time

import torch

from _common import BenchSection, timed
from dlsm.labs import diffusion, vae
from dlsm.result import Table

TRAIN_LIMIT_S = 60.0  # moons: training on one CPU core


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _moons_row(label: str, config: diffusion.Config) -> tuple[list, dict]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the target is for one core
    cpu0 = time.process_time()
    try:
        result, seconds = timed(lambda: diffusion.run(config))
    finally:
        torch.set_num_threads(threads)
    cpu = time.process_time() - cpu0  # CPU time of the whole run (one thread): what a quiet core would need
    return [label, result.metrics["steps"], round(result.metrics["train_seconds"], 1), round(seconds, 1),
            round(cpu, 1)], result.metrics


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"


def _moons(quick: bool) -> BenchSection:
    load = _load()
    size = {"n_train": 1000, "epochs": 2, "n_eval": 300, "n_samples": 300} if quick else {}
    tuned_cfg = diffusion.Config.make("full", device="cpu", **size)
    course_cfg = diffusion.Config.make("full", device="cpu", recipe="course", **{**size, "epochs": 2 if quick else 200})
    (t_row, t), (c_row, c) = _moons_row("tuned (default)", tuned_cfg), _moons_row("course recipe", course_cfg)
    energy_ok = abs(t["energy_distance"] - t["energy_floor"]) <= 2 * t["energy_error"]
    rows = [
        ["energy distance", t["energy_distance"], c["energy_distance"], t["energy_floor"], t["energy_noise"],
         f"floor ± 2 × {t['energy_error']:.4f}", _yes(energy_ok)],
        ["precision (k = 3)", t["precision"], c["precision"], t["precision_floor"], t["precision_noise"],
         "held-out ± 0.01", _yes(abs(t["precision"] - t["precision_floor"]) <= 0.01)],
        ["recall (k = 3)", t["recall"], c["recall"], t["recall_floor"], t["recall_noise"], "held-out ± 0.01",
         _yes(abs(t["recall"] - t["recall_floor"]) <= 0.01)],
        [f"share farther than {t['off_radius']:.2f} from the clean moons", t["off_share"], c["off_share"],
         t["off_floor"], t["off_noise"], "<= 0.01", _yes(t["off_share"] <= 0.01)],
        ["training time, 1 core (s)", round(t["train_seconds"], 1), round(c["train_seconds"], 1), "", "",
         f"<= {TRAIN_LIMIT_S:.0f}", _yes(t["train_seconds"] <= TRAIN_LIMIT_S)],
        ["ᾱ_T", t["alpha_bar_T"], c["alpha_bar_T"], "", "", "≈ 0", _yes(t["alpha_bar_T"] < 0.01)],
    ]
    if quick:
        rows = [r[:-1] + [""] for r in rows]
    s = diffusion.settings(tuned_cfg)
    notes = [
        f"make_moons with noise 0.05: {tuned_cfg.n_train or 10_000} training points; two independent held-out sets "
        f"of {tuned_cfg.n_eval} points; {tuned_cfg.n_samples} samples; seed 0. 'floor' = the second held-out set "
        "scored against the first (what a perfect generator scores); 'ceiling' = N(0, I) points.",
        "Energy distance: the unbiased U-statistic; its sampling error is the standard deviation over 20 random "
        "relabellings of the two held-out sets pooled. Precision / recall: Kynkäänniemi et al. (2019), k = 3.",
        f"Tuned recipe: {s['schedule']} β from {s['beta_min']:g} to {s['beta_max']:g}, T = {s['steps']}, "
        f"{s['variance']} variance, sinusoidal network with Fourier features of x (width {s['width']}), "
        f"batch {s['batch_size']}, Adam {s['lr']:g} one-cycle, EMA {s['ema_decay']}, {t_row[1]} steps.",
        f"Course recipe: sigmoid β 1e-5 to 5e-3, T = 100 (ᾱ_T = {c['alpha_bar_T']:.2f}), the conditional-linear "
        f"network, EMA 0.9, {course_cfg.epochs:g} epochs (the course runs 1,000; 200 already show the failure: "
        "the forward process never reaches noise, so sampling from N(0, I) misplaces the mass).",
        f"time = wall-clock of the training only, torch on 1 thread; whole runs (with sampling and metrics) took "
        f"{t_row[3]} s (tuned) and {c_row[3]} s (course) wall-clock, {t_row[4]} s and {c_row[4]} s of CPU time "
        f"(what one quiet core needs). 1-minute load average at the start: {load:.1f}; other work on the machine "
        "slows the wall-clock times.",
    ]
    table = Table(["metric", "tuned", "course", "floor (held-out)", "ceiling (noise)", "target (tuned)", "met"], rows)
    return BenchSection("diffusion: moons, sample quality (CPU, 1 core)", table, notes)


def _digits(quick: bool) -> BenchSection:
    load = _load()
    gpu = torch.cuda.is_available()
    columns = ["model", "device", "confident share (> 0.9)", "class entropy (bits)", "Fréchet distance", "time_s"]
    rows, notes = [], []
    vae_cfg = vae.Config.make("quick" if quick else "course", device="cpu")
    v, v_s = timed(lambda: vae.run(vae_cfg))
    vm = v.metrics
    if gpu or quick:
        size = "quick" if quick else "full"
        d, d_s = timed(lambda: diffusion.run(diffusion.Config.make(size, data="digits", device="auto")))
        dm = d.metrics
        rows.append([f"DDPM U-Net ({size})", "cuda" if gpu else "cpu", dm["confident_share"], dm["class_entropy"],
                     dm["frechet"], round(d_s, 1)])
        floor = (dm["confident_floor"], dm["class_entropy_floor"], dm["frechet_floor"])
        noise = (dm["confident_noise"], dm["class_entropy_noise"], dm["frechet_noise"])
    else:
        rows.append(["DDPM U-Net (--full)", "GPU", "not measured", "not measured", "not measured", ""])
        notes.append("DDPM on digits: not measured: no GPU on this machine. The --full size (300 epochs, T = 500 "
                     "steps) is meant for a GPU; on a CPU the quick size shows the loss decreasing and saves samples.")
        floor = noise = None
    rows.append([f"VAE (latent {vae_cfg.latent_dim}, {vae_cfg.epochs} epochs)", "cpu", vm["confident_share"],
                 vm["class_entropy"], vm["frechet"], round(v_s, 1)])
    if floor is not None:
        rows.append(["held-out digits (floor)", "", *floor, ""])
        rows.append(["uniform noise (ceiling)", "", *noise, ""])
    else:
        rows.append(["held-out digits (floor)", "", vm["confident_floor"], "", vm["frechet_floor"], ""])
        rows.append(["uniform noise (ceiling)", "", "", "", vm["frechet_noise"], ""])
    notes += [
        f"Judge: the lecture-3 CNN trained {vae_cfg.judge_epochs:g} epochs on the 4,000 embedded training digits "
        f"(accuracy {vm.get('judge_accuracy', float('nan')):.1%} on the reference test digits). Confident share: "
        "samples with max_k p(k|x) > 0.9; class entropy of the predicted-class histogram (3.32 bits when all ten "
        f"digits appear equally); Fréchet distance between the CNN's 128 penultimate features of the samples and "
        f"of {vae_cfg.n_reference} test digits (the FID formula).",
        f"VAE test ELBO {vm['test_elbo']:.1f} nats per image after {vm['epochs']} epochs "
        f"(first epoch {vm['first_test_elbo']:.1f}). 1-minute load average at the start: {load:.1f}.",
    ]
    return BenchSection("diffusion / vae: digits judged by the lecture-3 CNN", Table(columns, rows), notes)


def run(quick: bool = False) -> list[BenchSection]:
    return [_moons(quick), _digits(quick)]


if __name__ == "__main__":
    import sys

    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.table.to_markdown()}\n")
        print("\n".join(f"- {n}" for n in section.notes) + "\n")
