"""Ctrl-C inside a run stops the whole run at a step boundary, checkpoints the step reached, and a resume from
there ends at bitwise the numbers of an uninterrupted run (the oracle), for every lab that trains.

The interrupt is a KeyboardInterrupt raised from the progress callback at its N-th call, where the runner's
Ctrl-C handler raises it too (see ``dlsm.runner._SigintGuard``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlsm import runner
from dlsm.cli import parse_grid
from dlsm.labs import get_lab
from dlsm.status import Status

# (lab, tiny settings, progress calls at which Ctrl-C comes): one call is one optimizer step
CASES = [
    ("gates", ["steps=30", "seeds=2"], (7, 41)),  # two trainers: seed0, seed1
    ("unfold", ["T=2", "steps_per_generation=4", "n_test=50"], (3, 13)),  # four networks, two generations each
    ("mimo", ["steps=20", "tpg_steps=6", "tpg_layers=2", "detectors=zf,nn,tpg", "max_symbols=1000"], (24,)),
    ("tgd", ["T=2", "steps_per_generation=6", "rq_T=2", "rq_steps_per_generation=4", "n_test=100"], (15,)),
    ("vae", ["epochs=1", "n_train=200", "n_test=100", "batch_size=25", "quality=false"], (3,)),
    ("regression", ["epochs=12", "n_train=20", "n_test=20"], (5,)),
    ("classify", ["n_train=200", "n_test=100", "epochs=1", "width=16", "batch_size=25"], (3,)),
    ("diffusion", ["epochs=2", "n_train=160", "n_eval=100", "n_samples=100", "batch_size=32"], (4,)),
]


def _forget_trained(name: str) -> None:
    """The diffusion lab keeps trained networks per process (``_TRAINED``): forget them, so each run trains."""
    if name == "diffusion":
        from dlsm.labs import diffusion

        diffusion._TRAINED.clear()


def _config(lab, settings):
    fixed, _grid = parse_grid(lab.config, settings)
    return lab.config.make("quick", **fixed)


def _numbers(run_dir: Path) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    return {k: v for k, v in metrics.items() if not k.endswith("_seconds")}  # wall-clock times differ


class _CtrlCAt:
    """A progress callback that raises KeyboardInterrupt at its ``at``-th call and counts the calls after."""

    def __init__(self, at: int) -> None:
        self.at, self.calls, self.after = at, 0, 0

    def __call__(self, done, total, info) -> None:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        if self.calls > self.at:
            self.after += 1


@pytest.mark.parametrize(("name", "settings", "points"), CASES, ids=[c[0] for c in CASES])
def test_ctrl_c_stops_the_run_and_resume_is_bitwise(name, settings, points, tmp_path):
    lab = get_lab(name)
    config = _config(lab, settings)
    full = tmp_path / "full"
    full.mkdir()
    _forget_trained(name)
    assert runner.execute(lab, config, full, "quick", figures=False).status == Status.COMPLETED
    expected = _numbers(full)
    for at in points:
        run_dir = tmp_path / f"stopped-{at}"
        run_dir.mkdir()
        ctrl_c = _CtrlCAt(at)
        _forget_trained(name)
        outcome = runner.execute(lab, config, run_dir, "quick", ctrl_c, figures=False)
        assert outcome.status == Status.INTERRUPTED
        assert ctrl_c.after == 0, "a trainer went on after Ctrl-C"  # the whole run stopped
        assert (run_dir / "checkpoint.pt").is_file()  # also before the first periodic checkpoint
        assert json.loads((run_dir / "metrics.json").read_text())["status"] == "interrupted"
        resumed = runner.resume_run(lab, run_dir)
        assert resumed.status == Status.COMPLETED
        assert not (run_dir / "checkpoint.pt").exists()  # finished: the training state goes
        assert _numbers(run_dir) == expected, f"Ctrl-C at progress call {at}"


def test_ctrl_c_twice_then_resume_is_bitwise(tmp_path):
    lab = get_lab("unfold")
    config = _config(lab, ["T=2", "steps_per_generation=4", "n_test=50"])
    full, run_dir = tmp_path / "full", tmp_path / "run"
    full.mkdir()
    run_dir.mkdir()
    runner.execute(lab, config, full, "quick", figures=False)
    runner.execute(lab, config, run_dir, "quick", _CtrlCAt(5), figures=False)
    assert runner.resume_run(lab, run_dir, _CtrlCAt(9)).status == Status.INTERRUPTED
    assert runner.resume_run(lab, run_dir).status == Status.COMPLETED
    assert _numbers(run_dir) == _numbers(full)


def _session_fit(run_dir, ctrl_c=None, resume=None):
    """Two trainers in a row in a run session (no periodic checkpoints), logging every 3rd step."""
    import torch
    import torch.nn.functional as F

    from dlsm.training import EpochBatches, RunSession, Trainer, make_optimizer

    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(40, 3, generator=g), torch.randn(40, 1, generator=g)
    logs = []
    with RunSession(run_dir, lab="t", resume=resume, checkpoint_seconds=None):
        for name in ("first", "second"):
            net = torch.nn.Linear(3, 1)
            for p in net.parameters():  # a fixed start (not the global RNG)
                torch.nn.init.zeros_(p)
            tr = Trainer(net, lambda m, idx: F.mse_loss(m(X[idx]), y[idx]), EpochBatches(40, 8, g),
                         make_optimizer("adam", net.parameters(), 0.05), 10, name=name, generators={"data": g},
                         log_every=3, progress=ctrl_c)
            logs.append(tr.run())
    return logs


def test_ctrl_c_in_a_session_checkpoints_the_step_reached_and_later_trainers_do_not_start(tmp_path):
    from dlsm.training import RunInterrupted, load_training_checkpoint

    full = _session_fit(None)
    ctrl_c = _CtrlCAt(4)
    with pytest.raises(RunInterrupted):
        _session_fit(tmp_path, ctrl_c)
    assert ctrl_c.after == 0
    payload = load_training_checkpoint(tmp_path)  # written at Ctrl-C: no periodic checkpoint came before
    assert list(payload["trainers"]) == ["first"] and payload["trainers"]["first"]["log"]["steps_done"] == 4
    resumed = _session_fit(tmp_path, resume=payload)
    for a, b in zip(full, resumed, strict=True):
        assert (a.steps, a.history) == (b.steps, b.history)  # the same steps logged (every 3rd from step 0)


def test_a_finished_run_keeps_no_training_state_and_still_loads_and_refuses_resume(tmp_path, capsys):
    from dlsm.cli import main

    lab = get_lab("unfold")
    settings = ["T=2", "steps_per_generation=4", "n_test=50"]
    run_dir = tmp_path / "trained"
    run_dir.mkdir()
    assert runner.execute(lab, _config(lab, settings), run_dir, "quick", figures=False).status == Status.COMPLETED
    assert not (run_dir / "checkpoint.pt").exists() and (run_dir / "artifacts.pt").is_file()
    total = sum(f.stat().st_size for f in run_dir.rglob("*") if f.is_file())
    assert total - (run_dir / "artifacts.pt").stat().st_size < 100_000  # the trained weights and small files
    # load= reads the trained networks back: the same test NMSE as the run that trained them (the oracle)
    loaded = tmp_path / "loaded"
    loaded.mkdir()
    runner.execute(lab, _config(lab, [*settings, f"load={run_dir}"]), loaded, "quick", figures=False)
    for key in ("du_ista_nmse_db", "lista_nmse_db", "lista_tied_nmse_db", "tista_nmse_db"):
        assert _numbers(loaded)[key] == _numbers(run_dir)[key], key
    # --resume of the finished run still answers that it is finished
    assert main(["run", "unfold", "--resume", str(run_dir)]) in (1, 2)
    assert "nothing to resume, the run is already completed" in capsys.readouterr().err
