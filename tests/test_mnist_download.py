"""Downloading with checksums, against local file:// "mirrors" and fake responses; never the network."""

import hashlib
import http.client
import io

import pytest

from dlsm.errors import DataError
from dlsm.problems import mnist_download as md
from dlsm.problems.mnist_download import (
    RemoteFile,
    download_files,
    download_mnist,
    mnist_cache_dir,
    require_mnist,
)


def _spec(name: str, content: bytes) -> RemoteFile:
    sha256, md5 = hashlib.sha256(content).hexdigest(), hashlib.md5(content).hexdigest()
    return RemoteFile(name, len(content), sha256, md5)


@pytest.fixture
def mirror(tmp_path):
    """A folder served as a mirror through file:// URLs, with two files and their specs."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    contents = {"a-idx1-ubyte.gz": b"first file " * 1000, "b-idx3-ubyte.gz": bytes(range(256)) * 900}
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    return folder, [_spec(n, c) for n, c in contents.items()], contents


def _only_final_files(folder):
    return sorted(p.name for p in folder.iterdir())


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


def test_download_from_a_local_mirror(tmp_path, mirror):
    folder, specs, contents = mirror
    calls = []
    cache = download_files(specs, tmp_path / "cache", [folder.as_uri()], lambda d, t, i: calls.append((d, t)))
    assert cache == tmp_path / "cache"
    assert _only_final_files(cache) == sorted(contents)  # no .part left behind
    for name, content in contents.items():
        assert (cache / name).read_bytes() == content
    total = sum(map(len, contents.values()))
    assert calls[-1] == (total, total) and all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_next_mirror_is_tried_when_one_fails(tmp_path, mirror):
    folder, specs, contents = mirror
    empty = tmp_path / "empty"
    empty.mkdir()
    download_files(specs, tmp_path / "cache", [empty.as_uri(), folder.as_uri() + "/"], None)
    assert (tmp_path / "cache" / specs[1].name).read_bytes() == contents[specs[1].name]


def test_checksum_mismatch_is_not_kept(tmp_path, mirror):
    folder, specs, _ = mirror
    content = (folder / specs[0].name).read_bytes()
    (folder / specs[0].name).write_bytes(content[:-1] + b"X")  # same size, other bytes
    with pytest.raises(DataError, match="SHA-256") as info:
        download_files(specs, tmp_path / "cache", [folder.as_uri()], None)
    assert "Nothing invalid was kept" in str(info.value)
    assert _only_final_files(tmp_path / "cache") == []


def test_md5_is_checked_too(tmp_path, mirror):
    folder, specs, _ = mirror
    spec = RemoteFile(specs[0].name, specs[0].n_bytes, specs[0].sha256, "0" * 32)
    with pytest.raises(DataError, match="MD5"):
        download_files([spec], tmp_path / "cache", [folder.as_uri()], None)


def test_partial_and_oversized_downloads_are_deleted(tmp_path, mirror):
    folder, specs, _ = mirror
    content = (folder / specs[0].name).read_bytes()
    (folder / specs[0].name).write_bytes(content[: len(content) // 3])
    with pytest.raises(DataError, match="partial download"):
        download_files(specs[:1], tmp_path / "cache", [folder.as_uri()], None)
    (folder / specs[0].name).write_bytes(content + b"<html>error page</html>")
    with pytest.raises(DataError, match="more than the expected"):
        download_files(specs[:1], tmp_path / "cache", [folder.as_uri()], None)
    assert _only_final_files(tmp_path / "cache") == []


class _DroppingResponse(io.BytesIO):
    """A response whose connection breaks after the first chunk."""

    def __init__(self, content, error):
        super().__init__(content)
        self.error, self.calls = error, 0

    def read(self, n=-1):
        self.calls += 1
        if self.calls > 1:
            raise self.error
        return super().read(min(n, 100))


@pytest.mark.parametrize("error", [ConnectionResetError(104, "Connection reset by peer"),
                                   http.client.IncompleteRead(b"abc", 10), TimeoutError("timed out")])
def test_connection_dropped_midway(tmp_path, mirror, monkeypatch, error):
    folder, specs, contents = mirror
    response = _DroppingResponse(contents[specs[0].name], error)
    monkeypatch.setattr(md, "_open_url", lambda url, timeout: response)
    with pytest.raises(DataError, match="could not download a-idx1-ubyte.gz"):
        download_files(specs[:1], tmp_path / "cache", ["https://example.invalid/"], None)
    assert _only_final_files(tmp_path / "cache") == []


def test_ctrl_c_leaves_no_partial_file(tmp_path, mirror):
    folder, specs, _ = mirror

    def interrupt(done, total, info):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_files(specs, tmp_path / "cache", [folder.as_uri()], interrupt)
    assert _only_final_files(tmp_path / "cache") == []


def test_valid_files_are_kept_and_corrupt_ones_fetched_again(tmp_path, mirror, monkeypatch):
    folder, specs, contents = mirror
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / specs[0].name).write_bytes(contents[specs[0].name])  # valid: no mirror needed
    (cache / specs[1].name).write_bytes(b"garbage")  # corrupt: replaced
    served = []
    real_open = md._open_url

    def spy(url, timeout):
        served.append(url.rsplit("/", 1)[-1])
        return real_open(url, timeout)

    monkeypatch.setattr(md, "_open_url", spy)
    download_files(specs, cache, [folder.as_uri()], None)
    assert served == [specs[1].name]
    assert (cache / specs[1].name).read_bytes() == contents[specs[1].name]


def test_download_mnist_rejects_files_that_are_not_the_official_ones(tmp_path):
    fake = tmp_path / "fake-mirror"
    fake.mkdir()
    for spec in md.MNIST_FILES:
        (fake / spec.name).write_bytes(b"\x1f\x8b not mnist")
    with pytest.raises(DataError, match="partial download"):
        download_mnist(tmp_path / "cache", mirrors=[fake.as_uri()])
    assert _only_final_files(tmp_path / "cache") == []


def test_official_file_table():
    names = [f.name for f in md.MNIST_FILES]
    assert names == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert all(len(f.sha256) == 64 and len(f.md5) == 32 for f in md.MNIST_FILES)


def test_require_mnist_reports_missing_and_deletes_corrupt(tmp_path):
    with pytest.raises(DataError, match="missing: train-images-idx3-ubyte.gz"):
        require_mnist(tmp_path)
    for spec in md.MNIST_FILES:
        (tmp_path / spec.name).write_bytes(b"x" * spec.n_bytes)  # right size, wrong content
    with pytest.raises(DataError, match=r"(?s)corrupt .*was deleted.*dlsm data download-mnist"):
        require_mnist(tmp_path)
    assert not (tmp_path / md.MNIST_FILES[0].name).exists()


def test_mnist_source_reads_a_verified_cache(tmp_path, monkeypatch):
    """End to end with small stand-in files: download from a file:// mirror, then load_dataset("mnist")."""
    import numpy as np

    from dlsm.problems.idx import write_idx
    from dlsm.problems.images import load_dataset

    rng = np.random.default_rng(0)
    served = tmp_path / "mirror"
    served.mkdir()
    arrays = [rng.integers(0, 256, (6, 28, 28), dtype=np.uint8), np.arange(6, dtype=np.uint8) % 10,
              rng.integers(0, 256, (4, 28, 28), dtype=np.uint8), np.arange(4, dtype=np.uint8)]
    specs = []
    for spec, array in zip(md.MNIST_FILES, arrays, strict=True):
        write_idx(served / spec.name, array)
        specs.append(_spec(spec.name, (served / spec.name).read_bytes()))
    monkeypatch.setattr(md, "MNIST_FILES", tuple(specs))
    monkeypatch.setenv("DLSM_CACHE", str(tmp_path / "cache"))
    assert download_mnist(mirrors=[served.as_uri()]) == tmp_path / "cache" / "mnist"
    train, test = load_dataset("mnist")
    assert train.name == "mnist" and (len(train), len(test)) == (6, 4)
    np.testing.assert_allclose(test.X[:, 0].numpy(), arrays[2] / 255.0, atol=1e-7)
    assert test.y.tolist() == [0, 1, 2, 3] and train.classes == tuple("0123456789")
