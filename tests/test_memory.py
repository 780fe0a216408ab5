"""A run that would not fit in half of the available memory is refused before it allocates (exit 2, with the
estimate and what the machine has), and the estimate is an honest order of magnitude."""

from __future__ import annotations

import pytest

from dlsm import memory
from dlsm.cli import main
from dlsm.errors import ConfigError
from dlsm.labs import get_lab


def test_available_memory_is_read_from_the_machine():
    have = memory.available_bytes()
    assert have is None or 2**26 < have < 2**50


def test_a_sparse_run_too_large_for_the_machine_is_refused_at_once(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 * 2**30)  # a machine with 2 GiB free
    # A alone (20,000 × 20,000 float64) is 3.2 GB: refused before it is drawn, no folder left behind
    assert main(["run", "sparse", "n=20000", "m=20000", "--quick", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "GiB" in err and "2.00 GiB" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir()), "a refused run leaves no folder"


def test_the_estimate_covers_the_matrix_and_the_refusal_names_the_numbers(monkeypatch):
    from dlsm.labs.sparse import memory_bytes

    lab = get_lab("sparse")
    config = lab.config.make("quick", n=2000, m=1000)
    assert memory_bytes(config) >= 8 * 2000 * 1000  # at least A in float64
    monkeypatch.setattr(memory, "available_bytes", lambda: int(memory_bytes(config) * 1.5))  # limit: 0.75 × need
    with pytest.raises(ConfigError) as err:
        lab.config.make("quick", n=2000, m=1000)
    assert err.value.key == "n" and memory.gib(memory_bytes(config)) in str(err.value)
    monkeypatch.setattr(memory, "available_bytes", lambda: int(memory_bytes(config) * 2.5))  # fits
    assert lab.run(lab.config.make("quick"), figures=False).metrics["n"] > 0


def test_a_mimo_run_too_large_for_the_machine_is_refused_and_the_estimate_covers_its_batches(monkeypatch):
    from dlsm.labs._mimo_training import EVAL_BATCH
    from dlsm.labs.mimo import memory_bytes

    lab = get_lab("mimo")
    big = dict(n=256, m=256, channel="random", detectors=("lmmse", "ep"))
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**50)  # to build the config whatever this machine has
    config = lab.config.make("quick", **big)
    # at least one Monte-Carlo batch of H (b, m, n) in float32, and EP's n × n matrices per vector
    assert memory_bytes(config) >= 4 * EVAL_BATCH * (256 * 256 + 256 * 256)
    # the exhaustive search adds its 2^n candidates: 20 BPSK antennas need more than 16 antennas
    small = lab.config.make("quick", n=16, m=16, detectors=("ml",))
    assert memory_bytes(lab.config.make("quick", n=20, m=20, detectors=("ml",))) > memory_bytes(small)
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 * 2**30)  # a machine with 2 GiB free
    with pytest.raises(ConfigError) as err:
        lab.config.make("quick", **big)
    assert err.value.key == "n" and memory.gib(memory_bytes(config)) in str(err.value)
    assert memory_bytes(lab.config.make("quick")) < 2**30  # the course size fits easily
