"""Lecture 7: a variational autoencoder on the embedded MNIST digits, beside the DDPM.

The VAE (:class:`dlsm.models.vae.VAE`) is trained by maximising the ELBO with Adam; the lab reports the
training and test ELBO per epoch (nats per image), reconstructions of test digits, samples from the prior
p(z) = N(0, I) and, for a 2-D latent, the map of the test digits' codes μ(x) coloured by their label.
Its samples are judged by the lecture-3 CNN with the same three numbers as the digit DDPM (share classified
with confidence > 0.9, entropy of the predicted-class histogram, Fréchet distance of CNN features), each
beside held-out digits (floor) and noise images (ceiling).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.errors import ConfigError
from dlsm.labs import Lab
from dlsm.labs._digit_quality import quality_table_rows, train_judge
from dlsm.models.vae import VAE
from dlsm.plotting.generative import plot_elbo, plot_image_grid, plot_latent_map
from dlsm.problems.images import load_embedded_mnist
from dlsm.result import Curve, ProgressFn, Result, table_from_columns
from dlsm.training import EpochBatches, Trainer, carry_status, count_parameters, make_optimizer, want_figures


@dataclass(frozen=True)
class Config(LabConfig):
    """A VAE on the embedded digits: ELBO curves, reconstructions, prior samples, the 2-D latent map."""

    latent_dim: int = param(2, "dimension of z (2: the latent map can be drawn)", ge=1, le=512)
    hidden: int = param(400, "hidden ReLU units of the encoder and the decoder (Kingma & Welling: 400)", ge=1,
                        le=8192)
    epochs: int = param(30, "passes over the training digits", ge=1, le=100_000)
    batch_size: int = param(100, "mini-batch size (Kingma & Welling: 100)", ge=1)
    lr: float = param(1e-3, "Adam 学習係数", gt=0)
    n_train: int = param(4000, "training digits (the embedded subset has 4,000)", ge=1, le=4000)
    n_test: int = param(1000, "test digits (the embedded subset has 1,000)", ge=2, le=1000)
    n_samples: int = param(500, "prior samples judged by the CNN (at most 500)", ge=2, le=500)
    n_reference: int = param(500, "test digits the Fréchet distance is measured against (the next n_samples: "
                                  "the floor)", ge=2, le=998)
    judge_epochs: float = param(2, "passes of the lecture-3 CNN over the digits it judges samples with", gt=0)
    quality: bool = param(True, "judge the samples with the lecture-3 CNN (trains it first)")
    device: DeviceName = device_param()

    quick = {"epochs": 2, "n_train": 1000, "hidden": 64, "n_samples": 16, "judge_epochs": 0.25,
             "n_reference": 100}
    full = {"epochs": 100}

    def check(self) -> None:
        if self.quality and self.n_reference + self.n_samples > self.n_test:
            raise ConfigError(f"n_reference + n_samples = {self.n_reference + self.n_samples} test digits are "
                              f"judged, but n_test={self.n_test}; raise n_test or lower the others", key="n_test")


def run(config: Config, progress: ProgressFn | None = None) -> Result:
    device = resolve_device(config.device)
    generator = torch.Generator().manual_seed(config.seed)
    train_set, test_set = load_embedded_mnist(config.n_train, config.n_test)
    X, X_test = train_set.X.to(device), test_set.X.to(device)  # (n, 1, 28, 28) in [0, 1]
    model = VAE(config.latent_dim, config.hidden, generator=generator).to(device)
    batches = EpochBatches(len(X), config.batch_size, generator, device=device)
    steps = config.epochs * batches.per_epoch
    eps_gen = torch.Generator(device=device).manual_seed(config.seed + 1)

    def loss_fn(m: VAE, idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        elbo, rec, kl = m.elbo(X[idx], eps_gen)
        return -elbo.mean(), {"kl": float(kl.mean().detach())}

    def evaluate(m: VAE) -> dict[str, float]:
        g = torch.Generator(device=device).manual_seed(config.seed + 2)  # the same ε every evaluation
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
    train_elbo = -train_loss[:done_epochs * batches.per_epoch].reshape(done_epochs, -1).mean(1)  # (epochs,)
    test_elbo = np.asarray(trainer.eval_log.history.get("test_elbo", []), dtype=float)[:done_epochs]
    epochs = np.arange(1, done_epochs + 1, dtype=float)
    with torch.no_grad():
        final = evaluate(model)
        sample_gen = torch.Generator(device=device).manual_seed(config.seed + 3)
        samples = model.sample(config.n_samples, sample_gen, device).cpu()  # (n, 1, 28, 28)
        mu, _ = model.encode(X_test)
        recon = model.decode(mu[:10]).cpu()  # (10, 1, 28, 28)

    result = Result()
    result.metrics = {
        "test_elbo": final["test_elbo"], "test_kl": final["test_kl"],
        "train_elbo": float(train_elbo[-1]) if len(train_elbo) else None,
        "first_test_elbo": float(test_elbo[0]) if len(test_elbo) else None,
        "epochs": done_epochs, "steps": log.steps_done, "n_params": count_parameters(model),
        "train_seconds": train_seconds,
        "latent_dim": config.latent_dim,
    }
    if config.quality:
        judge_progress = None if progress is None else (
            lambda d, total, info: progress(round(1000 * (1 - judge_share + judge_share * d / total)), 1000, info))
        judge = train_judge(train_set, config.judge_epochs, config.seed, device, judge_progress)
        rows, judge_acc = quality_table_rows(judge, samples, test_set, config.n_reference, generator)
        g, f, c = rows["generated"], rows["held-out digits (floor)"], rows["noise (ceiling)"]
        result.metrics.update({"confident_share": g["confident_share"], "class_entropy": g["class_entropy"],
                               "frechet": g["frechet"], "confident_floor": f["confident_share"],
                               "frechet_floor": f["frechet"], "frechet_noise": c["frechet"],
                               "judge_accuracy": judge_acc})
        result.tables["quality"] = table_from_columns({
            "samples": list(rows), **{k: [rows[r][k] for r in rows]
                                      for k in ("confident_share", "class_entropy", "frechet")}})
    else:
        result.metrics.update({"confident_share": None, "class_entropy": None, "frechet": None})
        result.notes.append("quality=false: the samples were not judged by the CNN, so confident_share, "
                            "class_entropy and frechet are none.")
    result.metrics["diverged"] = False
    carry_status(log, result)
    if len(epochs):
        result.curves["test_elbo"] = Curve(epochs, test_elbo, "epoch", "test ELBO (nats / image)")
        result.curves["train_elbo"] = Curve(epochs, train_elbo, "epoch", "training ELBO (nats / image)")
        result.tables["elbo"] = table_from_columns({"epoch": epochs.astype(int), "train_elbo": train_elbo,
                                                    "test_elbo": test_elbo})
    result.artifacts.update({"model": {k: v.cpu() for k, v in model.state_dict().items()}, "samples": samples})
    result.notes += reading_notes(result.metrics, config)
    if want_figures():
        if len(epochs):
            result.figures["elbo"] = plot_elbo(epochs, train_elbo, test_elbo, f"VAE (latent {config.latent_dim})")
        pairs = torch.cat([test_set.X[:10], recon])  # originals above, reconstructions below
        result.figures["reconstructions"] = plot_image_grid(pairs.numpy(), "test digits (top), reconstructions")
        result.figures["samples"] = plot_image_grid(samples[:40].numpy(), "samples from the prior p(z)")
        if config.latent_dim == 2:
            result.figures["latent"] = plot_latent_map(mu.cpu().numpy(), test_set.y.numpy(),
                                                       "latent means μ(x) of the test digits")
    return result


def reading_notes(m: dict, config: Config) -> list[str]:
    notes = [f"Test ELBO {m['test_elbo']:.1f} nats per image (KL term {m['test_kl']:.1f}); a lower bound on "
             f"log p(x), so higher is better; {m['test_elbo'] / 784 / math.log(2):.3f} bits per pixel."]
    if m.get("confident_share") is not None:
        notes.append(f"Prior samples: {m['confident_share']:.0%} classified with confidence > 0.9 (held-out digits "
                     f"{m['confident_floor']:.0%}); class entropy {m['class_entropy']:.2f} bits of 3.32; Fréchet "
                     f"distance {m['frechet']:.3g} (floor {m['frechet_floor']:.3g}, noise {m['frechet_noise']:.3g}).")
    if config.latent_dim == 2:
        notes.append("With a 2-D latent the code is a map: similar digits sit together, and a sample from N(0, I) "
                     "decodes to whatever digit lies under it; blur comes from averaging digits that share a spot.")
    return notes


LAB = Lab(
    name="vae",
    lecture=7,
    description="variational autoencoder on the embedded digits: ELBO, reconstructions, samples, latent map",
    config=Config,
    run=run,
    headline=("test_elbo", "confident_share", "class_entropy", "frechet"),
)
