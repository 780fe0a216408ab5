"""Lecture 7: a variational autoencoder on the embedded MNIST digits, beside the DDPM.

The VAE (``arch=conv``, default: :class:`dlsm.models.vae.ConvVAE`, convolutional encoder and decoder with a
16-number code, whose prior samples look more like digits; ``arch=mlp``: :class:`dlsm.models.vae.VAE`, the MLP of
Kingma & Welling, with ``latent_dim=2`` the course's 2-D latent map) is trained by maximising the ELBO with Adam;
the lab reports the training and test ELBO per epoch (nats per image), reconstructions of test digits, samples
from a prior and, for a 2-D latent, the map of the test digits' codes μ(x) coloured by their label.
Two priors are sampled: p(z) = N(0, I), the prior of the ELBO, and a Gaussian mixture fitted after training to the
codes μ(x) of the training digits (ex-post density estimation, Ghosh et al. 2020,
:class:`dlsm.models.vae.GaussianMixturePrior`), which samples where the codes are rather than in the "holes" of
N(0, I) that the aggregate posterior q(z) = E_x q(z | x) leaves empty; ``prior`` chooses the one the headline
numbers and the ``samples`` artifact are of. ``beta`` weights the KL term of the training loss
(−E_q[log p(x | z)] + β KL; β = 1: the ELBO; Higgins et al. 2017); the reported ELBO is always the β = 1 ELBO.
Its samples are judged by the lecture-3 CNN with the same three numbers as the digit DDPM (share classified
with confidence > 0.9, entropy of the predicted-class histogram, Fréchet distance of CNN features), each
beside held-out digits (floor) and noise images (ceiling).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm import outcome
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.labs._digit_quality import (
    CEILING_ROW,
    FLOOR_ROW,
    GENERATED_ROW,
    quality_table,
    quality_table_rows,
    train_judge,
)
from dlsm.models.vae import VAE, ConvVAE, GaussianMixturePrior
from dlsm.outcome import Notes, metric
from dlsm.plotting.generative import plot_elbo, plot_image_grid, plot_latent_map
from dlsm.problems.images import load_embedded_mnist
from dlsm.result import Curve, ProgressFn, table_from_columns
from dlsm.seeds import generator as stream
from dlsm.seeds import stream_seed
from dlsm.status import Status
from dlsm.training import EpochBatches, Trainer, count_parameters, make_optimizer


@dataclass(frozen=True)
class Config(LabConfig):
    """A VAE on the embedded digits: ELBO curves, reconstructions, prior samples, the 2-D latent map."""

    arch: Literal["conv", "mlp"] = param(
        "conv", "conv: convolutional encoder and decoder; mlp: one hidden layer each (Kingma & Welling)")
    latent_dim: int = param(16, "dimension of z (2: the latent map can be drawn; the course: arch=mlp "
                                "latent_dim=2)", ge=1, le=512)
    hidden: int = param(400, "arch=mlp: hidden ReLU units of the encoder and the decoder (Kingma & Welling: 400)",
                        ge=1, le=8192)
    channels: int = param(32, "arch=conv: channels of the first convolution (the second has twice as many)", ge=1,
                          le=512)
    epochs: int = param(30, "passes over the training digits", ge=1, le=100_000)
    batch_size: int = param(100, "mini-batch size (Kingma & Welling: 100)", ge=1)
    lr: float = param(1e-3, "Adam learning rate", gt=0)
    beta: float = param(1.0, "weight β of the KL term in the training loss (1: the ELBO; below 1: sharper decoder, "
                             "codes that fill N(0, I) less)", ge=0, le=100)
    prior: Literal["normal", "gmm"] = param(
        "gmm", "the prior the headline samples are drawn from: gmm: a Gaussian mixture fitted to the training codes "
               "μ(x) after training (Ghosh et al. 2020; seed 0: 64 % confident samples, N(0, I): 21 %); normal: "
               "N(0, I); both are judged")
    prior_components: int = param(20, "components of the Gaussian mixture prior, full covariances (seed 0: 5 → 48 %, "
                                       "10 → 55 %, 20 → 64 %, 40 → 66 % confident samples)", ge=1, le=500)
    n_train: int = param(4000, "training digits (the embedded subset has 4,000)", ge=1, le=4000)
    n_test: int = param(1000, "test digits (the embedded subset has 1,000)", ge=2, le=1000)
    n_samples: int = param(500, "prior samples judged by the CNN (at most 500)", ge=2, le=500)
    n_reference: int = param(500, "test digits the Fréchet distance is measured against (the next n_samples: "
                                  "the floor)", ge=2, le=998)
    judge_epochs: float = param(2, "passes of the lecture-3 CNN over the digits it judges samples with", gt=0)
    quality: bool = param(True, "judge the samples with the lecture-3 CNN (trains it first)")
    device: DeviceName = device_param()

    quick = {"epochs": 2, "n_train": 1000, "hidden": 64, "channels": 8, "n_samples": 16, "judge_epochs": 0.25,
             "n_reference": 100}
    full = {"epochs": 100}

    def check(self) -> None:
        if self.quality and self.n_reference + self.n_samples > self.n_test:
            raise ConfigError(t("vae.err.n_test", need=self.n_reference + self.n_samples, n_test=self.n_test),
                              key="n_test")
        if self.prior_components > self.n_train:
            raise ConfigError(t("vae.err.prior_components", k=self.prior_components, n_train=self.n_train),
                              key="prior_components")


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """The ELBO on the test and training digits and, when ``quality``, the CNN's verdict on prior samples."""

    test_elbo: float = metric("nats", headline=True)
    test_kl: float = metric("nats")
    train_elbo: float | None = metric("nats")
    first_test_elbo: float | None = metric("nats")
    epochs: int = metric("epochs")
    steps: int = metric("steps")
    n_params: int = metric("parameters")
    train_seconds: float = metric("s")
    latent_dim: int = metric()
    # the lecture-3 CNN's verdict on the prior samples (None with quality=false)
    confident_share: float | None = metric("fraction", headline=True, default=None)
    class_entropy: float | None = metric("bits", headline=True, default=None)
    frechet: float | None = metric(headline=True, default=None)
    confident_floor: float | None = metric("fraction", default=None, skip_none=True)
    frechet_floor: float | None = metric(default=None, skip_none=True)
    frechet_noise: float | None = metric(default=None, skip_none=True)
    judge_accuracy: float | None = metric("fraction", default=None, skip_none=True)
    # the verdict on each prior's samples (the headline numbers above are those of config.prior)
    confident_share_normal: float | None = metric("fraction", default=None, skip_none=True)
    class_entropy_normal: float | None = metric("bits", default=None, skip_none=True)
    frechet_normal: float | None = metric(default=None, skip_none=True)
    confident_share_gmm: float | None = metric("fraction", default=None, skip_none=True)
    class_entropy_gmm: float | None = metric("bits", default=None, skip_none=True)
    frechet_gmm: float | None = metric(default=None, skip_none=True)
    diverged: bool = metric()
    skipped_steps: int | None = metric("steps", default=None, skip_none=True)


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    device = resolve_device(config.device)
    generator = stream(config.seed, "main")  # initial weights, data order, the judge's noise images
    train_set, test_set = load_embedded_mnist(config.n_train, config.n_test)
    X, X_test = train_set.X.to(device), test_set.X.to(device)  # (n, 1, 28, 28) in [0, 1]
    model = (ConvVAE(config.latent_dim, config.channels, generator=generator) if config.arch == "conv"
             else VAE(config.latent_dim, config.hidden, generator=generator)).to(device)
    batches = EpochBatches(len(X), config.batch_size, generator, device=device)
    steps = config.epochs * batches.per_epoch
    eps_gen = stream(config.seed, "second", device=device)  # ε of the reparameterisation in training

    def loss_fn(m: VAE, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        _, rec, kl = m.elbo(X[idx], eps_gen)
        return (config.beta * kl - rec).mean(), {"kl": float(kl.mean().detach())}  # β = 1: −ELBO

    def evaluate(m: VAE) -> dict[str, float]:
        g = stream(config.seed, "third", device=device)  # the same ε every evaluation
        elbo, rec, kl = m.elbo(X_test, g)
        return {"test_elbo": float(elbo.mean()), "test_kl": float(kl.mean())}

    judge_share = 0.2 if config.quality else 0.0
    train_progress = None if progress is None else (
        lambda done, _n, info: progress(round(done / steps * 1000 * (1 - judge_share)), 1000, info))
    trainer = Trainer(model, loss_fn, batches, make_optimizer("adam", model.parameters(), config.lr), steps,
                      name="vae", evaluate=evaluate, eval_every=batches.per_epoch, skip_nonfinite=True,
                      generators={"data": generator, "eps": eps_gen}, progress=train_progress)
    t0 = time.perf_counter()
    log = trainer.run()
    train_seconds = time.perf_counter() - t0
    model.eval()

    train_loss = np.asarray(log.history.get("loss", []), dtype=float)
    done_epochs = len(train_loss) // batches.per_epoch
    per_epoch = batches.per_epoch  # (not -1: a run that diverged in its first epoch has 0 epochs)
    train_elbo = -train_loss[:done_epochs * per_epoch].reshape(done_epochs, per_epoch).mean(1)  # (epochs,)
    test_elbo = np.asarray(trainer.eval_log.history.get("test_elbo", []), dtype=float)[:done_epochs]
    epochs = np.arange(1, done_epochs + 1, dtype=float)
    with torch.no_grad():
        final = evaluate(model)
        by_prior = {"normal": model.sample(config.n_samples, stream(config.seed, "fourth", device=device),
                                           device).cpu()}
        mu, _ = model.encode(X_test)  # (n_test, latent_dim)
        recon = model.decode(mu[:10]).cpu()  # (10, 1, 28, 28)
        codes = torch.cat([model.encode(chunk)[0] for chunk in X.split(1000)])  # (n_train, latent_dim): μ(x)
        gmm = _fit_prior(codes, config)
        if gmm is not None:
            z = gmm.sample(config.n_samples, stream(config.seed, "fourth", restart=1))  # (n_samples, latent_dim)
            by_prior["gmm"] = model.decode(z.to(device)).cpu()
    prior = config.prior if config.prior in by_prior else "normal"  # (gmm without a fit: N(0, I), with a note)
    samples = by_prior[prior]

    status = log.status
    if status == Status.COMPLETED and not math.isfinite(final["test_elbo"]):
        # the training loss stayed finite (a few steps), but the weights it reached give a non-finite ELBO
        status = Status.DIVERGED
    quality, tables = {}, {}
    if config.quality:
        judge_progress = None if progress is None else (
            lambda d, total, info: progress(round(1000 * (1 - judge_share + judge_share * d / total)), 1000, info))
        judge = train_judge(train_set, config.judge_epochs, config.seed, device, judge_progress)
        others = {name: images for name, images in by_prior.items() if name != prior}  # judged beside `samples`
        rows, judge_acc = quality_table_rows(judge, samples, test_set, config.n_reference, generator, others)
        g, f, c = rows[GENERATED_ROW], rows[FLOOR_ROW], rows[CEILING_ROW]
        quality = {"confident_share": g["confident_share"], "class_entropy": g["class_entropy"],
                   "frechet": g["frechet"], "confident_floor": f["confident_share"], "frechet_floor": f["frechet"],
                   "frechet_noise": c["frechet"], "judge_accuracy": judge_acc}
        per_prior = {name: g if name == prior else rows[name] for name in by_prior}
        for name, verdict in per_prior.items():
            quality.update({f"{key}_{name}": verdict[key] for key in ("confident_share", "class_entropy", "frechet")})
        tables["quality"] = quality_table({**{_row_label(name, config): verdict for name, verdict in per_prior.items()},
                                           FLOOR_ROW: f, CEILING_ROW: c})
    curves = {}
    if len(epochs):
        curves["test_elbo"] = Curve(epochs, test_elbo, t("common.label.epoch"), t("vae.label.test_elbo"))
        curves["train_elbo"] = Curve(epochs, train_elbo, t("common.label.epoch"), t("vae.label.train_elbo"))
        tables["elbo"] = table_from_columns({"epoch": epochs.astype(int), "train_elbo": train_elbo,
                                             "test_elbo": test_elbo})
    return Outcome(
        test_elbo=final["test_elbo"], test_kl=final["test_kl"],
        train_elbo=float(train_elbo[-1]) if len(train_elbo) else None,
        first_test_elbo=float(test_elbo[0]) if len(test_elbo) else None,
        epochs=done_epochs, steps=log.steps_done, n_params=count_parameters(model), train_seconds=train_seconds,
        latent_dim=config.latent_dim, **quality,
        diverged=status == Status.DIVERGED, skipped_steps=log.skipped or None, status=status,
        tables=tables, curves=curves,
        artifacts={"model": {k: v.cpu() for k, v in model.state_dict().items()}, "samples": samples,
                   **{f"samples_{name}": images for name, images in by_prior.items() if name != prior},
                   **({} if gmm is None else {"gmm_prior": {"weights": gmm.weights_, "means": gmm.means_,
                                                             "scale_tril": gmm.scale_tril_}})},
        data={"prior": prior, "mu": mu.cpu().numpy(), "labels": test_set.y.numpy(), "originals": test_set.X[:10],
              "recon": recon, "epochs": epochs, "train_elbo": train_elbo, "test_elbo": test_elbo, "log": log},
    )


def _fit_prior(codes: torch.Tensor, config: Config) -> GaussianMixturePrior | None:
    """The mixture prior fitted to the training codes μ(x) (n_train, latent_dim); None when it cannot be fitted
    (a diverged model: codes that are not finite numbers, or collapsed onto a few points)."""
    if not bool(torch.isfinite(codes).all()):
        return None
    try:
        return GaussianMixturePrior(config.prior_components, stream_seed(config.seed, "fourth")).fit(codes)
    except ValueError:  # scikit-learn: a component with an ill-defined (singular) covariance
        return None


def _row_label(prior: str, config: Config) -> str:
    """The quality table's row of one prior's samples (data labels in English, as the floor and ceiling rows)."""
    return "generated: N(0, I)" if prior == "normal" else f"generated: GMM ({config.prior_components} components)"


def _prior_name(prior: str, config: Config) -> str:
    return t(f"vae.prior.{prior}", k=config.prior_components)


#: Confident share (points) by which the mixture's samples must beat N(0, I)'s for the note on the holes.
HOLES_GAP = 0.1


def notes(config: Config, out: Outcome) -> Notes:
    """The test ELBO and the samples' verdict; apart, how to read the ELBO and the 2-D latent map."""
    found = Notes()
    log = out.data["log"]
    if out.status == Status.INTERRUPTED:
        found.measured.append(t("vae.note.interrupted", steps=out.steps))
    elif out.status == Status.DIVERGED:
        if log.status == Status.DIVERGED:
            found.measured.append(t("vae.note.diverged", steps=out.steps, loss=log.losses[-1], first=log.losses[0]))
        else:
            found.measured.append(t("vae.note.diverged_elbo", steps=out.steps, elbo=out.test_elbo))
        found.measured.append(t("training.diverged_setting", setting="lr", value=config.lr))
    if not config.quality:
        found.measured.append(t("vae.note.no_quality"))
    found.measured.append(t("vae.note.elbo", elbo=out.test_elbo, kl=out.test_kl,
                            bits=out.test_elbo / 784 / math.log(2)))
    found.explanations.append(t("vae.note.elbo_why"))
    prior = out.data["prior"]
    if prior != config.prior:
        found.measured.append(t("vae.note.no_gmm"))
    if config.beta != 1:
        found.explanations.append(t("vae.note.beta", beta=config.beta))
    if out.confident_share is not None:
        found.measured.append(t("vae.note.quality", prior=_prior_name(prior, config), confident=out.confident_share,
                                confident_floor=out.confident_floor, entropy=out.class_entropy, frechet=out.frechet,
                                frechet_floor=out.frechet_floor, frechet_noise=out.frechet_noise))
        other = "gmm" if prior == "normal" else "normal"
        if getattr(out, f"confident_share_{other}") is not None:
            found.measured.append(t("vae.note.quality_other", prior=_prior_name(other, config),
                                    confident=getattr(out, f"confident_share_{other}"),
                                    entropy=getattr(out, f"class_entropy_{other}"),
                                    frechet=getattr(out, f"frechet_{other}")))
        if out.confident_share_gmm is not None and out.confident_share_gmm - out.confident_share_normal >= HOLES_GAP:
            found.explanations.append(t("vae.note.holes", normal=out.confident_share_normal,
                                        gmm=out.confident_share_gmm, k=config.prior_components))
    if config.latent_dim == 2:
        found.explanations.append(t("vae.note.latent_map"))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """The ELBO per epoch, reconstructions, samples of the chosen prior (``samples``) and of the other one
    (``samples_normal`` or ``samples_gmm``) and (2-D latent) the map of the test codes."""
    d, drawn = out.data, {}
    if len(d["epochs"]):
        drawn["elbo"] = plot_elbo(d["epochs"], d["train_elbo"], d["test_elbo"],
                                  t("vae.title.elbo", dim=config.latent_dim))
    pairs = torch.cat([d["originals"], d["recon"]])  # originals above, reconstructions below
    drawn["reconstructions"] = plot_image_grid(pairs.numpy(), t("vae.title.reconstructions"))
    prior = d["prior"]
    drawn["samples"] = plot_image_grid(out.artifacts["samples"][:40].numpy(),
                                       t("vae.title.samples", prior=_prior_name(prior, config)))
    for other in ("normal", "gmm"):  # the other prior's samples, when there are some
        if other != prior and f"samples_{other}" in out.artifacts:
            drawn[f"samples_{other}"] = plot_image_grid(out.artifacts[f"samples_{other}"][:40].numpy(),
                                                        t("vae.title.samples", prior=_prior_name(other, config)))
    if config.latent_dim == 2:
        drawn["latent"] = plot_latent_map(d["mu"], d["labels"], t("vae.title.latent"))
    return drawn


LAB = Lab(
    name="vae",
    lecture=7,
    description="variational autoencoder (convolutional, or the course's MLP) on the embedded digits: ELBO, "
                "reconstructions, samples, latent map",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
