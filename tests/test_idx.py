"""IDX reading and writing, checked against byte strings built by hand from the format's spec."""

import gzip
import struct

import numpy as np
import pytest

from dlsm.errors import DataError
from dlsm.problems.idx import read_idx, write_idx


def _idx_bytes(type_code: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    """The layout from yann.lecun.com/exdb/mnist: 0x0000, type, ndim, big-endian uint32 sizes, data."""
    return bytes([0, 0, type_code, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape) + payload


def test_read_hand_built_uint8_images(tmp_path):
    values = list(range(2 * 3 * 4))
    path = tmp_path / "imgs-idx3-ubyte"
    path.write_bytes(_idx_bytes(0x08, (2, 3, 4), bytes(values)))
    out = read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    assert out.reshape(-1).tolist() == values  # C order


def test_read_hand_built_big_endian_int32_and_float64(tmp_path):
    ints = [1, -2, 70000]
    (tmp_path / "i").write_bytes(_idx_bytes(0x0C, (3,), struct.pack(">3i", *ints)))
    assert read_idx(tmp_path / "i").tolist() == ints
    floats = [0.5, -1.25, 3e10, 7.0]
    (tmp_path / "f").write_bytes(_idx_bytes(0x0E, (2, 2), struct.pack(">4d", *floats)))
    out = read_idx(tmp_path / "f")
    assert out.dtype == np.float64 and out.reshape(-1).tolist() == floats


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_write_matches_spec_and_round_trips(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 5, 2)) * 50).astype(dtype)
    path = write_idx(tmp_path / name, array)
    raw = path.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    code = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}
    big_endian = array.astype(np.dtype(dtype).newbyteorder(">")).tobytes()
    assert raw == _idx_bytes(code[dtype], (3, 5, 2), big_endian)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and np.array_equal(out, array)
    out[0] = 0  # a writable copy


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    payload = _idx_bytes(0x08, (4,), bytes([9, 8, 7, 6]))
    (tmp_path / "labels-idx1-ubyte").write_bytes(gzip.compress(payload))
    (tmp_path / "plain.gz").write_bytes(payload)
    assert read_idx(tmp_path / "labels-idx1-ubyte").tolist() == [9, 8, 7, 6]
    assert read_idx(tmp_path / "plain.gz").tolist() == [9, 8, 7, 6]


def test_write_rejects_types_idx_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match="int64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an IDX file"),
        (b"\x00\x00", "not an IDX file"),
        (b"PK\x03\x04rest-of-a-zip", "magic number"),
        (b"\x00\x00\x07\x01" + b"\x00" * 8, "magic number"),  # unknown type code
        (b"\x00\x00\x08\x00", "dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
        (_idx_bytes(0x08, (2, 28, 28), bytes(28 * 28 + 5)), "truncated IDX file"),
        (_idx_bytes(0x08, (2,), bytes(3)), "1 bytes after"),
    ],
)
def test_corrupt_files_raise_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_and_corrupt_gzip(tmp_path):
    packed = gzip.compress(_idx_bytes(0x08, (1000,), bytes(range(256)) * 3 + bytes(232)))
    (tmp_path / "short.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match="truncated gzip"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "broken.gz").write_bytes(packed[:10] + b"\xff" * 40 + packed[50:])
    with pytest.raises(DataError, match="corrupt gzip|truncated"):
        read_idx(tmp_path / "broken.gz")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "nope-idx1-ubyte.gz")
