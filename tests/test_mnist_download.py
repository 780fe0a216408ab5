"""Downloading MNIST with pooch and checksums, against a loopback HTTP server (127.0.0.1) that serves fixture
files, a corrupt one, and one that drops the connection; never the network."""

from __future__ import annotations

import hashlib
import http.server
import threading

import numpy as np
import pytest

from dlsm.errors import DataError
from dlsm.problems import mnist_download as md
from dlsm.problems.mnist_download import RemoteFile, download_files, download_mnist, mnist_cache_dir, require_mnist

CONTENTS = {"a-idx1-ubyte.gz": b"first file " * 1000, "b-idx3-ubyte.gz": bytes(range(256)) * 900}


def _spec(name: str, content: bytes) -> RemoteFile:
    return RemoteFile(name, len(content), hashlib.sha256(content).hexdigest(), hashlib.md5(content).hexdigest())


SPECS = [_spec(n, c) for n, c in CONTENTS.items()]


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` under /good/, the same files with one byte changed under /corrupt/, a
    third of each file (then a closed connection, though the length header promised all) under /drop/,
    and 404 for anything else. Each request is logged in ``server.requests``."""

    def do_GET(self):  # noqa: N802  (http.server's naming)
        self.server.requests.append(self.path)
        kind, _, name = self.path.strip("/").partition("/")
        content = self.server.files.get(name)
        if content is None or kind not in ("good", "corrupt", "drop"):
            self.send_error(404, "Not Found")
            return
        body = content[:-1] + bytes([content[-1] ^ 0xFF]) if kind == "corrupt" else content
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 3] if kind == "drop" else body)
        if kind == "drop":
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.requests = dict(CONTENTS), []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd, base
    httpd.shutdown()
    httpd.server_close()


def _files(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("DLSM_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist_cache_dir() == tmp_path / "home" / ".cache" / "dlsm" / "mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist_cache_dir() == tmp_path / "xdg" / "dlsm" / "mnist"
    monkeypatch.setenv("DLSM_CACHE", str(tmp_path / "mine"))
    assert mnist_cache_dir() == tmp_path / "mine" / "mnist"
    monkeypatch.setenv("DLSM_CACHE", "")
    assert mnist_cache_dir() == tmp_path / "xdg" / "dlsm" / "mnist"


def test_download_over_http_with_progress(tmp_path, server):
    _, base = server
    calls = []
    cache = download_files(SPECS, tmp_path / "cache", [f"{base}/good/"], lambda d, t, i: calls.append((d, t)))
    assert cache == tmp_path / "cache" and _files(cache) == sorted(CONTENTS)  # no temporary file left
    for name, content in CONTENTS.items():
        assert (cache / name).read_bytes() == content
    total = sum(map(len, CONTENTS.values()))
    assert calls and all(t == total for _, t in calls) and calls[-1][0] == total
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_mirrors_are_tried_in_order(tmp_path, server):
    httpd, base = server
    download_files(SPECS, tmp_path / "cache", [f"{base}/missing/", f"{base}/drop/", f"{base}/good"], None)
    assert _files(tmp_path / "cache") == sorted(CONTENTS)
    first = [p for p in httpd.requests if p.endswith(SPECS[0].name)]
    assert [p.split("/")[1] for p in first] == ["missing", "drop", "good"]


def test_corrupt_file_is_not_kept(tmp_path, server):
    _, base = server
    with pytest.raises(DataError) as info:
        download_files(SPECS, tmp_path / "cache", [f"{base}/corrupt/"], None)
    text = str(info.value)
    assert "SHA-256 does not match" in text and "Nothing invalid was kept" in text and "/corrupt/a-idx1" in text
    assert _files(tmp_path / "cache") == []


def test_dropped_connection_keeps_nothing_and_says_so(tmp_path, server):
    _, base = server
    with pytest.raises(DataError, match="could not download a-idx1-ubyte.gz") as info:
        download_files(SPECS, tmp_path / "cache", [f"{base}/drop/", f"{base}/nowhere/"], None)
    assert "connection" in str(info.value) and "HTTP 404" in str(info.value)
    assert _files(tmp_path / "cache") == []


def test_md5_is_checked_too(tmp_path, server):
    _, base = server
    spec = RemoteFile(SPECS[0].name, SPECS[0].n_bytes, SPECS[0].sha256, "0" * 32)
    with pytest.raises(DataError, match="MD5"):
        download_files([spec], tmp_path / "cache", [f"{base}/good/"], None)
    assert _files(tmp_path / "cache") == []


def test_ctrl_c_leaves_no_partial_file(tmp_path, server):
    _, base = server

    def interrupt(done, total, info):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_files(SPECS, tmp_path / "cache", [f"{base}/good/"], interrupt)
    assert _files(tmp_path / "cache") == []


def test_valid_files_are_kept_and_corrupt_ones_fetched_again(tmp_path, server):
    httpd, base = server
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / SPECS[0].name).write_bytes(CONTENTS[SPECS[0].name])  # valid: no request
    (cache / SPECS[1].name).write_bytes(b"garbage")  # corrupt: replaced
    download_files(SPECS, cache, [f"{base}/good/"], None)
    assert httpd.requests == [f"/good/{SPECS[1].name}"]
    assert (cache / SPECS[1].name).read_bytes() == CONTENTS[SPECS[1].name]


def test_download_mnist_rejects_files_that_are_not_the_official_ones(tmp_path, server):
    httpd, base = server
    httpd.files = {spec.name: b"\x1f\x8b not mnist" for spec in md.MNIST_FILES}
    with pytest.raises(DataError, match="SHA-256 does not match"):
        download_mnist(tmp_path / "cache", mirrors=[f"{base}/good/"])
    assert _files(tmp_path / "cache") == []


def test_official_file_table():
    names = [f.name for f in md.MNIST_FILES]
    assert names == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert all(len(f.sha256) == 64 and len(f.md5) == 32 for f in md.MNIST_FILES)
    assert md.DEFAULT_MIRRORS[0].startswith("https://ossci-datasets")  # PyTorch's mirror first


def test_require_mnist_reports_missing_and_deletes_corrupt(tmp_path):
    with pytest.raises(DataError, match="missing: train-images-idx3-ubyte.gz"):
        require_mnist(tmp_path)
    for spec in md.MNIST_FILES:
        (tmp_path / spec.name).write_bytes(b"x" * spec.n_bytes)  # right size, wrong content
    with pytest.raises(DataError, match=r"(?s)corrupt .*was deleted.*dlsm data download-mnist"):
        require_mnist(tmp_path)
    assert not (tmp_path / md.MNIST_FILES[0].name).exists()


def test_mnist_source_reads_a_verified_cache(tmp_path, monkeypatch, server):
    """End to end with small stand-in files: download over HTTP, then load_dataset("mnist")."""
    from dlsm.problems.idx import write_idx
    from dlsm.problems.images import load_dataset

    httpd, base = server
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), np.arange(6, dtype=np.uint8) % 10,
              rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.arange(4, dtype=np.uint8)]
    specs, files = [], {}
    for spec, array in zip(md.MNIST_FILES, arrays, strict=True):
        write_idx(tmp_path / spec.name, array)
        files[spec.name] = (tmp_path / spec.name).read_bytes()
        specs.append(_spec(spec.name, files[spec.name]))
    httpd.files = files
    monkeypatch.setattr(md, "MNIST_FILES", tuple(specs))
    monkeypatch.setenv("DLSM_CACHE", str(tmp_path / "cache"))
    assert download_mnist(mirrors=[f"{base}/good/"]) == tmp_path / "cache" / "mnist"
    train, test = load_dataset("mnist")
    assert train.name == "mnist" and (len(train), len(test)) == (6, 4)
    np.testing.assert_allclose(test.X[:, 0].numpy(), arrays[2] / 255.0, atol=1e-7)
    assert test.y.tolist() == [0, 1, 2, 3] and train.classes == tuple("0123456789")
