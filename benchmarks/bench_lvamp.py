"""Lecture 6, issue 25 item 4: learned VAMP (LVAMP) beside VAMP, its state evolution, TISTA and LAMP at T = 12,
on S1 (n=500, m=250, A~N(0,1/m), SNR 40 dB) and on S1 with the LAMP paper's condition-number-15 matrix."""

from __future__ import annotations

from _common import BenchSection, timed
from dlsm.labs import unfold
from dlsm.result import Table

T = 12
#: what each method is held to on S1 at T = 12 (None: a reference row); LVAMP: within 0.3 dB of VAMP's SE (−45.6)
TARGETS_S1 = {"lvamp": -45.3, "se_gap": 0.3}


def _row(label: str, value: float | None, target: float | None, seconds: float) -> list:
    met = "n/a" if target is None or value is None else ("yes" if value <= target else "no")
    return [label, "None" if value is None else round(float(value), 3),
            "-" if target is None else f"<= {target}", met, round(seconds, 1)]


def _pm(m: dict, key: str) -> str:
    std = m.get(f"{key}_std")
    return f"{m[key]:.2f}" + (f" ± {std:.2f}" if std is not None else "")


def section(title: str, config: unfold.Config, targets: dict[str, float]) -> BenchSection:
    """One run of the lab (VAMP and AMP as references, TISTA, LAMP, LVAMP trained on each A) as a table."""
    res, sec = timed(lambda: unfold.run(config, figures=False))
    m = res.metrics
    rows = [_row(f"{label} at T = {config.T} [dB]", m.get(f"{key}_nmse_db"), targets.get(key), sec)
            for key, label in (("amp", "AMP (MMSE)"), ("vamp", "VAMP (MMSE, not learned)"), ("tista", "TISTA"),
                               ("lamp", "LAMP (learned AMP)"), ("lvamp", "LVAMP (learned VAMP)"))]
    rows.append(_row(f"VAMP state evolution at T = {config.T} [dB]", m["vamp_se_nmse_db"], None, sec))
    gap = m["lvamp_nmse_db"] - m["vamp_se_nmse_db"]
    rows.append(_row("LVAMP − VAMP SE [dB]", gap, targets.get("se_gap"), sec))
    gap_vamp = m["lvamp_nmse_db"] - m["vamp_nmse_db"]
    rows.append(_row("LVAMP − VAMP [dB] (learning gains)", gap_vamp, None, sec))
    notes = [f"Mean ± std over {config.n_matrices} draws of A: " + ", ".join(
        f"{k} {_pm(m, f'{k}_nmse_db')}" for k in ("amp", "vamp", "tista", "lamp", "lvamp"))
        + f" dB; VAMP SE {m['vamp_se_nmse_db']:.2f} dB, AMP SE {m['se_nmse_db']:.2f} dB, genie "
        f"{m['genie_nmse_db']:.2f} dB.",
        f"Each learned method trained incrementally ({config.steps_per_generation} Adam steps per generation, "
        f"batch {config.batch_size}, lr {config.lr}) on each A, tested on {config.n_test} signals per A; "
        "time_s = the whole run (three networks and the references)."]
    return BenchSection(title, Table(["method", "NMSE (mean)", "target", "met", "time_s"], rows), notes)


def configs(quick: bool = False, n_matrices: int | None = None, **overrides) -> dict[str, unfold.Config]:
    """The two runs: S1 as it is, and S1 with the condition-number-15 matrix (the LAMP paper's)."""
    size = "quick" if quick else "course"
    base = {"setting": "S1", "T": 4 if quick else T, "n_matrices": n_matrices or (1 if quick else 3),
            "du_ista": False, "lista": False, "lista_tied": False, "tista": True, "lamp": True, "lvamp": True,
            "device": "cpu", **overrides}
    if quick:
        base.update(m=60, n=120)
    return {"iid": unfold.Config.make(size, **base),
            "cond": unfold.Config.make(size, **base, matrix="cond", cond=15.0)}


def run(quick: bool = False, n_matrices: int | None = None, **overrides) -> list[BenchSection]:
    cfg = configs(quick, n_matrices, **overrides)
    s = cfg["iid"].sparse_setting()
    return [section(f"lvamp S1 (n={s.n}, m={s.m}, A~N(0,1/m), SNR 40 dB), T = {cfg['iid'].T}", cfg["iid"],
                    TARGETS_S1 if not quick else {}),
            section(f"lvamp S1 with condition number 15 (n={s.n}, m={s.m}, Haar U, V, SNR 40 dB), "
                    f"T = {cfg['cond'].T}", cfg["cond"], {})]


if __name__ == "__main__":
    import sys

    args = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)  # e.g. n_matrices=1 steps_per_generation=50
    kw = {k: int(v) for k, v in args.items()}
    for sec in run(quick="--quick" in sys.argv, **kw):
        print(f"## {sec.title}\n\n{sec.table.to_markdown()}\n")
        print("\n".join(f"- {n}" for n in sec.notes) + "\n")
