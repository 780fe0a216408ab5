"""The mimo lab's detectors behind one call, their Monte-Carlo SERs (at the operating point and over the SNR
grid), and the tables of those SERs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from dlsm.algorithms.detectors import EP, LMMSE, ML, ZF, KBest, SymbolMAP
from dlsm.i18n import t
from dlsm.labs._mimo_training import EVAL_BATCH
from dlsm.models.detectors import TPG, EPNet, NeuralDetector, TPGSearch
from dlsm.problems.mimo import Constellation, DetectFn, MimoChannel, SerEstimate, monte_carlo_ser, noise_var_from_snr
from dlsm.result import ProgressFn, Table, table_from_columns

if TYPE_CHECKING:  # (the lab module imports this one)
    from dlsm.labs.mimo import Config

#: Every detector the lab knows, in the order of its tables.
DETECTORS = ("zf", "lmmse", "kbest", "ep", "ml", "map", "nn", "tpg", "tpgsearch", "epnet")
#: Their names in English (benchmark tables); figures use :func:`detector_labels`, in the current language.
LABELS = {"zf": "ZF", "lmmse": "LMMSE", "kbest": "K-best", "ep": "EP", "ml": "ML", "map": "symbol MAP",
          "nn": "NN (course)", "tpg": "TPG", "tpgsearch": "TPG + local search",
          "epnet": "EP-Net (learned damping)"}
#: The ratio metrics: name -> (numerator, divisor) detectors.
RATIOS = {"nn_over_ml": ("nn", "ml"), "tpg_over_ml": ("tpg", "ml"), "tpgsearch_over_ml": ("tpgsearch", "ml"),
          "lmmse_over_tpg": ("lmmse", "tpg"), "epnet_over_ml": ("epnet", "ml"), "epnet_over_ep": ("epnet", "ep"),
          "epnet_over_tpg": ("epnet", "tpg")}


def detector_labels() -> dict[str, str]:
    """Each detector's name for a legend or an axis label, in the current language."""
    return {"zf": t("mimo.legend.zf"), "lmmse": t("mimo.legend.lmmse"), "kbest": t("mimo.legend.kbest"),
            "ep": t("mimo.legend.ep"), "ml": t("mimo.legend.ml"), "map": t("mimo.legend.map"),
            "nn": t("mimo.legend.nn"), "tpg": t("mimo.legend.tpg"), "tpgsearch": t("mimo.legend.tpgsearch"),
            "epnet": t("mimo.legend.epnet")}


def detector_fns(config: Config, const: Constellation, net: NeuralDetector | None,
                 tpg: TPG | None, epnet: EPNet | None = None) -> dict[str, DetectFn]:
    """``detect(y, H, noise_var) -> x̂`` of every listed detector that can run (a learned one only once trained)."""
    classical = {"zf": ZF(const), "lmmse": LMMSE(const), "kbest": KBest(const, config.kbest_k),
                 "ep": EP(const, config.ep_iterations), "ml": ML(const), "map": SymbolMAP(const)}
    detect: dict[str, DetectFn] = {}
    for name in config.detectors:
        if name in classical:
            detect[name] = lambda y, H, v, d=classical[name]: d(y, H, v).x_hat
        elif name == "nn":
            if net is not None:
                net.eval()
                detect[name] = lambda y, H, v: net.detect(y, H, v).x_hat
        elif name == "epnet":
            if epnet is not None:
                detect[name] = lambda y, H, v: epnet.detect(y, H, v).x_hat
        elif name in ("tpg", "tpgsearch"):
            if tpg is None:
                continue
            if name == "tpg":
                detect[name] = lambda y, H, v: tpg.detect(y, H, v).x_hat
            else:
                search = TPGSearch(tpg, config.search_flips)
                detect[name] = lambda y, H, v, s=search: s.detect(y, H, v).x_hat
        else:
            raise ValueError(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}")
    return detect


def count_sers(config: Config, detect: Mapping[str, DetectFn], channel: MimoChannel, noise_var: float,
               energy: float, progress: ProgressFn | None, done: int,
               total: int) -> tuple[dict[str, SerEstimate], list[dict[str, SerEstimate]]]:
    """The SER estimates at the operating ``noise_var``, then at each SNR of ``config.snr_grid`` (all on
    ``channel``'s draws, in that order); ``done`` of ``total`` progress steps were counted before."""

    def estimate(v: float) -> dict[str, SerEstimate]:
        return monte_carlo_ser(detect, channel, target_errors=config.target_errors, max_symbols=config.max_symbols,
                               batch=EVAL_BATCH, noise_var=v)

    at_op = estimate(noise_var)
    done += 1
    if progress is not None:
        progress(done, total, {"ser_" + k: v.ser for k, v in at_op.items()})
    grid = []
    for snr in config.snr_grid:
        grid.append(estimate(noise_var_from_snr(snr, config.n, energy)))
        done += 1
        if progress is not None:
            progress(done, total, {"snr_db": snr})
    return at_op, grid


def ser_tables(config: Config, names: list[str], at_op: Mapping[str, SerEstimate],
               grid: list[dict[str, SerEstimate]]) -> dict[str, Table]:
    """``ser`` (the operating point) and ``ser_vs_snr`` (the grid): SER, 95 % interval, errors and symbols."""
    tables = {}
    if at_op:
        tables["ser"] = table_from_columns({
            "detector": names, "ser": [at_op[d].ser for d in names], "ci_low": [at_op[d].low for d in names],
            "ci_high": [at_op[d].high for d in names], "errors": [at_op[d].errors for d in names],
            "symbols": [at_op[d].symbols for d in names]})
    if grid:
        rows = [(snr, d, e[d].ser, e[d].low, e[d].high, e[d].errors, e[d].symbols)
                for snr, e in zip(config.snr_grid, grid, strict=True) for d in names]
        tables["ser_vs_snr"] = table_from_columns(dict(zip(
            ("snr_db", "detector", "ser", "ci_low", "ci_high", "errors", "symbols"), zip(*rows, strict=True),
            strict=True)))
    return tables
