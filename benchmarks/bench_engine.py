"""The training engine and the sweep executors: what the engine costs over a bare PyTorch loop, and what a
process pool gains for a sweep."""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from _common import BenchSection
from dlsm import sweeps
from dlsm.labs import get_lab
from dlsm.models.classifiers import CNN
from dlsm.result import Table
from dlsm.training import EpochBatches, RunSession, Trainer, make_optimizer

N_IMAGES, BATCH = 1024, 64


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(N_IMAGES, 1, 28, 28, generator=g), torch.randint(0, 10, (N_IMAGES,), generator=g)


def _bare(X: torch.Tensor, y: torch.Tensor, steps: int) -> tuple[float, list[float]]:
    """The loop one writes by hand: shuffle each epoch, forward, backward, Adam step, log the loss."""
    model = CNN((1, 28, 28), 10, generator=torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(2)
    per_epoch = N_IMAGES // BATCH
    losses = []
    t0 = time.perf_counter()
    order = torch.arange(N_IMAGES)
    for k in range(steps):
        epoch, b = divmod(k, per_epoch)
        if b == 0:
            order = torch.randperm(N_IMAGES, generator=g)
        idx = order[b * BATCH:(b + 1) * BATCH]
        model.train()
        loss = F.nll_loss(model(X[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return time.perf_counter() - t0, losses


def _engine(X: torch.Tensor, y: torch.Tensor, steps: int, session_dir: Path | None = None) -> tuple[float, list[float]]:
    """The same training through the Trainer (inside a RunSession that checkpoints 4 times, if a folder is given)."""
    model = CNN((1, 28, 28), 10, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    if session_dir is not None:
        session_dir.mkdir(parents=True, exist_ok=True)
    session = RunSession(session_dir, lab="bench", checkpoint_every=max(steps // 4, 1), checkpoint_seconds=None)
    with session if session_dir is not None else contextlib.nullcontext():
        trainer = Trainer(model, lambda m, idx: F.nll_loss(m(X[idx]), y[idx]), EpochBatches(N_IMAGES, BATCH, g),
                          make_optimizer("adam", model.parameters(), 1e-3), steps, generators={"data": g})
        t0 = time.perf_counter()
        log = trainer.run()
        seconds = time.perf_counter() - t0
    return seconds, log.losses


def engine_overhead(quick: bool) -> BenchSection:
    steps, repeats = (4, 1) if quick else (60, 5)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # restored below: the benchmarks after this one run at torch's own setting
    X, y = _data()
    times: dict[str, list[float]] = {"bare": [], "engine": [], "session": []}
    same = True
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(repeats):  # interleaved, so that a load change hits every variant alike
                t_bare, bare = _bare(X, y, steps)
                t_eng, eng = _engine(X, y, steps)
                t_ses, ses = _engine(X, y, steps, Path(tmp) / f"s{r}")
                times["bare"].append(t_bare)
                times["engine"].append(t_eng)
                times["session"].append(t_ses)
                same = same and bare == eng == ses
    finally:
        torch.set_num_threads(threads)
    bare = statistics.median(times["bare"])
    rows = []
    for label, key, target in (("bare PyTorch loop", "bare", None),
                               ("Trainer", "engine", 5.0),
                               ("Trainer in a run session, 4 checkpoints", "session", None)):
        t = statistics.median(times[key])
        over = 100 * (t / bare - 1)
        met = "" if target is None else ("yes" if over <= target else "no")
        rows.append([label, round(1000 * t / steps, 2), "" if key == "bare" else round(over, 1),
                     "" if target is None else f"<= {target:g} %", met, round(sum(times[key]), 2)])
    return BenchSection(
        f"engine: overhead over a bare PyTorch loop (classify CNN, {steps} Adam steps of {BATCH} images)",
        Table(["loop", "ms per step (median)", "overhead %", "target", "met", "time_s"], rows),
        [f"The course CNN (1.2 M parameters) on {N_IMAGES} random 28×28 images, one torch thread; the same model, "
         f"data, batches and seeds in both loops; median of {repeats} interleaved repeats.",
         f"Both loops log the loss at every step. Identical losses in all three: {'yes' if same else 'no'}."])


def sweep_speedup(quick: bool) -> BenchSection:
    n_runs, steps = (2, 20) if quick else (8, 6000)
    lab = get_lab("gates")
    base = {"gate": "xor", "steps": steps}
    rows, numbers = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in (1, 2):
            t0 = time.perf_counter()
            out = sweeps.sweep_grid(lab, base, {}, Path(tmp) / f"jobs{jobs}", "course", seeds=n_runs, jobs=jobs)
            seconds = time.perf_counter() - t0
            numbers[jobs] = [json.loads((r.path / "metrics.json").read_text())["metrics"] for r in out.runs]
            rows.append([jobs, n_runs, round(seconds, 2)])
    speedup = rows[0][2] / rows[1][2]
    same = numbers[1] == numbers[2]
    rows[1] += [round(speedup, 2), ">= 1.6", "yes" if speedup >= 1.6 and same else "no"]
    rows[0] += ["1", "", ""]
    return BenchSection(
        f"sweeps: {n_runs} runs with --jobs 2 against --jobs 1",
        Table(["jobs", "runs", "time_s", "speed-up", "target", "met"], rows),
        [f"gates (XOR, {steps} steps) with seeds 0..{n_runs - 1}, one torch thread per run in both; --jobs 2 is a "
         "local process pool (forkserver), its time includes starting the workers.",
         f"Identical metrics in every run: {'yes' if same else 'no'}. The speed-up can reach 2 only on 2 idle cores."])


def _seconds(argv: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cli_startup(quick: bool) -> BenchSection:
    """`dlsm --help`, `list`, `show` answer from the cached lab index without importing torch."""
    repeats = 2 if quick else 7
    dlsm = [sys.executable, "-m", "dlsm"]
    subprocess.run([*dlsm, "list"], check=True, capture_output=True)  # builds the index if the sources changed
    base = _seconds([sys.executable, "-c", "pass"], repeats)
    rows = [["python -c pass", round(base, 3), "", "", ""]]
    for args in (["--help"], ["list"], ["show", "gd2d"]):
        t = _seconds([*dlsm, *args], repeats)
        rows.append([f"dlsm {' '.join(args)}", round(t, 3), round(t - base, 3), "<= 0.5", "yes" if t <= 0.5 else "no"])
    cold = _seconds([sys.executable, "-c", "import dlsm.labs; dlsm.labs.registry()"], 1 if quick else 3)
    rows.append(["importing every lab (what list did before the index)", round(cold, 3), round(cold - base, 3), "", ""])
    return BenchSection(
        "CLI start-up: seconds before the answer",
        Table(["command", "time_s (median)", "over python -c pass", "target", "met"], rows),
        [f"Wall-clock of a fresh process, median of {repeats}; the index of the labs is cached in the dlsm cache "
         "folder and rebuilt when a source file of the package changes."])


def run(quick: bool = False) -> list[BenchSection]:
    return [engine_overhead(quick), sweep_speedup(quick), cli_startup(quick)]


if __name__ == "__main__":
    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.table.to_markdown()}\n")
        print("\n".join(f"- {n}" for n in section.notes) + "\n")
