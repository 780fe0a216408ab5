"""Lecture 6: deep unfolding — trainable gradient descent, DU-ISTA / LISTA / TISTA on S2, TISTA on S1."""

from __future__ import annotations

from _common import BenchSection, timed
from dlsm.labs import tgd, unfold
from dlsm.result import Table


def _row(label: str, value: float | None, target: str, met: bool | None, seconds: float) -> list:
    return [label, "None" if value is None else round(float(value), 3), target,
            "n/a" if met is None else ("yes" if met else "no"), round(seconds, 1)]


def _pm(m: dict, key: str) -> str:
    std = m.get(f"{key}_std")
    return f"{m[key]:.2f}" + (f" ± {std:.2f}" if std is not None else "")


def run(quick: bool = False) -> list[BenchSection]:
    size = "quick" if quick else "course"
    # ----- TGD --------------------------------------------------------------------------------------------
    res, sec = timed(lambda: tgd.run(tgd.Config.make(size, device="cpu")))
    m = res.metrics
    rows = [_row("course: squared error at T", m["sq_error"], "<= 1e-12", m["sq_error"] <= 1e-12, sec),
            _row("random quadratic: learned - optimal [dB]", m["rq_gap_db"], "<= 0.6 dB", m["rq_gap_db"] <= 0.6, sec)]
    tgd_section = BenchSection(
        f"tgd: trainable gradient descent ({size} size)",
        Table(["measure", "measured", "target", "met", "time_s"], rows),
        [f"Course: f = x1² + 8 x2², T = {tgd.Config.make(size).T}, β_t init 0.01, Adam, exact gradients in float64; "
         f"learned steps {m['beta_sorted']}.",
         f"Random quadratic Q = AᵀA (A 60×40 Gaussian, κ = {m['rq_condition_number']:.3g}): average error ratio "
         f"learned {m['rq_learned_db']:.2f} dB, best constant {m['rq_constant_db']:.2f} dB, Chebyshev "
         f"{m['rq_chebyshev_db']:.2f} dB, optimal schedule {m['rq_optimal_db']:.2f} dB.",
         "time_s = the whole lab run (both parts)."])

    # ----- S2 (course) ------------------------------------------------------------------------------------
    n_mat = 1 if quick else 3
    cfg2 = unfold.Config.make(size, n_matrices=n_mat, device="cpu")
    res2, sec2 = timed(lambda: unfold.run(cfg2))
    m2 = res2.metrics
    rows = [_row(f"{label} at T = {cfg2.T} [dB]", m2[f"{key}_nmse_db"], target,
                 None if target == "-" else m2[f"{key}_nmse_db"] <= float(target.split()[1]), sec2)
            for key, label, target in (("ista", "ISTA (best λ)", "-"), ("fista", "FISTA (best λ)", "-"),
                                       ("amp", "AMP (MMSE)", "-"), ("du_ista", "DU-ISTA", "<= -25"),
                                       ("lista", "LISTA", "-"), ("lista_tied", "LISTA (tied)", "-"),
                                       ("tista", "TISTA", "<= -43"))]
    rows.append(_row("DU-ISTA layers monotone", float(m2["du_ista_monotone"]), "1 (yes)", m2["du_ista_monotone"],
                     sec2))
    # DU-ISTA alone, all T layers trained at once (same total steps, same draws of A)
    cfg2j = cfg2.replace(incremental=False, lista=False, lista_tied=False, tista=False)
    res2j, sec2j = timed(lambda: unfold.run(cfg2j))
    m2j = res2j.metrics
    rows.append(_row(f"DU-ISTA, all layers at once (incremental=false), T = {cfg2.T} [dB]", m2j["du_ista_nmse_db"],
                     "<= -25", m2j["du_ista_nmse_db"] <= -25, sec2j))
    rows.append(_row("  its layers monotone", float(m2j["du_ista_monotone"]), "1 (yes)", m2j["du_ista_monotone"],
                     sec2j))
    s2 = BenchSection(
        f"unfold S2 (course: n=300, m=150, A~N(0,1), σ=0.05), {n_mat} draws of A",
        Table(["method", "NMSE (mean)", "target", "met", "time_s"], rows),
        ["Mean ± std over the draws of A: " + ", ".join(
            f"{k} {_pm(m2, f'{k}_nmse_db')}" for k in ("ista", "du_ista", "lista", "lista_tied", "tista", "amp"))
         + f" dB; SE fixed point {m2['se_fixed_point_nmse_db']:.2f} dB, genie {m2['genie_nmse_db']:.2f} dB.",
         f"Each method trained incrementally ({cfg2.steps_per_generation} Adam steps per generation, batch "
         f"{cfg2.batch_size}) on each A, tested on {cfg2.n_test} signals per A; time_s = the whole run.",
         f"DU-ISTA: du_beta_max={cfg2.du_beta_max} (none: β_t·L = exp(b_t), no cap), du_loss={cfg2.du_loss}. "
         f"All layers at once: {cfg2.T * cfg2.steps_per_generation} Adam steps on the T-th layer's loss, on the "
         f"same draws of A ({_pm(m2j, 'du_ista_nmse_db')} dB); learned last step β_T·L = "
         f"{float(res2j.tables['params_du_ista'].column('β_t·L')[-1]):.1f}, λ_T = "
         f"{float(res2j.tables['params_du_ista'].column('λ_t')[-1]):.3f} on the first A."])

    # ----- S1 (paper) -------------------------------------------------------------------------------------
    T1 = 4 if quick else 20
    cfg1 = unfold.Config.make(size, setting="S1", T=T1, n_matrices=n_mat, du_ista=False, lista=False,
                              lista_tied=False, lamp=True, device="cpu")
    res1, sec1 = timed(lambda: unfold.run(cfg1))
    m1 = res1.metrics
    rows = []
    for t, target in ((8, -40.0), (12, -42.5)):
        key = f"tista_nmse_db_T{t}"
        rows.append(_row(f"TISTA, T = {t} [dB]", m1.get(key), f"<= {target}",
                         None if m1.get(key) is None else m1[key] <= target, sec1))
    rows.append(_row(f"TISTA, T = {T1} [dB]", m1["tista_nmse_db"], "-", None, sec1))
    rows.append(_row(f"LAMP (stretch), T = {T1} [dB]", m1["lamp_nmse_db"], "<= -45.1", m1["lamp_nmse_db"] <= -45.1,
                     sec1))
    rows.append(_row(f"AMP (MMSE), T = {T1} [dB]", m1["amp_nmse_db"], "-", None, sec1))
    gap = m1["lamp_nmse_db"] - m1["amp_nmse_db"]
    rows.append(_row(f"stretch: LAMP - AMP at T = {T1} [dB] (beats AMP)", gap, "< 0", gap < 0, sec1))
    # TISTA alone, one draw of A, T = 12: what a student waits for (the reference code: 52 s here)
    cfg_t = unfold.Config.make(size, setting="S1", T=4 if quick else 12, du_ista=False, lista=False,
                               lista_tied=False, device="cpu")
    res_t, sec_t = timed(lambda: unfold.run(cfg_t))
    rows.append(_row(f"TISTA alone, T = {cfg_t.T}, one A: NMSE [dB]", res_t.metrics["tista_nmse_db"], "<= -42.5",
                     None if quick else res_t.metrics["tista_nmse_db"] <= -42.5, sec_t))
    rows.append(_row(f"TISTA alone, T = {cfg_t.T}, one A: whole run (training + references) [s]", sec_t, "< 52",
                     None if quick else sec_t < 52, sec_t))
    s1 = BenchSection(
        f"unfold S1 (TISTA paper: n=500, m=250, A~N(0,1/m), SNR 40 dB), {n_mat} draws of A",
        Table(["method", "NMSE (mean)", "target", "met", "time_s"], rows),
        [f"TISTA at T = 8 / 12: the network after generation 8 / 12 of the incremental training, on the test set. "
         f"Mean ± std over the A draws at T = {T1}: TISTA {_pm(m1, 'tista_nmse_db')}, LAMP {_pm(m1, 'lamp_nmse_db')}, "
         f"AMP {_pm(m1, 'amp_nmse_db')} dB; SE {m1['se_nmse_db']:.2f} dB, SE fixed point "
         f"{m1['se_fixed_point_nmse_db']:.2f} dB, genie {m1['genie_nmse_db']:.2f} dB.",
         "time_s = the whole run (TISTA and LAMP trained on each A, plus the references); the 'TISTA alone' rows "
         f"are a separate run of TISTA only on the first draw of A ({cfg_t.steps_per_generation} Adam steps per "
         f"generation, batch {cfg_t.batch_size})."])
    return [tgd_section, s2, s1]


if __name__ == "__main__":
    import sys

    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.table.to_markdown()}\n")
        print("\n".join(f"- {n}" for n in section.notes) + "\n")
