"""Lecture 6: MIMO detection — the course's neural detector, ZF, LMMSE, K-best, EP, ML, symbol-wise MAP and the
trainable projected-gradient (TPG) detector, compared by their symbol error rate (SER) versus SNR.

y = H x + w with x ∈ {±1}ⁿ (or 4-PAM), H (m, n) with N(0, 1) entries, fixed once (the course: 4×4, noise std
0.5) or drawn anew per vector, w ~ N(0, σ² I). The SNR per receive antenna is n/σ² (see
:mod:`dlsm.problems.mimo`). The NN (m-50-50-n, ReLU, tanh output, MSE, Adam 1e-3, batch 50, 10,000 steps)
and TPG (incremental training, Takabe et al. 2019) are trained at the operating noise level (``noise_std``,
or ``snr_db`` when set) and then evaluated there and over ``snr_grid``. Each SER is a Monte-Carlo estimate
that stops after ``target_errors`` symbol errors or ``max_symbols`` symbols, with a 95 % Wilson interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from dlsm.algorithms.detectors import EP, LMMSE, ML, ZF, KBest, SymbolMAP, check_exhaustive
from dlsm.config import LabConfig, param
from dlsm.device import DeviceName, device_param, resolve_device
from dlsm.errors import ConfigError
from dlsm.labs import Lab
from dlsm.models.detectors import TPG, NeuralDetector, TPGSearch
from dlsm.plotting.mimo import plot_ser_vs_snr, plot_tpg_parameters, plot_training
from dlsm.problems.mimo import (
    Constellation,
    MimoBatch,
    MimoChannel,
    SerEstimate,
    constellation,
    draw_channel,
    monte_carlo_ser,
    noise_var_from_snr,
    snr_db_from_noise_var,
    symbol_error_rate_zf_bpsk,
)
from dlsm.result import Curve, ProgressFn, Result, table_from_columns
from dlsm.status import Status
from dlsm.training import (
    Generation,
    ScheduleName,
    Trainer,
    carry_status,
    count_parameters,
    make_optimizer,
    make_schedule,
    offset_progress,
    train_incremental,
    want_figures,
)
from dlsm.training.loop import FitLog

#: Every detector the lab knows, in the order of its tables.
DETECTORS = ("zf", "lmmse", "kbest", "ep", "ml", "map", "nn", "tpg", "tpgsearch")
LABELS = {"zf": "ZF", "lmmse": "LMMSE", "kbest": "K-best", "ep": "EP", "ml": "ML", "map": "symbol MAP",
          "nn": "NN (course)", "tpg": "TPG", "tpgsearch": "TPG + local search"}
EVAL_BATCH = 10_000  # vectors per Monte-Carlo batch
#: Symbols on which TPG's restarts are compared (400,000 / n vectors). At 4×4, σ = 0.5, restarts differ by a few
#: per cent, and 20,000 vectors (2 % standard error) chose a worse one on a probe where 100,000 did not.
VALIDATION_SYMBOLS = 400_000
#: τ of :func:`smoothed_symbol_error`, in units of the spacing of the constellation's points (τ = 0.05 for BPSK).
#: Probes on random 4×4 H at σ = 0.5 found τ = 0.02 to 0.1 alike and 0.3 (a loss closer to the MSE) worse.
SER_TEMPERATURE = 0.025


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
    detectors: tuple[str, ...] = param(("zf", "lmmse", "kbest", "ep", "ml", "map", "nn", "tpg"),
                                       "detectors to compare: " + ", ".join(DETECTORS))
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
    kbest_k: int = param(8, "paths kept per level by K-best", ge=1, le=4096)
    ep_iterations: int = param(10, "iterations of EP", ge=1, le=1000)
    target_errors: int = param(200, "Monte Carlo: stop a detector's SER estimate after this many symbol errors",
                               ge=1)
    max_symbols: int = param(400_000, "Monte Carlo: ... or after this many symbols", ge=1)
    device: DeviceName = device_param()

    quick = {"steps": 300, "tpg_layers": 4, "tpg_steps": 40, "snr_grid": (0.0, 4.0, 8.0, 12.0),
             "target_errors": 50, "max_symbols": 20_000}
    full = {"target_errors": 2000, "max_symbols": 4_000_000}

    def check(self) -> None:
        bad = [d for d in self.detectors if d not in DETECTORS]
        if bad or not self.detectors:
            raise ConfigError(f"detectors: got {self.detectors!r}; allowed: a non-empty list of "
                              f"{', '.join(DETECTORS)}", key="detectors")
        if len(set(self.detectors)) != len(self.detectors):
            raise ConfigError(f"detectors: got {self.detectors!r}; each detector at most once", key="detectors")
        const = constellation(self.modulation)
        for name in ("ml", "map"):
            if name in self.detectors:
                check_exhaustive(const, self.n, name)
        if self.snr_db is not None and not math.isfinite(self.snr_db):
            raise ConfigError(f"snr_db: got {self.snr_db!r}; allowed: a finite number of dB", key="snr_db")
        if self.tpg_loss == "ce" and self.modulation != "bpsk":
            raise ConfigError(f"tpg_loss: got 'ce' with modulation={self.modulation!r}; allowed: ce only with bpsk",
                              key="tpg_loss")
        if self.tpg_finetune_loss == "ser" and self.tpg_finetune == 0:
            raise ConfigError("tpg_finetune_loss: got 'ser' with tpg_finetune=0; allowed: 'ser' with fine-tuning steps "
                              "(e.g. tpg_finetune=2000), or 'same'", key="tpg_finetune_loss")
        if any(not math.isfinite(s) or abs(s) > 100 for s in self.snr_grid):
            raise ConfigError(f"snr_grid: got {self.snr_grid!r}; allowed: finite SNRs in dB within ±100",
                              key="snr_grid")

    @property
    def noise_var(self) -> float:
        """σ² of the operating point."""
        if self.snr_db is None:
            return self.noise_std**2
        return noise_var_from_snr(self.snr_db, self.n, constellation(self.modulation).energy)


# ----- training -------------------------------------------------------------------------------------
def mse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(1/(b n)) Σ (x̂ − x)²."""
    return ((x_hat - x) ** 2).mean()


def bpsk_cross_entropy(s: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-(1/(b n)) Σ log((1 + x s)/2): the soft decision s ∈ (-1, 1) read as P(x = +1) = (1 + s)/2."""
    return -torch.log((1 + x * s) / 2 + 1e-6).mean()


def smoothed_symbol_error(r: torch.Tensor, x: torch.Tensor, const: Constellation,
                          tau: float) -> torch.Tensor:
    """(1/(b n)) Σ_i [1 − σ((r_i − l_i)/τ) σ((u_i − r_i)/τ)], where (l_i, u_i) is the decision region of the sent
    point x_i (±∞ at the ends): a smooth version of the SER of the hard decision of r, equal to it as τ → 0.
    For BPSK it is σ(−x r/τ)."""
    b = const.boundaries.to(r.device, r.dtype)
    inf = b.new_tensor([math.inf])
    k = torch.bucketize(x.contiguous(), b)  # index of the sent point (x is a point, never on a boundary)
    low, high = torch.cat([-inf, b])[k], torch.cat([b, inf])[k]
    return (1 - torch.sigmoid((r - low) / tau) * torch.sigmoid((high - r) / tau)).mean()


def train_nn(config: Config, channel: MimoChannel, generator: torch.Generator, device: torch.device,
             progress: ProgressFn | None) -> tuple[NeuralDetector, FitLog]:
    """The course recipe: fresh batches of (y, x) from the channel, MSE, Adam, ``steps`` updates."""
    net = NeuralDetector(config.n, config.m, channel.const, (config.width,) * config.depth,
                         channel_input=config.channel == "random", generator=generator).to(device)
    opt = make_optimizer("adam", net.parameters(), config.lr)
    trainer = Trainer(net, lambda model, b: mse(model(b.y, b.H), b.x), lambda k: channel.sample(config.batch_size),
                      opt, config.steps, name="nn", scheduler=make_schedule(config.schedule, opt, config.steps),
                      skip_nonfinite=True, generators={"data": channel.generator},
                      log_every=max(1, config.steps // 500), progress=progress)
    return net, trainer.run()


def train_tpg(config: Config, channel: MimoChannel, progress: ProgressFn | None,
              name: str = "tpg-generation") -> tuple[TPG, FitLog]:
    """Incremental training: generation g trains γ_1..g, θ_1..g and α on the MSE of s_g (later layers get no
    gradient); then, optionally, ``tpg_finetune`` steps on all T layers (at a tenth of the learning rate unless
    ``tpg_finetune_lr`` is set), on ``tpg_loss`` or (``tpg_finetune_loss=ser``) on :func:`smoothed_symbol_error`
    of the last layer's r."""
    tpg = TPG(config.tpg_layers, channel.const).to(channel.device)
    T = config.tpg_layers

    loss = mse if config.tpg_loss == "mse" else bpsk_cross_entropy
    tau = SER_TEMPERATURE * channel.const.spacing

    def loss_for(g: int):
        if g > T and config.tpg_finetune_loss == "ser":
            return lambda model, b: smoothed_symbol_error(model(b.y, b.H, b.noise_var, pre_projection=True), b.x,
                                                          channel.const, tau)
        return lambda model, b: loss(model(b.y, b.H, b.noise_var, layers=min(g, T)), b.x)

    gens = [Generation(list(tpg.parameters()), config.tpg_steps, config.tpg_lr) for _ in range(T)]
    if config.tpg_finetune:
        lr = config.tpg_lr / 10 if config.tpg_finetune_lr is None else config.tpg_finetune_lr
        batch = config.tpg_finetune_batch or config.tpg_batch
        gens.append(Generation(list(tpg.parameters()), config.tpg_finetune, lr, config.tpg_finetune_schedule,
                               lambda k: channel.sample(batch)))
    log = train_incremental(tpg, loss_for, lambda k: channel.sample(config.tpg_batch), gens, name=name,
                            generators={"data": channel.generator}, progress=progress, skip_nonfinite=True,
                            log_every=max(1, config.tpg_steps // 50))
    return tpg, log.as_fit_log()


def validation_ser(tpg: TPG, validation: MimoBatch) -> float:
    """SER of TPG's hard decisions on the validation vectors, counted in batches of EVAL_BATCH vectors."""
    errors = 0
    for i in range(0, validation.y.shape[0], EVAL_BATCH):
        H = validation.H if validation.H.dim() == 2 else validation.H[i:i + EVAL_BATCH]
        x_hat = tpg.detect(validation.y[i:i + EVAL_BATCH], H, validation.noise_var).x_hat
        errors += int((x_hat != validation.x[i:i + EVAL_BATCH]).sum())
    return errors / validation.x.numel()


def train_tpg_restarts(config: Config, channels: list[MimoChannel], validation: MimoBatch,
                       progress: ProgressFn | None) -> tuple[TPG, FitLog, list[float], int]:
    """:func:`train_tpg` once per channel (restart r draws its training data from ``channels[r]``), then keep
    the TPG with the lowest SER on ``validation``. Returns it, its log, every restart's validation SER and the
    index of the one kept. A restart that is interrupted or diverges ends the search and is the one returned,
    so that the caller sees how training ended."""
    per_restart = config.tpg_layers * config.tpg_steps + config.tpg_finetune
    total = per_restart * len(channels)
    best: tuple[float, TPG, FitLog, int] | None = None
    val_sers: list[float] = []
    for r, channel in enumerate(channels):
        name = "tpg-generation" if r == 0 else f"tpg-restart{r}-generation"
        tpg, log = train_tpg(config, channel, offset_progress(progress, r * per_restart, total), name=name)
        val_sers.append(validation_ser(tpg, validation))
        if best is None or val_sers[-1] < best[0] or log.status != Status.COMPLETED:
            best = (val_sers[-1], tpg, log, r)
        if log.status != Status.COMPLETED:
            break
    _, tpg, log, kept = best  # type: ignore[misc]  # channels is not empty
    return tpg, log, val_sers, kept


# ----- the lab ----------------------------------------------------------------------------------------
def run(config: Config, progress: ProgressFn | None = None) -> Result:
    device = resolve_device(config.device)
    const = constellation(config.modulation)
    s2 = config.noise_var
    snr_op = snr_db_from_noise_var(s2, config.n, const.energy)
    g_channel = torch.Generator().manual_seed(config.seed)
    H_fixed = draw_channel(config.n, config.m, g_channel) if config.channel == "fixed" else None  # (m, n)
    g_init = torch.Generator().manual_seed(config.seed + 1_000_003)

    def channel(seed: int) -> MimoChannel:
        return MimoChannel(config.n, config.m, const, s2, torch.Generator().manual_seed(seed), H_fixed=H_fixed,
                           device=device)

    train_channel = channel(config.seed + 2_000_003)
    eval_channel = channel(config.seed + 3_000_017)
    use_nn = "nn" in config.detectors
    use_tpg = "tpg" in config.detectors or "tpgsearch" in config.detectors
    n_eval = 1 + len(config.snr_grid)
    tpg_total = (config.tpg_layers * config.tpg_steps + config.tpg_finetune) * config.tpg_restarts
    total = (config.steps if use_nn else 0) + (tpg_total if use_tpg else 0) + n_eval
    result = Result()
    done = 0

    net = nn_log = tpg = tpg_log = None
    tpg_val_sers: list[float] = []
    tpg_kept = 0
    if use_nn:
        net, nn_log = train_nn(config, train_channel, g_init, device, offset_progress(progress, 0, total))
        done += config.steps
        carry_status(nn_log, result)
    if use_tpg and result.status == "completed":
        restarts = [train_channel] + [channel(config.seed + 2_000_003 + 10_000_019 * r)
                                      for r in range(1, config.tpg_restarts)]
        validation = channel(config.seed + 4_000_037).sample(max(1, VALIDATION_SYMBOLS // config.n))
        tpg, tpg_log, tpg_val_sers, tpg_kept = train_tpg_restarts(config, restarts, validation,
                                                        offset_progress(progress, done, total))
        done += tpg_total
        carry_status(tpg_log, result)

    classical = {"zf": ZF(const), "lmmse": LMMSE(const), "kbest": KBest(const, config.kbest_k),
                 "ep": EP(const, config.ep_iterations), "ml": ML(const), "map": SymbolMAP(const)}
    detect: dict = {}
    for name in config.detectors:
        if name in classical:
            detect[name] = lambda y, H, v, d=classical[name]: d(y, H, v).x_hat
        elif name == "nn" and net is not None:
            net.eval()
            detect[name] = lambda y, H, v: net.detect(y, H, v).x_hat
        elif name == "tpg" and tpg is not None:
            detect[name] = lambda y, H, v: tpg.detect(y, H, v).x_hat
        elif name == "tpgsearch" and tpg is not None:
            search = TPGSearch(tpg, config.search_flips)
            detect[name] = lambda y, H, v, s=search: s.detect(y, H, v).x_hat

    def estimate(noise_var: float) -> dict[str, SerEstimate]:
        return monte_carlo_ser(detect, eval_channel, target_errors=config.target_errors,
                               max_symbols=config.max_symbols, batch=EVAL_BATCH, noise_var=noise_var)

    at_op: dict[str, SerEstimate] = {}
    grid: list[dict[str, SerEstimate]] = []
    if detect and not result.interrupted:
        at_op = estimate(s2)
        done += 1
        if progress is not None:
            progress(done, total, {"ser_" + k: v.ser for k, v in at_op.items()})
        for snr in config.snr_grid:
            grid.append(estimate(noise_var_from_snr(snr, config.n, const.energy)))
            done += 1
            if progress is not None:
                progress(done, total, {"snr_db": snr})

    # ----- metrics ------------------------------------------------------------------------------------
    sers = {name: (at_op[name].ser if name in at_op else None) for name in DETECTORS}
    main = next((d for d in ("nn", "tpg", "tpgsearch") if sers[d] is not None), None)
    if main is None:
        main = next((d for d in reversed(config.detectors) if sers[d] is not None), None)

    def ratio(a: str, b: str) -> float | None:
        if sers[a] is None or sers[b] is None or sers[b] == 0:
            return None
        return sers[a] / sers[b]

    m = result.metrics
    m.update({"ser": sers[main] if main else None, "ser_detector": main or "none",
              "snr_db": snr_op, "noise_std": math.sqrt(s2)})
    m.update({f"ser_{name}": sers[name] for name in DETECTORS})
    m.update({"nn_over_ml": ratio("nn", "ml"), "tpg_over_ml": ratio("tpg", "ml"),
              "tpgsearch_over_ml": ratio("tpgsearch", "ml"), "lmmse_over_tpg": ratio("lmmse", "tpg")})
    m["ser_zf_theory"] = (symbol_error_rate_zf_bpsk(H_fixed, s2) if H_fixed is not None and const.name == "bpsk"
                          and config.m >= config.n else None)
    m["steps"] = (nn_log.steps_done if nn_log else 0) + (tpg_log.steps_done if tpg_log else 0)
    m["n_params"] = count_parameters(net) if net is not None else 0
    m["train_loss"] = nn_log.losses[-1] if nn_log and nn_log.losses else None
    m["tpg_train_loss"] = tpg_log.losses[-1] if tpg_log and tpg_log.losses else None
    m["symbols_counted"] = sum(e.symbols for e in at_op.values())
    m["device"] = device.type
    m.setdefault("diverged", False)

    # ----- tables, curves, figures --------------------------------------------------------------------
    names = [d for d in config.detectors if d in at_op]
    if at_op:
        result.tables["ser"] = table_from_columns({
            "detector": names, "ser": [at_op[d].ser for d in names], "ci_low": [at_op[d].low for d in names],
            "ci_high": [at_op[d].high for d in names], "errors": [at_op[d].errors for d in names],
            "symbols": [at_op[d].symbols for d in names]})
    if grid:
        rows = [(snr, d, e[d].ser, e[d].low, e[d].high, e[d].errors, e[d].symbols)
                for snr, e in zip(config.snr_grid, grid, strict=True) for d in names]
        result.tables["ser_vs_snr"] = table_from_columns(dict(zip(
            ("snr_db", "detector", "ser", "ci_low", "ci_high", "errors", "symbols"), zip(*rows, strict=True),
            strict=True)))
        for d in names:
            result.curves[f"ser_{d}"] = Curve(np.array(config.snr_grid), np.array([e[d].ser for e in grid]),
                                              "SNR [dB]", f"SER of {LABELS[d]}", log_y=True)
    if nn_log and nn_log.losses:
        result.curves["nn_loss"] = Curve(np.array(nn_log.steps) + 1, np.array(nn_log.losses), "step", "NN training MSE",
                                         log_y=True)
    if tpg_log and tpg_log.losses:
        result.curves["tpg_loss"] = Curve(np.array(tpg_log.steps) + 1, np.array(tpg_log.losses), "step",
                                          "TPG training loss (incremental)", log_y=True)
    if tpg is not None:
        result.tables["tpg_parameters"] = table_from_columns({
            "t": list(range(1, config.tpg_layers + 1)), "gamma": tpg.gamma.detach().cpu().numpy(),
            "theta": tpg.theta.detach().cpu().numpy()})
        m["tpg_alpha"] = float(tpg.alpha.detach())
        m["tpg_validation_ser"] = tpg_val_sers[tpg_kept] if tpg_val_sers else None
        m["tpg_restart_kept"] = tpg_kept
        if len(tpg_val_sers) > 1:
            result.tables["tpg_restarts"] = table_from_columns({
                "restart": list(range(len(tpg_val_sers))), "validation_ser": tpg_val_sers,
                "kept": ["yes" if r == tpg_kept else "" for r in range(len(tpg_val_sers))]})
        result.artifacts["tpg"] = {k: v.detach().cpu() for k, v in tpg.state_dict().items()}
    if net is not None:
        result.artifacts["nn"] = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    if H_fixed is not None:
        result.artifacts["H"] = H_fixed
    if want_figures():
        _figures(result, config, grid, names, snr_op, nn_log, tpg_log, tpg)
    result.notes += _notes(config, m, snr_op)
    return result


def _figures(result: Result, config: Config, grid: list, names: list[str], snr_op: float,
             nn_log: FitLog | None, tpg_log: FitLog | None, tpg: TPG | None) -> None:
    system = f"{config.n}×{config.m} {config.modulation}, {config.channel} H"
    if grid:
        curves = {d: (np.array([e[d].ser for e in grid]), np.array([e[d].low for e in grid]),
                      np.array([e[d].high for e in grid])) for d in names}
        result.figures["ser_vs_snr"] = plot_ser_vs_snr(np.array(config.snr_grid), curves, f"SER versus SNR ({system})",
                                                       operating_snr=snr_op, labels=LABELS)
    train = {}
    if nn_log and nn_log.losses:
        train["nn"] = (np.array(nn_log.steps) + 1, np.array(nn_log.losses))
    if tpg_log and tpg_log.losses:
        train["tpg"] = (np.array(tpg_log.steps) + 1, np.array(tpg_log.losses))
    marks = {}
    if tpg_log and config.tpg_finetune:
        loss = "smoothed SER" if config.tpg_finetune_loss == "ser" else config.tpg_loss.upper()
        marks["tpg"] = (config.tpg_layers * config.tpg_steps + 1, f"fine-tuning on all layers ({loss})")
    if train:
        ylabel = "training MSE" if config.tpg_loss == "mse" or tpg_log is None else "training loss (TPG: cross-entropy)"
        result.figures["training"] = plot_training(train, f"training ({system})", marks, ylabel)
    if tpg is not None:
        with torch.no_grad():
            result.figures["tpg_parameters"] = plot_tpg_parameters(tpg.gamma.cpu().numpy(), tpg.theta.cpu().numpy(),
                                                                   float(tpg.alpha))


def _notes(config: Config, m: dict, snr_op: float) -> list[str]:
    notes = [f"Operating point: σ = {m['noise_std']:.4g}, SNR n/σ² = {snr_op:.4g} dB; the NN and TPG were trained "
             "there and are evaluated unchanged at the other SNRs of the grid."]
    for name in DETECTORS:
        if m[f"ser_{name}"] is None:
            why = "not in detectors" if name not in config.detectors else "not trained (the run stopped early)"
            notes.append(f"ser_{name} is None: {why}.")
    if m["ser_zf_theory"] is not None and m["ser_zf"] is not None:
        notes.append(f"ZF on this fixed H: measured {m['ser_zf']:.4g}, theory (1/n) Σ Q(1/(σ√[(HᵀH)⁻¹]_ii)) = "
                     f"{m['ser_zf_theory']:.4g}.")
    if m["nn_over_ml"] is not None:
        notes.append(f"The NN's SER is {m['nn_over_ml']:.3g} × ML's.")
    if m["tpg_over_ml"] is not None:
        notes.append(f"TPG's SER is {m['tpg_over_ml']:.3g} × ML's.")
    if m["lmmse_over_tpg"] is not None:
        notes.append(f"LMMSE's SER is {m['lmmse_over_tpg']:.3g} × TPG's.")
    if config.tpg_restarts > 1 and m.get("tpg_validation_ser") is not None:
        notes.append(f"TPG was trained up to {config.tpg_restarts} times on different training data; restart "
                     f"{m['tpg_restart_kept']} is kept, with SER {m['tpg_validation_ser']:.4g} on "
                     f"{max(1, VALIDATION_SYMBOLS // config.n)} validation vectors drawn apart from the test vectors "
                     "(table tpg_restarts).")
    if config.channel == "random" and "nn" in config.detectors:
        notes.append("With random H the NN sees [y, vec H]; a plain MLP learns this poorly, unlike TPG, whose "
                     "structure uses H.")
    notes.append(f"Each SER is counted until {config.target_errors} symbol errors or {config.max_symbols} symbols; "
                 "ci_low/ci_high are 95 % Wilson intervals.")
    return notes


LAB = Lab(
    name="mimo",
    lecture=6,
    description="MIMO detection: course NN, TPG, ZF, LMMSE, K-best, EP, ML, symbol MAP; SER versus SNR",
    config=Config,
    run=run,
    headline=("ser", "ser_ml", "ser_lmmse", "ser_tpg", "nn_over_ml", "tpg_over_ml"),
)
