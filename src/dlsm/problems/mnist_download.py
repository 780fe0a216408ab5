"""Full MNIST, on request: download the four official files once into a cache folder, verified.

Nothing here runs unless the user asks (``dlsm data download-mnist``); the labs' default data is the
embedded subset. The download itself is pooch's (``pooch.retrieve``, the library SciPy, scikit-image and
MNE use for their data): it streams each file into a temporary file next to its final place, checks its
SHA-256, and only then moves it to its final name; a short, corrupt or interrupted download is deleted,
never kept as if valid. dlsm adds the mirrors, tried in order, the MD5 check that torchvision makes, the
cache folder and its environment variables, and the messages.

Checksums: the official files (http://yann.lecun.com/exdb/mnist/, mirrored by PyTorch and by
TensorFlow) have these sizes, SHA-256 and MD5 sums; the MD5 sums are the ones torchvision checks,
the SHA-256 sums the ones TensorFlow Datasets and many others record.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlsm.errors import DataError
from dlsm.i18n import t
from dlsm.result import ProgressFn

#: The command that fills the cache (wired into the CLI by ``dlsm.cli``).
DOWNLOAD_COMMAND = "dlsm data download-mnist"
#: Tried in order; each serves the four files under the same names.
DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
    "https://yann.lecun.com/exdb/mnist/",  # the original site (often refuses scripted downloads)
)
_CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch: its name on the mirrors and in the cache, size in bytes, checksums."""

    name: str
    n_bytes: int
    sha256: str
    md5: str | None = None


MNIST_FILES = (
    RemoteFile("train-images-idx3-ubyte.gz", 9_912_422,
               "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
               "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    RemoteFile("train-labels-idx1-ubyte.gz", 28_881,
               "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
               "d53e105ee54ea40749a09fcbcd1e9432"),
    RemoteFile("t10k-images-idx3-ubyte.gz", 1_648_877,
               "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
               "9fb629c4189551a2d022fa330f9573f3"),
    RemoteFile("t10k-labels-idx1-ubyte.gz", 4_542,
               "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
               "ec29112dd5afa0611ce80d1b7f02629c"),
)


def mnist_cache_dir() -> Path:
    """Where full MNIST lives: ``$DLSM_CACHE/mnist``, else ``$XDG_CACHE_HOME/dlsm/mnist``, else
    ``~/.cache/dlsm/mnist`` (an empty variable counts as unset)."""
    if os.environ.get("DLSM_CACHE"):
        return Path(os.environ["DLSM_CACHE"]).expanduser() / "mnist"
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "dlsm" / "mnist"
    return Path.home() / ".cache" / "dlsm" / "mnist"


def download_mnist(
    cache_dir: Path | None = None,
    mirrors: Sequence[str] = DEFAULT_MIRRORS,
    progress: ProgressFn | None = None,
) -> Path:
    """Download the four MNIST files into ``cache_dir`` (default ``mnist_cache_dir()``), verified.

    Files already there and valid are kept; ``progress(done_bytes, total_bytes, info)`` is called as
    bytes arrive. Returns the folder. Raises ``DataError`` (with each mirror's failure) when a file
    could not be fetched intact from any mirror.
    """
    return download_files(MNIST_FILES, cache_dir or mnist_cache_dir(), mirrors, progress)


def download_files(
    files: Sequence[RemoteFile],
    cache_dir: Path,
    mirrors: Sequence[str],
    progress: ProgressFn | None = None,
    *,
    timeout: float = 60.0,
) -> Path:
    """Fetch each of ``files`` from the first mirror that serves it intact (see ``download_mnist``)."""
    if not mirrors:
        raise DataError(t("data.err.no_mirror"))
    cache_dir = Path(cache_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(t("data.err.cache_folder", folder=cache_dir, error=exc.strerror or exc)) from None
    total = sum(f.n_bytes for f in files)
    done = 0
    for spec in files:
        target = cache_dir / spec.name
        if target.exists() and verify_file(target, spec) is not None:
            target.unlink()  # a corrupt file from an earlier attempt or another program: get it again
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + spec.name
            try:
                _retrieve(url, target, spec, _Bar(progress, done, total), timeout)
                break
            except Exception as exc:  # noqa: BLE001  requests, pooch and the OS raise many types
                failures.append(f"  {url}: {_describe(exc)}")
        else:
            raise DataError(t("data.err.download_failed", name=spec.name, failures="\n".join(failures),
                              command=DOWNLOAD_COMMAND, folder=cache_dir))
        done += spec.n_bytes
    return cache_dir


class _Bar:
    """pooch's custom progress bar interface (``total``, ``update``, ``reset``, ``close``) on a ProgressFn."""

    def __init__(self, progress: ProgressFn | None, done: int, total: int) -> None:
        self.progress, self.done, self.grand_total, self.n, self.total = progress, done, total, 0, 0

    def update(self, n: int) -> None:
        self.n = min(self.n + n, self.total) if self.total else self.n + n
        if self.progress is not None:
            self.progress(self.done + self.n, self.grand_total, {"file_bytes": float(self.n)})

    def reset(self) -> None:
        self.n = 0

    def close(self) -> None:
        pass


def _retrieve(url: str, target: Path, spec: RemoteFile, bar: _Bar, timeout: float) -> None:
    """``pooch.retrieve`` of one file into ``target`` (SHA-256 checked by pooch, then size and MD5 here);
    the one place that touches the network."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # pooch announces each download; the CLI shows its own progress
    try:
        downloader = pooch.HTTPDownloader(progressbar=bar, timeout=timeout, stream=True,
                                          headers={"User-Agent": "dlsm (course labs; MNIST download)"})
        pooch.retrieve(url, known_hash=f"sha256:{spec.sha256}", fname=target.name, path=target.parent,
                       downloader=downloader)
    finally:
        logger.setLevel(level)
    problem = verify_file(target, spec)
    if problem is not None:
        target.unlink()
        raise ValueError(problem)


def verify_file(path: Path, spec: RemoteFile) -> str | None:
    """None when ``path`` has the size and checksums of ``spec``; otherwise what is wrong."""
    size = path.stat().st_size
    if size != spec.n_bytes:
        return f"{size} bytes, expected {spec.n_bytes}"
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha256.update(chunk)
            md5.update(chunk)
    return _checksum_problem(sha256.hexdigest(), md5.hexdigest(), spec)


def require_mnist(cache_dir: Path | None = None) -> Path:
    """The cache folder when it holds all four MNIST files, intact; otherwise a ``DataError`` that
    says how to get them (a corrupt cached file is deleted first)."""
    cache_dir = Path(cache_dir or mnist_cache_dir())
    missing = [f.name for f in MNIST_FILES if not (cache_dir / f.name).is_file()]
    if missing:
        raise DataError(t("data.err.mnist_not_cached", folder=cache_dir, missing=", ".join(missing),
                          command=DOWNLOAD_COMMAND))
    for spec in MNIST_FILES:
        problem = verify_file(cache_dir / spec.name, spec)
        if problem is not None:
            (cache_dir / spec.name).unlink()
            raise DataError(t("data.err.mnist_corrupt", file=cache_dir / spec.name, problem=problem,
                              command=DOWNLOAD_COMMAND))
    return cache_dir


def _checksum_problem(sha256: str, md5: str, spec: RemoteFile) -> str | None:
    if sha256 != spec.sha256:
        return f"SHA-256 {sha256}, expected {spec.sha256}"
    if spec.md5 is not None and md5 != spec.md5:
        return f"MD5 {md5}, expected {spec.md5}"
    return None


def _describe(exc: BaseException) -> str:
    """One line on why a mirror failed: the HTTP status, a connection problem, a bad checksum."""
    response: Any = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        return f"HTTP {response.status_code} {response.reason}"
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, ValueError) and "hash" in text.lower():
        return "the file's SHA-256 does not match the official one (a corrupt or different file)"
    if name in ("ConnectionError", "ChunkedEncodingError", "ContentDecodingError", "ProtocolError"):
        return f"the connection failed or was cut ({name})"
    if name in ("Timeout", "ReadTimeout", "ConnectTimeout"):
        return "no answer in time"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return text.splitlines()[0] if text else name
