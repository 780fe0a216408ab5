"""The IDX file format of MNIST: read and write, gzip-compressed or not.

Layout (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte magic number
``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the values, big-endian, in
C order. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
MNIST's images are ``(N, 28, 28)`` uint8 (type 0x08, ndim 3), its labels ``(N,)`` uint8 (ndim 1).

``read_idx`` checks every part of that layout and raises ``DataError`` naming the file and what is
wrong (not an IDX file, truncated, trailing bytes, a broken gzip stream), never a bare traceback.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from dlsm.errors import DataError
from dlsm.i18n import t

#: IDX type code -> numpy dtype (big-endian, as stored in the file).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
#: More dimensions than any real IDX file has; guards against reading garbage as a header.
_MAX_NDIM = 8


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzip-compressed or plain, told apart by content, not by name).

    Returns a native-endian numpy array of the stored shape and type (MNIST images: ``(N, 28, 28)``
    uint8). Raises ``DataError`` for a missing, truncated or corrupt file.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(t("data.err.idx_too_short", path=path, n=len(raw)))
    zero, type_code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or type_code not in IDX_DTYPES:
        raise DataError(t("data.err.idx_magic", path=path, magic=raw[:4].hex(),
                          codes=", ".join(f"{c:02x}" for c in IDX_DTYPES)))
    if not 1 <= ndim <= _MAX_NDIM:
        raise DataError(t("data.err.idx_ndim", path=path, ndim=ndim, most=_MAX_NDIM))
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(t("data.err.idx_header_truncated", path=path, n=len(raw), need=header_len))
    shape = struct.unpack(f">{ndim}I", raw[4:header_len])
    dtype = IDX_DTYPES[type_code]
    n_expected = math.prod(shape) * dtype.itemsize
    n_found = len(raw) - header_len
    if n_found < n_expected:
        raise DataError(t("data.err.idx_truncated", path=path, shape=shape, need=n_expected, n=n_found))
    if n_found > n_expected:
        raise DataError(t("data.err.idx_trailing", path=path, extra=n_found - n_expected, need=n_expected,
                          shape=shape))
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a native-endian, writable copy


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file; gzip-compressed when the name ends in ``.gz``. Returns the path."""
    path = Path(path)
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use one of {sorted(map(str, codes))}")
    if not 1 <= array.ndim <= _MAX_NDIM:
        raise ValueError(f"IDX stores 1 to {_MAX_NDIM} dimensions, got an array of shape {array.shape}")
    header = struct.pack(">2sBB", b"\x00\x00", codes[native], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[codes[native]]).tobytes()
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is a gzip stream."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(t("data.err.no_such_file", path=path)) from None
    except OSError as exc:
        raise DataError(t("data.err.cannot_read", path=path, error=exc.strerror or exc)) from None
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise DataError(t("data.err.gzip_truncated", path=path)) from None
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(t("data.err.gzip_corrupt", path=path, error=exc)) from None
