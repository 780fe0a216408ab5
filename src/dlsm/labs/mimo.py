"""Lecture 6: MIMO detection — the course's neural detector, ZF, LMMSE, K-best, EP, ML, symbol-wise MAP, the
trainable projected-gradient (TPG) detector and EP-Net (EP unfolded with learned damping), compared by their symbol
error rate (SER) versus SNR.

y = H x + w with x ∈ {±1}ⁿ (or 4-PAM), H (m, n) with N(0, 1) entries, fixed once (the course: 4×4, noise std
0.5) or drawn anew per vector, w ~ N(0, σ² I). The SNR per receive antenna is n/σ² (see
:mod:`dlsm.problems.mimo`). The NN (m-50-50-n, ReLU, tanh output, MSE, Adam 1e-3, batch 50, 10,000 steps)
TPG (incremental training, Takabe et al. 2019) and EP-Net (Adam on the smoothed SER) are trained at the operating
noise level (``noise_std``,
or ``snr_db`` when set) and then evaluated there and over ``snr_grid``. Each SER is a Monte-Carlo estimate
that stops after ``target_errors`` symbol errors or ``max_symbols`` symbols, with a 95 % Wilson interval.

The training of the learned detectors is in :mod:`dlsm.labs._mimo_training` (TPG's with its own
:class:`TPGConfig`), the SER counting and its tables in :mod:`dlsm.labs._mimo_eval`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm import outcome
from dlsm.algorithms.detectors import check_exhaustive
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.labs._mimo_eval import DETECTORS, LABELS, RATIOS, count_sers, detector_fns, detector_labels, ser_tables
from dlsm.labs._mimo_training import (
    EPNET_TEMPERATURE,
    EVAL_BATCH,
    SER_TEMPERATURE,
    VALIDATION_SYMBOLS,
    TPGConfig,
    bpsk_cross_entropy,
    mse,
    smoothed_symbol_error,
    tpg_config,
    train_detectors,
    train_epnet,
    train_nn,
    train_tpg,
    train_tpg_restarts,
    validation_ser,
)
from dlsm.memory import guard
from dlsm.outcome import Notes, metric
from dlsm.plotting.mimo import plot_ser_vs_snr, plot_tpg_parameters, plot_training
from dlsm.problems.mimo import (
    MimoChannel,
    constellation,
    draw_channel,
    noise_var_from_snr,
    snr_db_from_noise_var,
    symbol_error_rate_zf_bpsk,
)
from dlsm.result import Curve, ProgressFn, table_from_columns
from dlsm.seeds import generator
from dlsm.status import Status
from dlsm.training import ScheduleName, count_parameters
from dlsm.training.loop import FitLog

__all__ = ["DETECTORS", "EPNET_TEMPERATURE", "EVAL_BATCH", "LABELS", "LAB", "RATIOS", "SER_TEMPERATURE",
           "VALIDATION_SYMBOLS", "Config", "Outcome", "TPGConfig", "bpsk_cross_entropy", "compute", "figures",
           "memory_bytes", "mse", "notes", "run", "smoothed_symbol_error", "tpg_config", "train_detectors",
           "train_epnet", "train_nn", "train_tpg", "train_tpg_restarts", "validation_ser"]


@dataclass(frozen=True)
class Config(LabConfig):
    """Train the course's neural detector and TPG, then compare every detector's SER versus SNR.

    Sizes: ``course`` (the defaults) is the course's single-H experiment; ``quick`` trains a few hundred
    steps and counts few errors (a few seconds); ``full`` counts enough errors for 10 % precision at the
    operating point. Grid sweeps use the scalar key ``snr_db`` (``dlsm run mimo snr_db=0,4,8 --seeds 3``).
    """

    n: int = param(4, "transmit antennas = symbols per vector (course: 4)", ge=1, le=256)
    m: int = param(4, "receive antennas (course: 4; n > m is an overloaded system)", ge=1, le=256)
    modulation: Literal["bpsk", "pam4"] = param("bpsk", "symbols: BPSK {±1} (course) or 4-PAM {±1, ±3}/√5")
    channel: Literal["fixed", "random"] = param("fixed", "H fixed once by the seed (course), or new per vector "
                                                "(the NN then also sees the entries of H)")
    noise_std: float = param(0.5, "noise standard deviation σ of the operating point (course: 0.5)", gt=0)
    snr_db: float | None = param(None, "operating SNR n/σ² in dB; when set it replaces noise_std (for sweeps)")
    snr_grid: tuple[float, ...] = param((0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0),
                                        "SNRs in dB of the SER-versus-SNR curve (empty: none)")
    detectors: tuple[str, ...] = param(("zf", "lmmse", "kbest", "ep", "ml", "map", "nn", "tpg", "epnet"),
                                       "detectors to compare: " + ", ".join(DETECTORS), min_length=1)
    width: int = param(50, "units per hidden layer of the NN (course: 50)", ge=1, le=4096)
    depth: int = param(2, "hidden layers of the NN (course: 2, i.e. 4-50-50-4)", ge=1, le=16)
    steps: int = param(10_000, "Adam steps of the NN (course: 10,000)", ge=1, le=10_000_000)
    batch_size: int = param(50, "vectors per training batch of the NN (course: 50)", ge=1, le=1_000_000)
    lr: float = param(1e-3, "Adam learning rate (学習係数) of the NN (course: 0.001)", gt=0, le=10)
    schedule: ScheduleName = param("constant", "learning-rate schedule of the NN (course: constant)")
    tpg_layers: int = param(10, "TPG iterations T (each a trainable γ_t, θ_t)", ge=1, le=200)
    tpg_steps: int = param(300, "Adam steps per TPG generation (incremental training: T generations)",
                           ge=1, le=1_000_000)
    tpg_batch: int = param(200, "vectors per TPG training batch", ge=1, le=1_000_000)
    tpg_lr: float = param(0.01, "Adam learning rate of TPG", gt=0, le=10)
    tpg_loss: Literal["mse", "ce"] = param("mse", "TPG's training loss: MSE of s_T (the paper), or the cross-entropy "
                                          "-log((1 + x s_T)/2) of the soft decision (BPSK only)")
    tpg_finetune: int = param(0, "extra Adam steps on all T layers after the incremental generations (at "
                              "tpg_finetune_lr)", ge=0, le=1_000_000)
    tpg_finetune_loss: Literal["same", "ser"] = param("same", "loss of the fine-tuning steps: tpg_loss, or a smoothed "
                                                     "symbol error rate of the last layer (what the SER counts)")
    tpg_finetune_lr: float | None = param(None, "Adam learning rate of the fine-tuning steps (default: tpg_lr/10)",
                                          gt=0, le=10)
    tpg_finetune_batch: int | None = param(None, "vectors per fine-tuning batch (default: tpg_batch)", ge=1,
                                           le=1_000_000)
    tpg_finetune_schedule: ScheduleName = param("constant", "learning-rate schedule of the fine-tuning steps")
    tpg_restarts: int = param(1, "train TPG this many times on different training data and keep the one with the "
                              "lowest SER on validation vectors (drawn apart from the test vectors)", ge=1, le=64)
    search_flips: int = param(2, "tpgsearch: local ML search over 2^p candidates, p least reliable symbols",
                              ge=0, le=16)
    epnet_layers: int = param(10, "EP-Net layers T (each an EP iteration with a learned damping β_t and cavity "
                              "scale ξ_t; 10 = EP's iterations)", ge=1, le=200)
    epnet_steps: int = param(300, "Adam steps of EP-Net (started at EP, so a few hundred suffice)", ge=0,
                             le=1_000_000)
    epnet_batch: int = param(500, "vectors per EP-Net training batch (a new H per vector for channel=random)", ge=1,
                             le=1_000_000)
    epnet_lr: float = param(0.01, "Adam learning rate of EP-Net", gt=0, le=10)
    kbest_k: int = param(8, "paths kept per level by K-best", ge=1, le=4096)
    ep_iterations: int = param(10, "iterations of EP", ge=1, le=1000)
    target_errors: int = param(200, "Monte Carlo: stop a detector's SER estimate after this many symbol errors",
                               ge=1)
    max_symbols: int = param(400_000, "Monte Carlo: ... or after this many symbols", ge=1)
    device: DeviceName = device_param()

    quick = {"steps": 300, "tpg_layers": 4, "tpg_steps": 40, "epnet_steps": 30, "epnet_batch": 200,
             "snr_grid": (0.0, 4.0, 8.0, 12.0),
             "target_errors": 50, "max_symbols": 20_000}
    full = {"target_errors": 2000, "max_symbols": 4_000_000, "epnet_steps": 400, "epnet_batch": 2000}

    def check(self) -> None:
        bad = [d for d in self.detectors if d not in DETECTORS]
        if bad or not self.detectors:
            raise ConfigError(t("mimo.err.detectors", detectors=repr(self.detectors), allowed=", ".join(DETECTORS)),
                              key="detectors")
        if len(set(self.detectors)) != len(self.detectors):
            raise ConfigError(t("mimo.err.detectors_twice", detectors=repr(self.detectors)), key="detectors")
        const = constellation(self.modulation)
        for name in ("ml", "map"):
            if name in self.detectors:
                check_exhaustive(const, self.n, name)
        if self.snr_db is not None and not math.isfinite(self.snr_db):
            raise ConfigError(t("mimo.err.snr_db", snr_db=repr(self.snr_db)), key="snr_db")
        if self.tpg_loss == "ce" and self.modulation != "bpsk":
            raise ConfigError(t("mimo.err.tpg_loss_ce", modulation=repr(self.modulation)), key="tpg_loss")
        if self.tpg_finetune_loss == "ser" and self.tpg_finetune == 0:
            raise ConfigError(t("mimo.err.finetune_loss"), key="tpg_finetune_loss")
        if any(not math.isfinite(s) or abs(s) > 100 for s in self.snr_grid):
            raise ConfigError(t("mimo.err.snr_grid", snr_grid=repr(self.snr_grid)), key="snr_grid")
        guard("mimo", memory_bytes(self), key="n")  # a size this machine cannot hold: refused before any run

    @property
    def noise_var(self) -> float:
        """σ² of the operating point."""
        if self.snr_db is None:
            return self.noise_std**2
        return noise_var_from_snr(self.snr_db, self.n, constellation(self.modulation).energy)


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """Every detector's SER at the operating point, their ratios to ML, and how training went."""

    diverged: bool = metric()
    skipped_steps: int | None = metric("steps", default=None, skip_none=True)
    ser: float | None = metric("fraction", headline=True)
    ser_detector: str = metric()
    snr_db: float = metric("dB")
    noise_std: float = metric()
    ser_zf: float | None = metric("fraction")
    ser_lmmse: float | None = metric("fraction", headline=True)
    ser_kbest: float | None = metric("fraction")
    ser_ep: float | None = metric("fraction")
    ser_ml: float | None = metric("fraction", headline=True)
    ser_map: float | None = metric("fraction")
    ser_nn: float | None = metric("fraction")
    ser_tpg: float | None = metric("fraction", headline=True)
    ser_tpgsearch: float | None = metric("fraction")
    ser_epnet: float | None = metric("fraction", headline=True)
    nn_over_ml: float | None = metric(headline=True)
    tpg_over_ml: float | None = metric(headline=True)
    tpgsearch_over_ml: float | None = metric()
    lmmse_over_tpg: float | None = metric()
    epnet_over_ml: float | None = metric(headline=True)
    epnet_over_ep: float | None = metric()
    epnet_over_tpg: float | None = metric()
    ser_zf_theory: float | None = metric("fraction")
    steps: int = metric("steps")
    n_params: int = metric("parameters")
    train_loss: float | None = metric("loss")
    tpg_train_loss: float | None = metric("loss")
    symbols_counted: int = metric("symbols")
    device: str = metric()
    tpg_alpha: float | None = metric(default=None, skip_none=True)
    tpg_validation_ser: float | None = metric("fraction", default=None, skip_none=True)
    tpg_restart_kept: int | None = metric(default=None, skip_none=True)
    epnet_train_loss: float | None = metric("loss", default=None, skip_none=True)


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    device = resolve_device(config.device)
    const = constellation(config.modulation)
    s2 = config.noise_var
    snr_op = snr_db_from_noise_var(s2, config.n, const.energy)
    H_fixed = (draw_channel(config.n, config.m, generator(config.seed, "main")) if config.channel == "fixed"
               else None)  # (m, n)

    def channel(stream: str, restart: int = 0) -> MimoChannel:
        return MimoChannel(config.n, config.m, const, s2, generator(config.seed, stream, restart), H_fixed=H_fixed,
                           device=device)

    train_channel = channel("train_channel")
    eval_channel = channel("eval_channel")
    use_nn = "nn" in config.detectors
    use_tpg = "tpg" in config.detectors or "tpgsearch" in config.detectors
    tpg_total = tpg_config(config).steps_per_restart * config.tpg_restarts
    training = ((config.steps if use_nn else 0) + (tpg_total if use_tpg else 0)
                + (config.epnet_steps if "epnet" in config.detectors else 0))
    total = training + 1 + len(config.snr_grid)
    trained = train_detectors(config, channel, train_channel, device, progress, total)
    net, tpg, nn_log, tpg_log = trained.net, trained.tpg, trained.nn_log, trained.tpg_log

    epnet, epnet_log = trained.epnet, trained.epnet_log
    detect = detector_fns(config, const, net, tpg, epnet)
    at_op, grid = {}, []
    if detect and trained.status != Status.INTERRUPTED:
        at_op, grid = count_sers(config, detect, eval_channel, s2, const.energy, progress, trained.done, total)

    # ----- metrics ------------------------------------------------------------------------------------
    sers = {name: (at_op[name].ser if name in at_op else None) for name in DETECTORS}
    main = next((d for d in ("nn", "tpg", "tpgsearch") if sers[d] is not None), None)
    if main is None:
        main = next((d for d in reversed(config.detectors) if sers[d] is not None), None)

    def ratio(a: str, b: str) -> float | None:
        if sers[a] is None or sers[b] is None or sers[b] == 0:
            return None
        return sers[a] / sers[b]

    logs = [log for log in (nn_log, tpg_log, epnet_log) if log is not None]
    names = [d for d in config.detectors if d in at_op]
    tables = ser_tables(config, names, at_op, grid)
    curves = {f"ser_{d}": Curve(np.array(config.snr_grid), np.array([e[d].ser for e in grid]),
                                t("mimo.label.snr_db"), t("mimo.label.ser_of", detector=detector_labels()[d]),
                                log_y=True) for d in names if grid}
    if nn_log and nn_log.losses:
        curves["nn_loss"] = Curve(np.array(nn_log.steps) + 1, np.array(nn_log.losses), t("common.label.step"),
                                  t("mimo.label.nn_loss"), log_y=True)
    if tpg_log and tpg_log.losses:
        curves["tpg_loss"] = Curve(np.array(tpg_log.steps) + 1, np.array(tpg_log.losses), t("common.label.step"),
                                   t("mimo.label.tpg_loss"), log_y=True)
    if epnet_log and epnet_log.losses:
        curves["epnet_loss"] = Curve(np.array(epnet_log.steps) + 1, np.array(epnet_log.losses), t("common.label.step"),
                                     t("mimo.label.epnet_loss"), log_y=True)
    artifacts = {}
    if epnet is not None:
        tables["epnet_parameters"] = table_from_columns({
            "t": list(range(1, config.epnet_layers + 1)), "beta": epnet.beta.detach().cpu().numpy(),
            "xi": epnet.xi.detach().cpu().numpy()})
        artifacts["epnet"] = {k: v.detach().cpu() for k, v in epnet.state_dict().items()}
    if tpg is not None:
        tables["tpg_parameters"] = table_from_columns({
            "t": list(range(1, config.tpg_layers + 1)), "gamma": tpg.gamma.detach().cpu().numpy(),
            "theta": tpg.theta.detach().cpu().numpy()})
        if len(trained.val_sers) > 1:
            tables["tpg_restarts"] = table_from_columns({
                "restart": list(range(len(trained.val_sers))), "validation_ser": trained.val_sers,
                "kept": ["yes" if r == trained.kept else "" for r in range(len(trained.val_sers))]})
        artifacts["tpg"] = {k: v.detach().cpu() for k, v in tpg.state_dict().items()}
    if net is not None:
        artifacts["nn"] = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    if H_fixed is not None:
        artifacts["H"] = H_fixed
    return Outcome(
        diverged=logs[0].status == Status.DIVERGED if logs else False,
        skipped_steps=next((log.skipped for log in reversed(logs) if log.skipped), None),
        ser=sers[main] if main else None, ser_detector=main or "none", snr_db=snr_op, noise_std=math.sqrt(s2),
        **{f"ser_{name}": sers[name] for name in DETECTORS},
        **{name: ratio(a, b) for name, (a, b) in RATIOS.items()},
        ser_zf_theory=(symbol_error_rate_zf_bpsk(H_fixed, s2) if H_fixed is not None and const.name == "bpsk"
                       and config.m >= config.n else None),
        steps=(nn_log.steps_done if nn_log else 0) + (tpg_log.steps_done if tpg_log else 0),
        n_params=count_parameters(net) if net is not None else 0,
        train_loss=nn_log.losses[-1] if nn_log and nn_log.losses else None,
        tpg_train_loss=tpg_log.losses[-1] if tpg_log and tpg_log.losses else None,
        symbols_counted=sum(e.symbols for e in at_op.values()),
        device=device.type,
        tpg_alpha=float(tpg.alpha.detach()) if tpg is not None else None,
        tpg_validation_ser=trained.val_sers[trained.kept] if tpg is not None and trained.val_sers else None,
        tpg_restart_kept=trained.kept if tpg is not None else None,
        epnet_train_loss=epnet_log.losses[-1] if epnet_log and epnet_log.losses else None,
        tables=tables, curves=curves, artifacts=artifacts, status=trained.status,
        data={"grid": grid, "names": names, "nn_log": nn_log, "tpg_log": tpg_log, "tpg": tpg,
              "epnet_log": epnet_log},
    )


# ----- what the reader is told ----------------------------------------------------------------------------
def _training_notes(found: Notes, which: str, log: FitLog | None, planned: int, setting: str = "lr",
                    value: float = math.nan) -> None:
    """How a training that did not complete ended (what the training loop's message said, in the glossary);
    a diverged one names the learning rate ``setting`` to lower."""
    if log is None or log.status == Status.COMPLETED:
        return
    if log.status == Status.DIVERGED:
        found.measured.append(t("mimo.note.diverged", which=which, steps=log.steps_done,
                                loss=log.losses[-1] if log.losses else math.nan))
        found.measured.append(t("training.diverged_setting", setting=setting, value=value))
        found.explanations.append(t("mimo.note.why_diverged"))
    else:
        found.measured.append(t("mimo.note.interrupted", which=which, steps=log.steps_done, total=planned))


def notes(config: Config, out: Outcome) -> Notes:
    """The operating point, which SERs are missing and why, the ratios to ML, and how the SERs were counted;
    apart, ZF's closed form and why the NN struggles with random H."""
    found = Notes()
    _training_notes(found, "NN", out.data["nn_log"], config.steps, "lr", config.lr)
    _training_notes(found, "TPG", out.data["tpg_log"], tpg_config(config).steps_per_restart, "tpg_lr", config.tpg_lr)
    _training_notes(found, "EP-Net", out.data["epnet_log"], config.epnet_steps, "epnet_lr", config.epnet_lr)
    found.measured.append(t("mimo.note.operating_point", sigma=out.noise_std, snr=out.snr_db))
    metrics = out.metrics
    chance = 1 - 1 / {"bpsk": 2, "pam4": 4}[config.modulation]  # SER of guessing a symbol uniformly
    for name, setting in (("nn", "lr"), ("tpg", "tpg_lr"), ("epnet", "epnet_lr")):
        ser = metrics.get(f"ser_{name}")
        if ser is not None and ser >= chance:
            found.measured.append(t("mimo.note.chance", which=name.upper(), ser=ser, chance=chance, setting=setting,
                                    value=getattr(config, setting)))
    for name in DETECTORS:
        if metrics[f"ser_{name}"] is None:
            key = f"ser_{name}"
            found.measured.append(t("mimo.note.not_listed", metric=key) if name not in config.detectors
                                  else t("mimo.note.not_trained", metric=key))
    if out.ser_zf_theory is not None and out.ser_zf is not None:
        found.measured.append(t("mimo.note.zf_theory", measured=out.ser_zf, theory=out.ser_zf_theory))
        found.explanations.append(t("mimo.note.why_zf_theory"))
    if out.nn_over_ml is not None:
        found.measured.append(t("mimo.note.nn_over_ml", ratio=out.nn_over_ml))
    if out.tpg_over_ml is not None:
        found.measured.append(t("mimo.note.tpg_over_ml", ratio=out.tpg_over_ml))
    if out.epnet_over_ml is not None:
        found.measured.append(t("mimo.note.epnet_over_ml", ratio=out.epnet_over_ml))
    if out.epnet_over_ep is not None:
        found.measured.append(t("mimo.note.epnet_over_ep", ratio=out.epnet_over_ep))
    if out.lmmse_over_tpg is not None:
        found.measured.append(t("mimo.note.lmmse_over_tpg", ratio=out.lmmse_over_tpg))
    for name, (a, b) in RATIOS.items():
        if metrics[name] is None and metrics[f"ser_{a}"] is not None and metrics[f"ser_{b}"] == 0:
            found.measured.append(t("mimo.note.ratio_undefined", metric=name, divisor=f"ser_{b}"))
    if config.tpg_restarts > 1 and out.tpg_validation_ser is not None:
        found.measured.append(t("mimo.note.restarts", restarts=config.tpg_restarts, kept=out.tpg_restart_kept,
                                ser=out.tpg_validation_ser, vectors=max(1, VALIDATION_SYMBOLS // config.n)))
    if config.channel == "random" and "nn" in config.detectors:
        found.explanations.append(t("mimo.note.random_h_nn"))
    found.measured.append(t("mimo.note.counting", errors=config.target_errors, symbols=config.max_symbols))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """SER versus SNR (when there is a grid), the training losses, and TPG's learned parameters."""
    grid, names, tpg = out.data["grid"], out.data["names"], out.data["tpg"]
    nn_log, tpg_log = out.data["nn_log"], out.data["tpg_log"]
    modulation = {"bpsk": "BPSK", "pam4": "4-PAM"}[config.modulation]
    system = (t("mimo.label.system_fixed", n=config.n, m=config.m, modulation=modulation) if config.channel == "fixed"
              else t("mimo.label.system_random", n=config.n, m=config.m, modulation=modulation))
    figs = {}
    if grid:
        curves = {d: (np.array([e[d].ser for e in grid]), np.array([e[d].low for e in grid]),
                      np.array([e[d].high for e in grid])) for d in names}
        figs["ser_vs_snr"] = plot_ser_vs_snr(np.array(config.snr_grid), curves,
                                             t("mimo.title.ser_vs_snr", system=system), operating_snr=out.snr_db,
                                             labels=detector_labels())
    train_curves = {}
    if nn_log and nn_log.losses:
        train_curves["nn"] = (np.array(nn_log.steps) + 1, np.array(nn_log.losses))
    if tpg_log and tpg_log.losses:
        train_curves["tpg"] = (np.array(tpg_log.steps) + 1, np.array(tpg_log.losses))
    marks = {}
    if tpg_log and config.tpg_finetune:
        loss = t("mimo.label.smoothed_ser") if config.tpg_finetune_loss == "ser" else config.tpg_loss.upper()
        marks["tpg"] = (config.tpg_layers * config.tpg_steps + 1, t("mimo.label.finetune_mark", loss=loss))
    if train_curves:
        ylabel = (t("mimo.label.training_mse") if config.tpg_loss == "mse" or tpg_log is None
                  else t("mimo.label.training_loss_ce"))
        figs["training"] = plot_training(train_curves, t("mimo.title.training", system=system), marks, ylabel,
                                         labels=detector_labels())
    if tpg is not None:
        with torch.no_grad():
            figs["tpg_parameters"] = plot_tpg_parameters(tpg.gamma.cpu().numpy(), tpg.theta.cpu().numpy(),
                                                         float(tpg.alpha))
    return figs


def memory_bytes(config: Config) -> float:
    """The largest memory the run holds at once (bytes, an order of magnitude), float32 (4 bytes):

    - a Monte-Carlo batch of EVAL_BATCH vectors: y, x, H (b, m, n) for random H, and EP's / EP-Net's n × n
      matrices (a few per vector), K-best's paths (b, K |C|, n);
    - the exhaustive searches (ml, map): the candidates |C|ⁿ × n, and one block of the distance tensor (a fixed
      H: the reduced metrics of ``_CACHE_BLOCK`` or ``_BLOCK`` elements; a random H: ``_BLOCK`` elements and its
      product H X of the same size), when those detectors are listed;
    - the training batches (NN, TPG, EP-Net): H per vector for random H, times the layers kept for autograd
      (T n × n matrices per vector for EP-Net, T (m + n) for TPG);
    - TPG's validation vectors (VALIDATION_SYMBOLS symbols with their H)."""
    n, m, f = config.n, config.m, 4.0
    const = constellation(config.modulation)
    per_h = m * n if config.channel == "random" else 0  # entries of H stored per vector
    b = EVAL_BATCH
    need = b * (m + 2 * n + per_h) * f
    if "ep" in config.detectors or "epnet" in config.detectors:
        need += b * 4 * n * n * f
    if "kbest" in config.detectors:
        need += b * config.kbest_k * const.size * n * 2 * f
    exhaustive = [d for d in ("ml", "map") if d in config.detectors]
    if exhaustive and const.size**n <= 2**20:
        K = const.size**n
        need += K * n * 8.0 + 2 * 2**23 * 8.0  # candidates (float64 when built) and a block with its product
    train = 0.0
    if "nn" in config.detectors:
        train = max(train, config.batch_size * (m + per_h + 2 * n + 4 * config.width * config.depth) * f)
    if "tpg" in config.detectors or "tpgsearch" in config.detectors:
        batch = max(config.tpg_batch, config.tpg_finetune_batch or 0)
        train = max(train, batch * (2 * m * n + m * m + config.tpg_layers * 4 * (m + n)) * f)
        need += (VALIDATION_SYMBOLS // max(1, n)) * (m + n + per_h) * f
    if "epnet" in config.detectors:
        train = max(train, config.epnet_batch * (per_h + config.epnet_layers * (3 * n * n + 12 * n)) * f)
    return need + train


LAB = Lab(
    name="mimo",
    lecture=6,
    description="MIMO detection: course NN, TPG, EP-Net, ZF, LMMSE, K-best, EP, ML, symbol MAP; SER versus SNR",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
    headline=("ser", "ser_ml", "ser_lmmse", "ser_tpg", "nn_over_ml", "tpg_over_ml"),
)
run = LAB.run
