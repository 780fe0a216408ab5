"""Full MNIST, on request: download the four official files once into a cache folder, verified.

Nothing here runs unless the user asks (``dlsm data download-mnist``); the labs' default data is the
embedded subset. Each file is streamed into ``<name>.part`` next to its final place while its SHA-256
and MD5 are computed; only a file whose size and both checksums match the official ones is renamed
to its final name. A short, corrupt or interrupted download is deleted, never kept as if valid, and
the next mirror is tried. A cached file that no longer matches is deleted and fetched again.

Checksums: the official files (http://yann.lecun.com/exdb/mnist/, mirrored by PyTorch and by
TensorFlow) have these sizes, SHA-256 and MD5 sums; the MD5 sums are the ones torchvision checks,
the SHA-256 sums the ones TensorFlow Datasets and many others record.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dlsm.errors import DataError
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


class _BadDownload(Exception):
    """A fetched file with the wrong size or checksum."""


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
        raise DataError("no mirror to download from")
    cache_dir = Path(cache_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the cache folder {cache_dir} ({exc.strerror or exc})") from None
    total = sum(f.n_bytes for f in files)
    done = 0
    for spec in files:
        target = cache_dir / spec.name
        if target.exists():
            if verify_file(target, spec) is None:
                done += spec.n_bytes
                continue
            target.unlink()  # a corrupt file from an earlier attempt or another program: get it again
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + spec.name
            try:
                _fetch_verified(url, target, spec, done, total, progress, timeout)
                break
            except (OSError, http.client.HTTPException, _BadDownload) as exc:  # URLError is an OSError
                failures.append(f"  {url}: {_describe(exc)}")
        else:
            raise DataError(
                f"could not download {spec.name} intact from any mirror:\n" + "\n".join(failures) + "\n"
                f"Nothing invalid was kept. Check the connection and run `{DOWNLOAD_COMMAND}` again, or "
                f"download the four files yourself into {cache_dir} (they are checked on every load), or "
                "use the data source idx:<folder> with a folder that holds them."
            )
        done += spec.n_bytes
    return cache_dir


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
        raise DataError(
            f"full MNIST is not in the cache folder {cache_dir} (missing: {', '.join(missing)}). "
            f"Download it once (about 12 MB) with:\n    {DOWNLOAD_COMMAND}\n"
            'or use the embedded subset (data source "mnist-5k", no download), or IDX files of your own '
            '(data source "idx:<folder>")'
        )
    for spec in MNIST_FILES:
        problem = verify_file(cache_dir / spec.name, spec)
        if problem is not None:
            (cache_dir / spec.name).unlink()
            raise DataError(
                f"{cache_dir / spec.name} is corrupt ({problem}) and was deleted; download it again with:"
                f"\n    {DOWNLOAD_COMMAND}"
            )
    return cache_dir


def _fetch_verified(
    url: str, target: Path, spec: RemoteFile, done: int, total: int, progress: ProgressFn | None,
    timeout: float,
) -> None:
    """Stream ``url`` into ``target.part``, check it, then rename it to ``target``; never leave a
    ``.part`` file behind (not even on Ctrl-C)."""
    part = target.with_name(target.name + ".part")
    sha256, md5, n = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    try:
        with _open_url(url, timeout) as response, part.open("wb") as out:
            while chunk := response.read(_CHUNK):
                n += len(chunk)
                if n > spec.n_bytes:
                    raise _BadDownload(f"more than the expected {spec.n_bytes} bytes; not the official file")
                sha256.update(chunk)
                md5.update(chunk)
                out.write(chunk)
                if progress is not None:
                    progress(done + n, total, {"file_bytes": float(n)})
        if n != spec.n_bytes:
            raise _BadDownload(f"partial download: {n} of {spec.n_bytes} bytes")
        problem = _checksum_problem(sha256.hexdigest(), md5.hexdigest(), spec)
        if problem is not None:
            raise _BadDownload(problem)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def _open_url(url: str, timeout: float):
    """A readable response for ``url`` (http, https or file); the one place that touches the network."""
    request = urllib.request.Request(url, headers={"User-Agent": "dlsm (course labs; MNIST download)"})
    return urllib.request.urlopen(request, timeout=timeout)


def _checksum_problem(sha256: str, md5: str, spec: RemoteFile) -> str | None:
    if sha256 != spec.sha256:
        return f"SHA-256 {sha256}, expected {spec.sha256}"
    if spec.md5 is not None and md5 != spec.md5:
        return f"MD5 {md5}, expected {spec.md5}"
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot connect ({exc.reason})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
