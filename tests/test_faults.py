"""Faults while a run writes its folder: a full disk, warnings from the numbers, files that are not weights.

A full disk is simulated by a patched write that raises what the kernel raises (OSError ENOSPC) or what
torch raises for it (RuntimeError "[enforce fail ...] file write failed"); the run must end with exit status
1, no traceback, no ``.part`` file, and a ``metrics.json`` that is valid JSON with a plain message.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from dlsm.cli import main
from dlsm.labs import get_lab, registry

#: What torch 2.x raises when the disk fills up during torch.save (the text the issue found in metrics.json).
TORCH_FULL_DISK = ("[enforce fail at inline_container.cc:778] . PytorchStreamWriter failed writing file "
                   "data/0: file write failed")


def only_dir(path: Path) -> Path:
    (d,) = [p for p in path.iterdir() if p.is_dir()]
    return d


def assert_clean_failure(run_root: Path, code: int, err: str) -> Path:
    assert code == 1, err  # a failure of the run, not of the user
    assert "Traceback" not in err and "enforce fail" not in err
    assert "the disk is full" in err
    run_dir = only_dir(run_root / "quadfit")
    assert not [p.name for p in run_dir.rglob("*.part")]
    return run_dir


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "No space left on device"), RuntimeError(TORCH_FULL_DISK)])
def test_a_full_disk_while_checkpointing_ends_the_run_with_a_plain_record(error, monkeypatch, run_root, capsys):
    real_save = torch.save

    def full_disk_save(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)  # half a file is on the disk when it fills up
        raise error

    monkeypatch.setattr(torch, "save", full_disk_save)
    code = main(["run", "quadfit", "--quick", "--out", str(run_root)])
    run_dir = assert_clean_failure(run_root, code, capsys.readouterr().err)
    assert not (run_dir / "checkpoint.pt").exists()
    record = json.loads((run_dir / "metrics.json").read_text())  # valid JSON
    assert record["status"] == "failed"
    assert record["error"].startswith("the disk is full: ") and "enforce" not in record["error"]


def test_a_full_disk_while_saving_the_finished_run_records_it_as_failed(monkeypatch, run_root, capsys):
    real_write_text = Path.write_text

    def write_text(self, data, *args, **kwargs):
        if self.name == "summary.md":  # the last file of a finished run: metrics.json was already written
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    code = main(["run", "quadfit", "--quick", "--out", str(run_root)])
    run_dir = assert_clean_failure(run_root, code, capsys.readouterr().err)
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "failed"  # not "completed": the run folder is not whole
    assert "the disk is full" in record["error"]


def test_a_disk_full_from_the_start_leaves_no_part_file(monkeypatch, run_root, capsys):
    def write_text(self, data, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_text", write_text)
    code = main(["run", "quadfit", "--quick", "--out", str(run_root)])
    run_dir = assert_clean_failure(run_root, code, capsys.readouterr().err)
    assert not (run_dir / "metrics.json").exists() and not (run_dir / "config.json").exists()


def test_a_failed_json_write_keeps_the_previous_file_whole(monkeypatch, tmp_path):
    from dlsm.errors import WriteFailed
    from dlsm.runs import read_json, write_json

    path = tmp_path / "metrics.json"
    write_json(path, {"status": "running", "metrics": {"steps": 3}})
    real_replace = os.replace

    def replace(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(WriteFailed, match="the disk is full"):
        write_json(path, {"status": "completed", "metrics": {"steps": 10}})
    monkeypatch.setattr(os, "replace", real_replace)
    assert read_json(path) == {"status": "running", "metrics": {"steps": 3}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


# ----- warnings of the numbers ---------------------------------------------------------------------
def test_numpy_and_torch_warnings_become_notes_not_terminal_noise(monkeypatch, run_root, capsys):
    import warnings

    lab = get_lab("gd1d")

    def warning_compute(config, progress=None):
        for _ in range(3):  # the same warnings at every step: one note each
            np.float64(1) / 0
            warnings.warn("x", UserWarning, stacklevel=1)
        return lab.compute(config, progress=progress)

    monkeypatch.setitem(registry(), "gd1d", dataclasses.replace(lab, compute=warning_compute))
    assert main(["run", "gd1d", "--quick", "--out", str(run_root)]) == 0
    captured = capsys.readouterr()
    assert "RuntimeWarning" not in captured.err and "UserWarning" not in captured.err
    assert "divide by zero" not in captured.err
    notes = json.loads((only_dir(run_root / "gd1d") / "metrics.json").read_text())["notes"]
    warned = [n for n in notes if "warning" in n]
    assert len(warned) == 2, notes
    assert any("RuntimeWarning: divide by zero" in n for n in warned)
    assert any("UserWarning: x" in n for n in warned)
    assert "RuntimeWarning: divide by zero" in captured.out  # printed as a note line


# ----- load= and files that are not plain weights ----------------------------------------------------
class _Opaque:
    """A class that a weights-only loader must refuse to build."""


class _Command:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("obj", [{"x": _Opaque()}, {"format": "dlsm-training", "x": _Command()}])
def test_a_pickle_with_python_objects_is_not_loaded_and_said_so(obj, tmp_path):
    from dlsm.checkpoints import load_checkpoint
    from dlsm.errors import InputError
    from dlsm.training import load_training_checkpoint

    file = tmp_path / "checkpoint.pt"
    torch.save(obj, file)
    for load in (load_checkpoint, load_training_checkpoint):
        with pytest.raises(InputError, match="not a plain weights file") as info:
            load(file)
        assert "it was not loaded" in str(info.value) and "truncated" not in str(info.value)
        assert info.value.exit_status == 2


def test_a_truncated_file_is_still_called_truncated(tmp_path):
    from dlsm.errors import DataError
    from dlsm.training import load_training_checkpoint

    file = tmp_path / "checkpoint.pt"
    torch.save({"x": torch.zeros(100)}, file)
    file.write_bytes(file.read_bytes()[:50])
    with pytest.raises(DataError, match="truncated"):
        load_training_checkpoint(file)


def test_load_of_another_labs_run_names_that_lab(run_root, capsys):
    assert main(["run", "gd1d", "--quick", "--out", str(run_root)]) == 0
    other = only_dir(run_root / "gd1d")
    capsys.readouterr()
    assert main(["run", "unfold", f"load={other}", "--quick", "--out", str(run_root)]) == 2
    err = capsys.readouterr().err
    assert "is a run of the gd1d lab" in err and "of the unfold lab" in err and "None" not in err
    assert not (run_root / "unfold").exists()  # refused before a folder is made
    # a sweep checks every point the same way, before its sweep folder is made
    assert main(["run", "unfold", f"load={other}", "T=3,4", "--quick", "--out", str(run_root)]) == 2
    err = capsys.readouterr().err
    assert "is a run of the gd1d lab" in err and not (run_root / "unfold").exists()


def test_a_run_whose_start_message_cannot_be_written_leaves_no_folder(tmp_path):
    from dlsm import runner
    from dlsm.labs import get_lab

    lab = get_lab("gd1d")

    def closed_pipe(folder):
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):
        runner.run_one(lab, lab.config.make("quick"), tmp_path, "quick", on_start=closed_pipe)
    assert not (tmp_path / "gd1d").exists() or not any((tmp_path / "gd1d").iterdir())
