"""Exit statuses of the command line, one table: 2 for every user error, 1 for a failure of the run, 0 else.

A user error is something the person typing can fix in the command (a bad key or value, an unknown lab, a
folder or file that is missing, of another lab, finished, locked, or not a plain weights file, a setting that
would not fit in memory). A failure of the run is something that went wrong while it ran (an exception
inside the lab, a full disk).
"""

from __future__ import annotations

import dataclasses
import errno
from pathlib import Path

import pytest
import torch

from dlsm.cli import main
from dlsm.labs import get_lab, registry


class _Opaque:
    """A class: a pickle of it is not a plain weights file."""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Folders and files the commands are pointed at (made once for the table)."""
    root = tmp_path_factory.mktemp("exit")
    runs = root / "runs"
    assert main(["run", "gd1d", "--quick", "--out", str(runs)]) == 0
    (done,) = (runs / "gd1d").iterdir()
    a_file = root / "a-file.txt"
    a_file.write_text("not a folder\n")
    bad_pickle = root / "bad.pt"
    torch.save({"x": _Opaque()}, bad_pickle)
    image = root / "digit.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    return {"DONE": str(done), "FILE": str(a_file), "MISSING": str(root / "no-such-folder"),
            "BAD_PT": str(bad_pickle), "IMAGE": str(image), "ROOT": str(root)}


def _raise_inside_the_lab(monkeypatch):
    lab = get_lab("gd1d")

    def compute(config, progress=None):
        raise RuntimeError("a bug inside the lab")

    monkeypatch.setitem(registry(), "gd1d", dataclasses.replace(lab, compute=compute))


def _full_disk(monkeypatch):
    real = Path.write_text

    def write_text(self, data, *args, **kwargs):
        if self.name.startswith("metrics.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)


def _no_memory(monkeypatch):
    from dlsm import memory

    monkeypatch.setattr(memory, "available_bytes", lambda: 2**20)  # 1 MiB free


CASES = [
    # (argv, setup, expected status); OUT is a fresh --out folder, the other capitals are from `world`
    (["list"], None, 0),
    (["show", "gd2d"], None, 0),
    (["run", "gd1d", "--quick", "--out", "OUT"], None, 0),
    (["run", "nolab", "--out", "OUT"], None, 2),
    (["show", "nolab"], None, 2),
    (["run", "gd2d", "alpha=0.1", "--out", "OUT"], None, 2),
    (["run", "gd2d", "lr=-1", "--out", "OUT"], None, 2),
    (["run", "gd2d", "lr=abc", "--out", "OUT"], None, 2),
    (["run", "gd2d", "foo", "--out", "OUT"], None, 2),
    (["run", "gd1d", "--out", "FILE"], None, 2),
    (["run", "gd1d", "--resume", "MISSING"], None, 2),
    (["run", "gd1d", "--resume", "FILE"], None, 2),
    (["run", "gd1d", "--resume", "DONE"], None, 2),
    (["run", "gd2d", "--resume", "DONE"], None, 2),
    (["run", "gd1d", "--resume", "DONE", "lr=0.1"], None, 2),
    (["run", "gd1d", "--resume", "DONE"], "locked", 2),
    (["run", "sparse", "--quick", "--out", "OUT"], _no_memory, 2),
    (["run", "unfold", "load=DONE", "--quick", "--out", "OUT"], None, 2),
    (["report", "MISSING"], None, 2),
    (["report", "FILE"], None, 2),
    (["report", "ROOT/runs/gd1d"], "locked", 2),
    (["predict", "MISSING", "IMAGE"], None, 2),
    (["predict", "DONE", "IMAGE"], None, 2),
    (["predict", "BAD_PT", "IMAGE"], None, 2),
    (["predict", "FILE", "IMAGE"], None, 2),
    (["predict", "BAD_PT", "IMAGE", "--top", "0"], None, 2),
    (["run", "gd1d", "--quick", "--out", "OUT"], _raise_inside_the_lab, 1),
    (["run", "gd1d", "--quick", "--out", "OUT"], _full_disk, 1),
]


@pytest.mark.parametrize(("argv", "setup", "expected"), CASES,
                         ids=[" ".join(a) + (f" [{s if isinstance(s, str) else s.__name__}]" if s else "")
                              for a, s, _ in CASES])
def test_exit_status(argv, setup, expected, world, tmp_path, monkeypatch, capsys):
    names = {**world, "OUT": str(tmp_path / "out")}
    args = [names.get(a, a) for a in argv]
    args = [a.replace("ROOT", world["ROOT"]) if a.startswith("ROOT/") else a for a in args]
    args = [f"load={world['DONE']}" if a == "load=DONE" else a for a in args]
    lock = None
    if setup == "locked":
        from dlsm.run_lock import RunLock

        lock = RunLock(Path(world["DONE"]))
        lock.__enter__()
    elif setup is not None:
        setup(monkeypatch)
    try:
        code = main(args)
    finally:
        if lock is not None:
            lock.__exit__(None, None, None)
    err = capsys.readouterr().err
    assert code == expected, err
    assert "Traceback" not in err
    if expected:
        assert err.strip(), "an error exit says why"


def test_a_usage_error_of_argparse_is_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run"])
    assert info.value.code == 2
    assert "required" in capsys.readouterr().err
