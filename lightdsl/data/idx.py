"""MNIST-format IDX files, gzipped or not: read in one ``np.frombuffer``, no per-sample Python.

An IDX file is a 4-byte magic number ``00 00 <dtype code> <number of dims>``, then each dimension
as a big-endian int32, then the values in row-major order, big-endian.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from pathlib import Path

import numpy as np
import torch

from lightdsl.data.dataset import Dataset
from lightdsl.errors import DataError
from lightdsl.runtime.data import idx_inputs

#: IDX dtype code -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 << 20  # bytes per read of the payload
_MAX_BYTES = 1 << 62  # past this numpy cannot even describe an array's shape


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzip detected by its magic bytes) into a native-endian numpy array."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=str(path))
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if gzipped else raw
        try:
            return _read_stream(stream, str(path), gzipped)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(f"cannot decompress gzip data ({err})", path=str(path)) from err


def _read_stream(stream: io.BufferedIOBase, path: str, gzipped: bool) -> np.ndarray:
    kind = "decompressed data" if gzipped else "file"
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataError(
            f"{kind} is {len(magic)} bytes long, too short for an IDX header", path=path
        )
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(
            f"not an IDX file: magic number is 0x{magic.hex()}, expected "
            "0x0000TTNN (TT = dtype code, NN = number of dims)",
            path=path,
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02x}" for c in IDX_DTYPES)
        raise DataError(f"unknown IDX dtype code 0x{code:02x} (known: {known})", path=path)
    if ndim == 0:
        raise DataError("IDX header says 0 dimensions", path=path)
    dims_bytes = stream.read(4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise DataError(
            f"truncated IDX header: {ndim} dimensions need {4 + 4 * ndim} bytes, "
            f"{kind} has {4 + len(dims_bytes)}",
            path=path,
        )
    dims = tuple(int(d) for d in np.frombuffer(dims_bytes, dtype=">i4"))
    dtype = IDX_DTYPES[code]
    header = 4 + 4 * ndim
    expected = _payload_size(dims, dtype, path)
    if not gzipped:  # the file's size is known: refuse a lying header before allocating
        _check_claim(dims, dtype, _remaining(stream), header, path)
    buffer = _read_exactly(stream, expected)
    if len(buffer) < expected:
        _check_claim(dims, dtype, len(buffer), header, path, kind)
    extra = len(stream.read(1 << 20))
    if extra:
        raise DataError(
            f"IDX {kind} is longer than its header says: expected {header + expected} "
            f"bytes, found at least {header + expected + extra}",
            path=path,
        )
    array = np.frombuffer(buffer, dtype=dtype).reshape(dims)
    return array if dtype.itemsize == 1 else array.astype(_native(dtype))


def _payload_size(dims: tuple[int, ...], dtype: np.dtype, path: str) -> int:
    """Bytes the header's shape needs (Python ints: no int64 overflow on absurd dims)."""
    negative = [i for i, d in enumerate(dims) if d < 0]
    if negative:
        raise DataError(
            f"IDX header says dimension {negative[0]} has size {dims[negative[0]]}; sizes "
            "cannot be negative (a corrupt file, or not an IDX file)",
            path=path,
        )
    nonzero = math.prod(d for d in dims if d) * dtype.itemsize
    if nonzero >= _MAX_BYTES:  # numpy cannot describe the shape, even holding 0 items
        raise DataError(
            f"IDX header claims an absurd shape {dims}: {nonzero} bytes per "
            f"{'item' if dims[0] else 'shape'} of {_native(dtype).name}",
            path=path,
        )
    return math.prod(dims) * dtype.itemsize


def _remaining(stream: io.BufferedIOBase) -> int:
    """Bytes left after the stream's position in a plain (not gzipped) file."""
    return os.fstat(stream.fileno()).st_size - stream.tell()


def _check_claim(dims, dtype: np.dtype, available: int, header: int, path: str,
                 kind: str = "file") -> None:
    """DataError when the header's shape needs more than ``available`` payload bytes: how
    many items the header claims and how many the data holds."""
    expected = math.prod(dims) * dtype.itemsize
    if expected <= available:
        return
    item = math.prod(dims[1:]) * dtype.itemsize
    holds = available // item if item else 0
    raise DataError(
        f"truncated IDX file: header says {dims[0]} items of shape {dims[1:]} "
        f"({_native(dtype).name}), {header + expected} bytes in all; the {kind} has "
        f"{header + available} bytes, room for {holds} item{'s' if holds != 1 else ''}",
        path=path,
        hint="the download may be incomplete: fetch the file again",
    )


def _read_exactly(stream: io.BufferedIOBase, size: int) -> bytearray:
    """Up to ``size`` bytes, read in chunks: memory grows with the data actually there, never
    with what a (possibly lying) gzipped header claims."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = stream.read(min(size - len(buffer), _CHUNK))
        if not chunk:
            break
        buffer += chunk
    return buffer


def _native(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("=")


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file (gzipped when ``compress`` or the name ends in ``.gz``)."""
    path = Path(path)
    array = np.asarray(array)
    codes = {dt.newbyteorder("=").str: code for code, dt in IDX_DTYPES.items()}
    key = array.dtype.newbyteorder("=").str
    if key not in codes:
        raise DataError(f"IDX cannot store dtype {array.dtype}", path=str(path))
    code = codes[key]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    compress = path.suffix == ".gz" if compress is None else compress
    path.write_bytes(gzip.compress(payload, compresslevel=1) if compress else payload)
    return path


def load_idx(images: str | Path, labels: str | Path | None = None) -> Dataset:
    """Load MNIST-format IDX images (and labels) as a Dataset.

    3-D image arrays ``(N, H, W)`` become ``(N, 1, H, W)``; uint8 stays uint8, other types become
    float32. Labels must be a 1-D array with one entry per image; they become int64.
    """
    array = read_idx(images)
    if array.ndim < 2:
        raise DataError(
            f"an images file needs at least 2 dimensions, this one has shape {array.shape}",
            path=str(images),
            hint="did you swap the images and labels files?",
        )
    inputs = idx_inputs(array)
    if labels is None:
        return Dataset(inputs, source=str(images))
    label_array = read_idx(labels)
    if label_array.ndim != 1:
        raise DataError(
            f"a labels file must be 1-dimensional, this one has shape {label_array.shape}",
            path=str(labels),
        )
    if np.issubdtype(label_array.dtype, np.floating):
        raise DataError(
            f"labels must be integers, this file holds {label_array.dtype}", path=str(labels)
        )
    if len(label_array) != len(array):
        raise DataError(
            f"{len(label_array)} labels for {len(array)} images in {images}",
            path=str(labels),
            hint="the images and labels files must match",
        )
    target = torch.from_numpy(label_array).to(torch.int64)
    return Dataset(inputs, target, source=str(images), labels_source=str(labels))
