"""The one training loop: logging, Ctrl-C, divergence."""

from __future__ import annotations

import math

from dlsm.training import fit


def test_logs_every_k_and_last_step():
    log = fit(lambda k: {"loss": 1.0 / (k + 1)}, 10, log_every=4)
    assert log.steps == [0, 4, 8, 9]
    assert log.losses == [1.0, 0.2, 1 / 9, 0.1]
    assert log.status == "completed" and log.steps_done == 10


def test_keyboard_interrupt_in_step_keeps_what_was_done():
    def step(k):
        if k == 5:
            raise KeyboardInterrupt
        return {"loss": 1.0}

    log = fit(step, 100)
    assert log.status == "interrupted" and log.steps_done == 5 and len(log.losses) == 5


def test_non_finite_or_exploding_loss_is_divergence():
    log = fit(lambda k: {"loss": math.inf if k == 3 else 1.0}, 10)
    assert log.status == "diverged" and log.steps_done == 4 and "diverged" in log.message
    log = fit(lambda k: {"loss": 10.0**k}, 20)
    assert log.status == "diverged" and log.steps_done == 10  # 1e9 > 1e8 × the first loss 1
    assert fit(lambda k: {"loss": 10.0**k}, 20, blowup=None).status == "completed"


def test_continuing_a_log():
    log = fit(lambda k: {"loss": 1.0}, 3)
    log = fit(lambda k: {"loss": 0.5}, 2, start=3, log=log)
    assert log.steps == [0, 1, 2, 3, 4] and log.steps_done == 5
