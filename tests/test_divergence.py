"""Divergence is found by the engine for every lab (issue 23): a non-finite, exploding or absurd loss, or a
run of skipped non-finite steps, gives status diverged and metric ``diverged`` True, and a note naming the
setting to change; settings that cannot train get a note; no NumPy/torch warning reaches the terminal.

The oracle for the loop is gradient descent on f(x) = x² (x ← (1 - 2 lr) x): it diverges iff |1 - 2 lr| > 1.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import pytest

from dlsm.labs import get_lab, registry
from dlsm.outcome import Outcome, metric
from dlsm.status import Status
from dlsm.training.loop import CEILING, MAX_SKIPPED, SKIPPED, fit


def _quadratic(lr: float, x0: float = 1.0):
    state = {"x": x0}

    def step(_k: int) -> dict[str, float]:
        loss = state["x"] ** 2
        state["x"] -= lr * 2 * state["x"]
        return {"loss": loss}

    return step


@pytest.mark.parametrize("lr", [0.1, 0.9, 1.1, 5.0])
def test_fit_diverges_iff_gd_on_a_quadratic_does(lr):
    log = fit(_quadratic(lr), 2000)
    assert (log.status == Status.DIVERGED) == (abs(1 - 2 * lr) > 1)


def test_a_loss_absurd_from_the_first_step_is_divergence():
    """tgd beta_init=1e10: the loss never grows relative to its first value, but is absurd from the start."""
    log = fit(lambda k: {"loss": 10 * CEILING}, 50)
    assert log.status == Status.DIVERGED and log.steps_done == 1
    assert fit(lambda k: {"loss": CEILING / 10}, 50).status == Status.COMPLETED


def test_a_run_of_skipped_steps_is_divergence():
    calls = []

    def step(k):
        calls.append(k)
        return {"loss": 1.0} if k < 3 else {SKIPPED: True}

    log = fit(step, 1000)
    assert log.status == Status.DIVERGED
    assert len(calls) == 3 + MAX_SKIPPED and log.skipped == MAX_SKIPPED
    assert math.isnan(log.losses[-1]) and "nan" in log.text()
    # isolated skipped steps are NaN-safe training, not divergence
    sporadic = fit(lambda k: {SKIPPED: True} if k % 3 == 0 else {"loss": 1.0}, 300)
    assert sporadic.status == Status.COMPLETED and sporadic.skipped == 100


def test_skipped_steps_in_a_row_are_counted_across_a_resume():
    def step(k):
        return {"loss": 1.0} if k < 3 else {SKIPPED: True}

    whole = fit(step, 1000)
    part = fit(step, 15)
    assert part.status == Status.COMPLETED
    resumed = fit(step, 985, start=15, log=type(part).from_state(part.to_state()))
    assert resumed.status == whole.status == Status.DIVERGED
    assert resumed.steps_done == whole.steps_done == 3 + MAX_SKIPPED


@dataclasses.dataclass(kw_only=True)
class _Toy(Outcome):
    diverged: bool = metric()


@pytest.mark.parametrize(("status", "flag", "want_status", "want_flag"), [
    (Status.DIVERGED, False, Status.DIVERGED, True),
    (Status.COMPLETED, True, Status.DIVERGED, True),
    (Status.COMPLETED, False, Status.COMPLETED, False),
    (Status.INTERRUPTED, True, Status.INTERRUPTED, True),
])
def test_status_and_metric_agree(status, flag, want_status, want_flag):
    out = _Toy(diverged=flag, status=status)
    assert out.status == want_status and out.metrics["diverged"] is want_flag


def test_every_lab_outcome_with_a_diverged_metric_keeps_the_rule():
    """Conformance: no lab's Outcome overrides the base rule (status diverged iff metric diverged)."""
    checked = 0
    for lab in registry().values():
        if "diverged" not in {s.name for s in lab.outcome.metric_specs()}:
            continue
        assert lab.outcome.__post_init__ is Outcome.__post_init__, lab.name
        out = object.__new__(lab.outcome)
        out.status, out.diverged = Status.DIVERGED, False
        out._agree_on_divergence()
        assert out.diverged is True, lab.name
        checked += 1
    assert checked >= 5


def _run(lab: str, **overrides):
    L = get_lab(lab)
    config = L.config.make("quick", **overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a raw warning would reach the terminal: make it fail the test
        out = L.compute(config)
        notes = L.notes(config, out)
    return out, " ".join(notes.measured)


def test_tgd_beta_init_huge_is_diverged():
    out, notes = _run("tgd", beta_init=1e10, T=2, steps_per_generation=20, n_test=100, random_quadratic=False)
    assert out.status == Status.DIVERGED and out.metrics["diverged"] is True
    assert "beta_init" in notes


@pytest.mark.parametrize("lr", [10.0, 100.0])
def test_vae_large_lr_is_a_diverged_run(lr):
    out, notes = _run("vae", lr=lr, epochs=1, n_train=200, quality=False)
    assert out.status == Status.DIVERGED and out.metrics["diverged"] is True
    assert "lr" in notes


def test_diffusion_large_lr_status_and_metric_agree():
    out, notes = _run("diffusion", lr=1000, n_train=200, epochs=4, n_samples=100, n_eval=100)
    assert out.status == Status.DIVERGED and out.metrics["diverged"] is True
    assert "lr" in notes


def test_diffusion_batch_larger_than_data_is_told():
    out, notes = _run("diffusion", batch_size=10**9, n_train=200, epochs=3, n_samples=100, n_eval=100)
    assert out.steps == 3  # full-batch: one step per epoch
    assert "200" in notes and str(10**9) in notes


def test_mimo_nn_worse_than_chance_is_told():
    out, notes = _run("mimo", lr=10, tpg_lr=10)
    assert out.metrics["ser_nn"] >= 0.5  # BPSK: guessing gives 0.5
    assert "lr" in notes and "0.5" in notes
    assert (out.status == Status.DIVERGED) == (out.metrics["diverged"] is True)


def test_unfold_large_lr_leaks_no_warning():
    out, notes = _run("unfold", lr=1000)
    assert out.status == Status.DIVERGED and out.metrics["diverged"] is True
    assert "lr" in notes
