"""Lecture 6: DU-ISTA on S2 trained long: all layers at once, cosine learning rate (the -25 dB target)."""

from __future__ import annotations

from _common import BenchSection, timed
from dlsm.labs import unfold
from dlsm.result import Table


def run(quick: bool = False) -> list[BenchSection]:
    size = "quick" if quick else "full"
    config = unfold.Config.make(size, incremental=False, steps_per_generation=20 if quick else 1000,
                                batch_size=32 if quick else 256, lr_schedule="cosine", lista=False,
                                lista_tied=False, tista=False, device="cpu")
    res, sec = timed(lambda: unfold.run(config))
    m = res.metrics
    du, std = m["du_ista_nmse_db"], m.get("du_ista_nmse_db_std")
    params = res.tables["params_du_ista"]
    rows = [["DU-ISTA, all layers at once, cosine learning rate", round(du, 2),
             "None" if std is None else round(std, 2), "<= -25", "yes" if du <= -25 else "no", round(sec, 1)],
            ["  its layers monotone", float(m["du_ista_monotone"]), "", "1 (yes)",
             "yes" if m["du_ista_monotone"] else "no", round(sec, 1)]]
    for key, label in (("ista", "ISTA (best λ), same test signals"), ("fista", "FISTA (best λ)"),
                       ("amp", "AMP (MMSE denoiser)")):
        rows.append([label, round(m[f"{key}_nmse_db"], 2),
                     "None" if m.get(f"{key}_nmse_db_std") is None else round(m[f"{key}_nmse_db_std"], 2),
                     "-", "n/a", ""])
    steps = config.T * config.steps_per_generation
    notes = [f"`dlsm run unfold --{size} incremental=false steps_per_generation={config.steps_per_generation} "
             f"batch_size={config.batch_size} lr_schedule=cosine lista=false lista_tied=false tista=false`: "
             f"S2 (n = 300, m = 150, A ~ N(0, 1), σ = 0.05), T = {config.T}, {config.n_matrices} draws of A, "
             f"{config.n_test} test signals per draw; NMSE at layer T, mean and std over the draws.",
             f"Training: {steps} Adam steps on all {config.T} layers at once, lr {config.lr} decayed to 0 by a "
             f"cosine, batch {config.batch_size}, loss du_loss={config.du_loss}, steps uncapped "
             f"(du_beta_max={config.du_beta_max}); fresh signals every step. time_s = the whole run, all draws, "
             "one torch thread.",
             f"Learned last layer on the first A: β_T·L = {float(params.column('β_t·L')[-1]):.1f}, "
             f"λ_T = {float(params.column('λ_t')[-1]):.3f}."]
    return [BenchSection(f"unfold S2: DU-ISTA trained long ({size} size)",
                         Table(["method", "NMSE at T (dB, mean)", "std over A (dB)", "target", "met", "time_s"],
                               rows), notes)]


if __name__ == "__main__":
    import sys

    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.table.to_markdown()}\n")
        print("\n".join(f"- {n}" for n in section.notes) + "\n")
