"""Lecture 7: flow matching (rectified flow) beside DDPM, latent diffusion of digits at the same training (issue 22,
item 3): the same autoencoder, network, data, updates and seed; only what the network learns (ε or the velocity)
and how it is sampled differ."""

from __future__ import annotations

import os

import torch

from _common import BenchSection, timed
from dlsm.labs import diffusion
from dlsm.result import Table

FLOW_STEPS = (10, 20, 50)  # Euler steps of the flow sampler
DDIM_STEPS = 50


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _row(label: str, m: dict, steps: int) -> list:
    return [label, round(m["train_seconds"], 1), round(m["sample_seconds"], 2), steps, m["read_as_asked"],
            m["confident_share"], m["class_entropy"], m["frechet"], m["frechet_floor"]]


def run(quick: bool = False) -> list[BenchSection]:
    load, threads = _load(), torch.get_num_threads()
    size = "quick" if quick else "course"
    common = {"data": "digits", "space": "latent", "device": "cpu", "guidance_grid": ()}  # the guidance table: not here
    rows = []
    ddpm_cfg = diffusion.Config.make(size, **common)
    d, d_s = timed(lambda: diffusion.run(ddpm_cfg))
    T = diffusion.settings(ddpm_cfg)["steps"]
    rows.append(_row(f"DDPM, ancestral, all T = {T} steps", d.metrics, T))
    e = diffusion.run(diffusion.Config.make(size, **common, sampler="ddim", sample_steps=DDIM_STEPS))  # same training
    rows.append(_row(f"DDPM network, DDIM η = 0, {DDIM_STEPS} steps", e.metrics, DDIM_STEPS))
    flow_s = None
    for k in FLOW_STEPS:  # one flow training (the first run), reused by the others
        f, seconds = timed(lambda k=k: diffusion.run(diffusion.Config.make(size, **common, process="flow",
                                                                           sample_steps=k)))
        flow_s = seconds if flow_s is None else flow_s
        rows.append(_row(f"flow matching, Euler, {k} steps", f.metrics, k))
    dm = d.metrics
    rows.append(["held-out digits (floor)", "", "", "", dm["read_as_asked_floor"], dm["confident_floor"],
                 dm["class_entropy_floor"], dm["frechet_floor"], dm["frechet_floor"]])
    table = Table(["sampler", "train_s", "sample_s", "steps", "read as asked", "confident share (> 0.9)",
                   "class entropy (bits)", "Fréchet distance", "Fréchet floor"], rows)
    notes = [
        f"data=digits, space=latent, size {size}: the same autoencoder ({ddpm_cfg.ae_epochs:g} epochs, latent "
        f"{ddpm_cfg.latent_dim}), the same latent network (width {diffusion.settings(ddpm_cfg)['width']}), "
        f"{dm['steps']} updates for each process, seed {ddpm_cfg.seed}, guidance s = {ddpm_cfg.guidance:g}, "
        f"{ddpm_cfg.digit_samples} samples (the ten digits in turn). DDPM learns ε on the linear β schedule "
        f"(T = {T}); flow learns the velocity ε − x_0 of x_t = (1 − t) x_0 + t ε, asked at t·(T − 1).",
        "train_s: the diffusion model's training only (the autoencoder's is the same for both); sample_s: generating "
        f"the {ddpm_cfg.digit_samples} samples. DDIM reuses the DDPM training, the flow rows one flow training.",
        f"Whole runs: DDPM {d_s:.1f} s, first flow run {flow_s:.1f} s (training, sampling and judging). torch "
        f"threads: {threads}; 1-minute load average at the start: {load:.1f}.",
    ]
    return [BenchSection("diffusion data=digits: flow matching beside DDPM (same training budget)", table, notes)]


if __name__ == "__main__":
    import sys

    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.table.to_markdown()}\n")
        print("\n".join(f"- {n}" for n in section.notes) + "\n")
