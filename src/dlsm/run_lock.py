"""The lock of a run folder being written: an exclusive ``fcntl.flock`` on ``run.lock`` in the folder.

The process that runs (or resumes) a run holds the lock until it has written its last file; the kernel drops
it when that process ends, killed or not, so a lock is never stale. Another process asking to resume the same
folder is refused (:class:`RunLocked`, exit status 2), and ``dlsm report`` says that the run is still running
instead of reporting what it wrote so far as finished. The file holds the writer's pid, for the message; it is
removed when the writer is done. Where ``fcntl`` does not exist (Windows) nothing is locked.
"""

from __future__ import annotations

import os
from pathlib import Path

from dlsm.errors import DlsmError
from dlsm.i18n import t

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "run.lock"


class RunLocked(DlsmError):
    """The run folder is being written by another live process."""

    exit_status = 2


class RunLock:
    """Hold the lock of ``run_dir`` while a run writes it (``with RunLock(run_dir): ...``)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        if fcntl is None:
            return self
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                pid = locked_by(self.path.parent)
                raise RunLocked(t("cli.err.run_locked", path=self.path.parent, pid=pid)) from None
            try:  # the file we locked is still the one at the path (the last writer may have just removed it)
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still held: a waiting process then sees a new file
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def locked_by(run_dir: Path) -> int | None:
    """The pid of the live process writing ``run_dir``, 0 when it is written but the pid is unknown, else None."""
    path = Path(run_dir) / LOCK_NAME
    if fcntl is None or not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
