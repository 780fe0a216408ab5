"""Lecture 5: sparse modeling and compressed sensing. ISTA, FISTA, AMP, state evolution, OMP, the phase transition.

y = A x + w with a Bernoulli-Gaussian x (nonzero with probability p). The lab recovers a test batch with

- ISTA and FISTA for the LASSO ½‖y − A x‖² + λ‖x‖₁ (step 1/L), over a grid of λ (the best λ per
  iteration count is reported: a large λ is best after few ISTA iterations, a small one after many);
- AMP with the soft threshold and with the Bayes (MMSE) denoiser, against its state evolution (SE); Bayes AMP's
  NMSE is also given per signal (median and worst), since a few failed signals can dominate the ratio of sums;
- OMP with k = round(p n) atoms, and the genie that knows the support (a lower bound);

and draws the phase transition of noise-free ℓ1 recovery (basis pursuit, a linear program) over
δ = m/n and ρ = k/m with the theoretical curve ρ*(δ) of Donoho and Tanner.

Settings: S1 (n 500, m 250, p 0.1, A ~ N(0, 1/m), SNR 40 dB; the TISTA paper) and S2 (n 300, m 150,
p 0.1, A ~ N(0, 1), noise std 0.05; the course notebook): ``dlsm run sparse setting=S2``. n, m, p,
snr_db / noise_std override the setting's values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from dlsm import outcome
from dlsm.algorithms.sparse import (
    amp,
    column_scale,
    fista,
    genie_estimate,
    ista,
    l1_phase_transition,
    omp,
    se_fixed_point_nmse_db,
    state_evolution,
    tuned_soft_alpha,
)
from dlsm.algorithms.vamp import SVD, vamp
from dlsm.algorithms.vamp_se import vamp_se_nmse_db
from dlsm.config import LabConfig, param
from dlsm.errors import ConfigError
from dlsm.i18n import t
from dlsm.labs import Lab
from dlsm.labs._sparse_sweeps import (
    PhaseGrid,
    empirical_boundary,
    group_nmse_db,
    lasso_sweep,
    phase_transition,
    signal_nmse_db,
)
from dlsm.memory import guard
from dlsm.metrics import nmse_db
from dlsm.outcome import Notes, metric
from dlsm.problems.sparse import SETTINGS, MatrixKind, SparseProblem, SparseSetting
from dlsm.result import Curve, ProgressFn, no_progress, table_from_columns
from dlsm.seeds import generator
from dlsm.status import Status

__all__ = ["LAB", "Config", "Outcome", "PhaseGrid", "SignalSpread", "bayes_amp_signals", "compute",
           "empirical_boundary", "figures", "group_nmse_db", "lasso_sweep", "notes", "phase_transition", "run",
           "signal_nmse_db"]

#: Iteration counts at which ISTA's best λ is reported as well (when the run has that many iterations).
CHECKPOINTS = (20, 100)
#: The notes show Bayes AMP's per-signal NMSE when the NMSE of the batch lies this many dB above its median.
SPREAD_NOTE_DB = 3.0
#: VAMP's noise variance is at least this fraction of the signal power per measurement E‖Ax‖²/m (an SNR of 90 dB):
#: its LMMSE stage needs σw² > 0, and in float64 it loses accuracy below about 1e-10 of it.
VAMP_NOISE_FLOOR = 1e-9


@dataclass(frozen=True)
class Config(LabConfig):
    """ISTA, FISTA, AMP, OMP and the genie on one compressed-sensing setting, plus the ℓ1 phase transition."""

    setting: Literal["S1", "S2"] = param("S1", "S1: TISTA paper (A ~ N(0,1/m), 40 dB); S2: course notebook "
                                               "(A ~ N(0,1), noise std 0.05)")
    n: int | None = param(None, "signal length (none: the setting's)", ge=1, le=20_000)
    m: int | None = param(None, "number of measurements (none: the setting's; m > n is allowed)", ge=1, le=20_000)
    p: float | None = param(None, "probability that an entry of x is nonzero (none: the setting's)", gt=0, le=1)
    snr_db: float | None = param(None, "SNR E‖Ax‖²/E‖w‖² in dB (none: the setting's)")
    noise_std: float | None = param(None, "noise standard deviation σw instead of an SNR (none: the setting's)",
                                    ge=0)
    matrix: MatrixKind | None = param(None, "entries of A: gauss_1/m, gauss_1, rademacher, cond (none: the "
                                            "setting's)")
    cond: float | None = param(None, "condition number of A when matrix=cond", ge=1)
    batch: int = param(40, "test signals (NMSE is over all of them)", ge=1, le=100_000)
    iters: int = param(1000, "ISTA / FISTA iterations", ge=1, le=1_000_000)
    amp_iters: int = param(20, "AMP iterations", ge=1, le=100_000)
    lam: float | None = param(None, "LASSO penalty λ; none: the best of the grid lam_fracs", ge=0)
    lam_fracs: tuple[float, ...] = param((0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.075, 0.1, 0.2, 0.4),
                                         "λ grid as fractions of λ_max = ‖Aᵀy‖∞ (x̂ = 0 above it)", gt=0,
                                         min_length=1)
    pt_n: int = param(40, "signal length n of the phase-transition trials", ge=4, le=2000)
    pt_grid: int = param(7, "δ and ρ values of the phase-transition grid each (0: skip it)", ge=0, le=50)
    pt_trials: int = param(5, "random problems per phase-transition cell", ge=1, le=1000)

    quick = {"batch": 10, "iters": 200, "lam_fracs": (0.005, 0.02, 0.1, 0.3), "pt_n": 30, "pt_grid": 5,
             "pt_trials": 3}
    full = {"batch": 200, "pt_n": 100, "pt_grid": 12, "pt_trials": 16,
            "lam_fracs": (3e-4, 5e-4, 7.5e-4, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.035, 0.05,
                          0.065, 0.08, 0.1, 0.15, 0.2, 0.4)}

    def check(self) -> None:
        if self.snr_db is not None and self.noise_std is not None:
            raise ConfigError(t("sparse.err.noise_both", snr_db=self.snr_db, noise_std=self.noise_std), key="snr_db")
        guard("sparse", memory_bytes(self), key="n")  # a size this machine cannot hold: refused before any run
        self.sparse_setting()  # validates the combination (e.g. matrix=cond needs cond)

    def sparse_setting(self) -> SparseSetting:
        """The setting with this config's overrides."""
        base = SETTINGS[self.setting]
        noise = {"snr_db": base.snr_db, "noise_std": base.noise_std}
        if self.snr_db is not None:
            noise = {"snr_db": self.snr_db, "noise_std": None}
        elif self.noise_std is not None:
            noise = {"snr_db": None, "noise_std": self.noise_std}
        return SparseSetting(n=self.n or base.n, m=self.m or base.m, p=self.p or base.p, sigma_x=base.sigma_x,
                             matrix=self.matrix or base.matrix, cond=self.cond, **noise)

    def phase_grid(self) -> PhaseGrid:
        return PhaseGrid(n=self.pt_n, grid=self.pt_grid, trials=self.pt_trials)


@dataclass(kw_only=True)
class Outcome(outcome.Outcome):
    """The test NMSE of every method against state evolution and the genie, and the ℓ1 phase transition.

    Metrics after the theory are None when the run was interrupted before reaching them.
    """

    nmse_db: float | None = metric("dB", headline=True, default=None)
    se_fixed_point_db: float = metric("dB", headline=True)
    genie_nmse_db: float | None = metric("dB", headline=True, default=None)
    amp_bg_nmse_db: float | None = metric("dB", headline=True, default=None)
    amp_soft_nmse_db: float | None = metric("dB", headline=True, default=None)
    fista_nmse_db: float | None = metric("dB", headline=True, default=None)
    ista_nmse_db: float | None = metric("dB", headline=True, default=None)
    omp_nmse_db: float | None = metric("dB", headline=True, default=None)
    n: int = metric()
    m: int = metric()
    p: float = metric()
    noise_std: float = metric()
    snr_db: float = metric("dB")
    delta: float = metric()
    rho: float = metric()
    diverged: bool = metric(default=False)
    se_nmse_db: float = metric("dB")
    l1_transition_rho: float = metric()
    ista_best_lam: float | None = metric(default=None)
    fista_best_lam: float | None = metric(default=None)
    lam_max: float | None = metric(default=None)
    amp_soft_alpha: float | None = metric(default=None)
    pt_boundary_mae: float | None = metric(default=None)
    amp_bg_nmse_db_median: float | None = metric("dB", default=None)
    amp_bg_nmse_db_worst: float | None = metric("dB", default=None)
    vamp_nmse_db: float | None = metric("dB", default=None)
    vamp_nmse_db_median: float | None = metric("dB", default=None)
    vamp_nmse_db_worst: float | None = metric("dB", default=None)
    vamp_se_nmse_db: float | None = metric("dB", default=None)

    families = {"ista_nmse_db_t{t}": "dB", "ista_best_lam_t{t}": ""}


def memory_bytes(config: Config) -> float:
    """The largest memory the run holds at once (bytes, an order of magnitude): the float64 matrix A (m, n) with
    a copy and the work of its spectral norm, and for ISTA/FISTA every λ of the grid stacked along the batch,
    about six (k·batch, n + m) iterates."""
    s = config.sparse_setting()
    k = 1 if config.lam is not None else len(config.lam_fracs)
    return 8.0 * (3 * s.m * s.n + 6 * k * config.batch * (s.n + s.m))


def compute(config: Config, progress: ProgressFn | None = None) -> Outcome:
    progress = progress or no_progress
    g = generator(config.seed, "main")
    prob = SparseProblem.create(config.sparse_setting(), g)
    x, y = prob.draw(config.batch, g)  # (batch, n), (batch, m)
    A, n, m, p, sx2 = prob.A, prob.n, prob.m, prob.p, prob.sigma_x**2
    plan = config.phase_grid()
    total = 2 * config.iters + 2 * config.amp_iters + plan.cells
    done = [0]

    def tick(info) -> None:
        done[0] += 1
        progress(done[0], total, info)

    # ---- theory: state evolution (in units of A with unit-norm columns) and the ℓ1 transition
    delta, nv = m / n, prob.noise_var / column_scale(A) ** 2
    se = 10 * np.log10(np.asarray(state_evolution(delta, p, sx2, nv, config.amp_iters)) / (p * sx2))  # (amp_iters,)
    got: dict = {"n": n, "m": m, "p": p, "noise_std": prob.noise_std, "snr_db": prob.snr_db, "delta": delta,
                 "rho": p * n / m, "se_fixed_point_db": se_fixed_point_nmse_db(delta, p, sx2, nv),
                 "se_nmse_db": float(se[-1]), "l1_transition_rho": float(l1_phase_transition(delta))}
    extra: dict = {}
    try:
        # ---- genie, OMP
        got["genie_nmse_db"] = nmse_db(genie_estimate(A, y, x != 0, prob.noise_var, sx2), x)
        got["omp_nmse_db"] = nmse_db(omp(A, y, max(1, round(p * n))), x)
        # ---- LASSO: ISTA and FISTA over the λ grid
        lam_max = float((y @ A).abs().amax(1).median())
        lams = [config.lam] if config.lam is not None else [f * lam_max for f in config.lam_fracs]
        ista_c = lasso_sweep(ista, A, x, y, lams, config.iters, tick)  # (iters, len(lams))
        fista_c = lasso_sweep(fista, A, x, y, lams, config.iters, tick)
        best_i, best_f = int(np.argmin(ista_c[-1])), int(np.argmin(fista_c[-1]))
        got.update(ista_nmse_db=float(ista_c[-1, best_i]), fista_nmse_db=float(fista_c[-1, best_f]),
                   ista_best_lam=lams[best_i], fista_best_lam=lams[best_f], lam_max=lam_max)
        for c in CHECKPOINTS:
            if c <= config.iters:
                extra[f"ista_nmse_db_t{c}"] = float(ista_c[c - 1].min())
                extra[f"ista_best_lam_t{c}"] = lams[int(np.argmin(ista_c[c - 1]))]
        # ---- AMP
        amp_c: dict[str, list[float]] = {"soft": [], "bg": []}
        alpha = tuned_soft_alpha(delta, p, sx2, nv)
        x_amp = {}
        for den in ("soft", "bg"):
            def track(_t, xt, c=amp_c[den]):
                c.append(nmse_db(xt, x))
                tick({"nmse_db": c[-1]})
            x_amp[den] = amp(A, y, config.amp_iters, denoiser=den, p=p, sigma_x2=sx2, noise_var=prob.noise_var,
                             alpha=alpha, track=track)
        got.update(amp_soft_nmse_db=amp_c["soft"][-1], amp_bg_nmse_db=amp_c["bg"][-1], amp_soft_alpha=alpha,
                   nmse_db=amp_c["bg"][-1])
        per_signal = signal_nmse_db(x_amp["bg"], x)  # (batch,): the ratio of sums above hides how these spread
        if np.isfinite(per_signal).any():
            got.update(amp_bg_nmse_db_median=float(np.nanmedian(per_signal)),
                       amp_bg_nmse_db_worst=float(np.nanmax(per_signal)))
        # ---- VAMP (amp_iters iterations, one SVD of A) beside its state evolution over A's singular values
        vamp_c: list[float] = []
        svd = SVD.of(A.double())
        vnv = max(prob.noise_var, VAMP_NOISE_FLOOR * p * sx2 * float((svd.s**2).sum()) / m)  # σw² = 0 is refused
        x_vamp = vamp(A, y, config.amp_iters, p=p, sigma_x2=sx2, noise_var=vnv, svd=svd,
                      track=lambda _t, xt: vamp_c.append(nmse_db(xt, x)))
        vamp_se = np.asarray(vamp_se_nmse_db(svd.s.cpu().numpy() ** 2, n, p, sx2, vnv, config.amp_iters))
        vamp_signal = signal_nmse_db(x_vamp, x)  # (batch,)
        got.update(vamp_nmse_db=vamp_c[-1], vamp_se_nmse_db=float(vamp_se[-1]))
        if np.isfinite(vamp_signal).any():
            got.update(vamp_nmse_db_median=float(np.nanmedian(vamp_signal)),
                       vamp_nmse_db_worst=float(np.nanmax(vamp_signal)))
        got["diverged"] = not all(math.isfinite(v) for v in (*ista_c[-1], *fista_c[-1], *amp_c["bg"]))
        # ---- phase transition
        tables, pt = {}, None
        if plan.grid:
            pt = phase_transition(plan, generator(config.seed, "second"), tick)
            boundary = empirical_boundary(pt["deltas"], pt["rhos"], pt["success"])
            theory = l1_phase_transition(pt["deltas"])
            ok = np.isfinite(boundary)
            got["pt_boundary_mae"] = float(np.mean(np.abs(boundary[ok] - theory[ok]))) if ok.any() else None
            tables["phase_transition"] = table_from_columns({
                "delta": np.repeat(pt["deltas"], len(pt["rhos"])), "rho": np.tile(pt["rhos"], len(pt["deltas"])),
                "success": pt["success"].T.ravel()})
            tables["phase_boundary"] = table_from_columns({
                "delta": pt["deltas"], "rho_empirical": boundary, "rho_theory": theory})
    except KeyboardInterrupt:
        return Outcome(**got, extra=extra, status=Status.INTERRUPTED)

    its, ai = np.arange(1, config.iters + 1), np.arange(1, config.amp_iters + 1)
    iteration = t("sparse.label.iteration_t")
    curves = {"ista_nmse": Curve(its, ista_c[:, best_i], iteration, t("sparse.label.curve_ista")),
              "fista_nmse": Curve(its, fista_c[:, best_f], iteration, t("sparse.label.curve_fista")),
              "amp_bg_nmse": Curve(ai, np.asarray(amp_c["bg"]), iteration, t("sparse.label.curve_amp_bg")),
              "amp_soft_nmse": Curve(ai, np.asarray(amp_c["soft"]), iteration, t("sparse.label.curve_amp_soft")),
              "se_nmse": Curve(ai, se, iteration, t("sparse.label.curve_se")),
              "vamp_nmse": Curve(ai, np.asarray(vamp_c), iteration, t("sparse.label.curve_vamp")),
              "vamp_se_nmse": Curve(ai, vamp_se, iteration, t("sparse.label.curve_vamp_se"))}
    sweep_cols = {"lam": lams, "lam_frac": [v / lam_max for v in lams]}
    for c in sorted({*CHECKPOINTS, config.iters}):
        if c <= config.iters:
            sweep_cols[f"ista_t{c}"] = ista_c[c - 1]
    sweep_cols[f"fista_t{config.iters}"] = fista_c[-1]
    tables["lambda_sweep"] = table_from_columns(sweep_cols)
    tables["methods"] = table_from_columns({
        "method": ["genie (support known)", "SE fixed point (Bayes AMP)", f"Bayes AMP t={config.amp_iters}",
                   f"VAMP t={config.amp_iters}", f"VAMP SE t={config.amp_iters}",
                   f"soft AMP t={config.amp_iters}", f"FISTA t={config.iters}", f"ISTA t={config.iters}",
                   "OMP"],
        "nmse_db": [got[k] for k in ("genie_nmse_db", "se_fixed_point_db", "amp_bg_nmse_db", "vamp_nmse_db",
                                     "vamp_se_nmse_db", "amp_soft_nmse_db",
                                     "fista_nmse_db", "ista_nmse_db", "omp_nmse_db")]})
    return Outcome(**got, extra=extra, tables=tables, curves=curves,
                   data={"lams": np.asarray(lams), "sweep": sweep_cols, "pt": pt, "x0": x[0].numpy(),
                         "amp_bg_x0": x_amp["bg"][0].numpy(), "amp_bg_signal_nmse_db": per_signal, "A": A,
                         "y0": y[:1],
                         "best_fista_lam": lams[best_f]})


@dataclass(frozen=True)
class SignalSpread:
    """Bayes AMP's NMSE [dB] on each test signal (batch,), the NMSE of the batch (a ratio of sums) and the
    state-evolution fixed point it is compared with."""

    per_signal_db: np.ndarray
    nmse_db: float
    se_fixed_point_db: float

    def failed(self, margin_db: float) -> int:
        """How many signals lie more than ``margin_db`` above the state-evolution fixed point."""
        return int(np.sum(self.per_signal_db > self.se_fixed_point_db + margin_db))


def bayes_amp_signals(config: Config) -> SignalSpread:
    """Bayes AMP alone (``amp_iters`` iterations) on the config's problem and test batch, the same as the lab
    draws: cheap at a large n, where the lab's LASSO sweeps and OMP are not."""
    g = generator(config.seed, "main")
    prob = SparseProblem.create(config.sparse_setting(), g)
    x, y = prob.draw(config.batch, g)  # (batch, n), (batch, m)
    sx2 = prob.sigma_x**2
    x_hat = amp(prob.A, y, config.amp_iters, denoiser="bg", p=prob.p, sigma_x2=sx2, noise_var=prob.noise_var)
    fixed_point = se_fixed_point_nmse_db(prob.m / prob.n, prob.p, sx2, prob.noise_var / column_scale(prob.A) ** 2)
    return SignalSpread(signal_nmse_db(x_hat, x), nmse_db(x_hat, x), fixed_point)


def notes(config: Config, out: Outcome) -> Notes:
    """What each method reached against state evolution and the genie (and Bayes AMP per signal when a few
    signals dominate its NMSE); where the setting lies against the ℓ1 phase transition; apart, what the limits
    are, why the LASSO stays above Bayes AMP and why a few signals can dominate."""
    found = Notes()
    if out.status == Status.INTERRUPTED:
        found.measured.append(t("sparse.note.interrupted"))
        return found
    found.measured.append(t("sparse.note.amp", amp=out.amp_bg_nmse_db, T=config.amp_iters, se=out.se_nmse_db,
                            se_fp=out.se_fixed_point_db, genie_db=out.genie_nmse_db))
    if (out.vamp_nmse_db is not None and out.vamp_nmse_db_median is not None
            and abs(out.vamp_nmse_db - out.amp_bg_nmse_db) > SPREAD_NOTE_DB):  # only where VAMP and AMP part
        found.measured.append(t("sparse.note.vamp", vamp=out.vamp_nmse_db, T=config.amp_iters,
                                median=out.vamp_nmse_db_median, worst=out.vamp_nmse_db_worst,
                                se=out.vamp_se_nmse_db))
        found.explanations.append(t("sparse.note.vamp_why"))
    found.measured.append(t("sparse.note.lasso", fista=out.fista_nmse_db, ista=out.ista_nmse_db,
                            iters=config.iters))
    found.explanations.append(t("sparse.note.limits_why"))
    found.explanations.append(t("sparse.note.lasso_why"))
    median, worst = out.amp_bg_nmse_db_median, out.amp_bg_nmse_db_worst
    if median is not None and worst is not None and out.amp_bg_nmse_db > median + SPREAD_NOTE_DB:
        found.measured.append(t("sparse.note.amp_per_signal", amp=out.amp_bg_nmse_db, median=median, worst=worst,
                                batch=config.batch))
        found.explanations.append(t("sparse.note.amp_per_signal_why"))
    if out.rho > out.l1_transition_rho and out.m < out.n:
        found.measured.append(t("sparse.note.above_transition", rho=out.rho, delta=out.delta,
                                rho_star=out.l1_transition_rho))
        found.explanations.append(t("sparse.note.above_transition_why"))
    if not config.pt_grid:
        found.measured.append(t("sparse.note.pt_skipped"))
    elif out.pt_boundary_mae is not None:
        found.measured.append(t("sparse.note.pt_boundary", n=config.pt_n, trials=config.pt_trials,
                                mae=out.pt_boundary_mae))
        found.explanations.append(t("sparse.note.pt_boundary_why"))
    return found


def figures(config: Config, out: Outcome) -> dict:
    """NMSE per iteration of every method, NMSE against λ, one recovered signal, the phase transition."""
    from dlsm.plotting.sparse import plot_lambda_sweep, plot_nmse_iterations, plot_phase_transition, plot_signal

    if out.status == Status.INTERRUPTED:
        return {}
    d = out.data
    name = t("sparse.title.nmse", setting=config.setting, n=out.n, m=out.m, p=out.p, snr=out.snr_db)
    drawn = {
        "nmse": plot_nmse_iterations(
            {t("sparse.legend.ista"): out.curves["ista_nmse"].y, t("sparse.legend.fista"): out.curves["fista_nmse"].y,
             t("sparse.legend.amp_soft"): out.curves["amp_soft_nmse"].y,
             t("sparse.legend.amp_bg"): out.curves["amp_bg_nmse"].y,
             t("sparse.legend.vamp"): out.curves["vamp_nmse"].y},
            out.curves["se_nmse"].y, out.se_fixed_point_db, out.genie_nmse_db, name),
        "lambda_sweep": plot_lambda_sweep(d["lams"], _sweep_legends(d["sweep"])),
        "signal": plot_signal(d["x0"], {
            t("sparse.legend.amp_bg"): d["amp_bg_x0"],
            t("sparse.legend.fista"): fista(d["A"], d["y0"], d["best_fista_lam"], config.iters)[0].numpy()}),
    }
    pt = d["pt"]
    if pt is not None:
        cd = np.linspace(0.02, 0.98, 60)
        drawn["phase_transition"] = plot_phase_transition(
            pt["deltas"], pt["rhos"], pt["success"], cd, l1_phase_transition(cd),
            point=(out.delta, out.rho) if out.m <= out.n and out.rho <= 1 else None)
    return drawn


def _sweep_legends(sweep: dict) -> dict[str, np.ndarray]:
    """The λ-sweep columns ``ista_t20``, ``fista_t1000``, ... keyed by their legends ("ISTA, t = 20")."""
    out = {}
    for key, values in sweep.items():
        method, _, iters = key.partition("_t")
        if method in ("ista", "fista"):
            out[t("sparse.legend.sweep", method=t(f"sparse.legend.{method}"), t=iters)] = values
    return out


LAB = Lab(
    name="sparse",
    lecture=5,
    description="compressed sensing: ISTA, FISTA, AMP with state evolution, OMP, genie bound, ℓ1 phase transition",
    config=Config,
    compute=compute,
    notes=notes,
    figures=figures,
    outcome=Outcome,
)
run = LAB.run
