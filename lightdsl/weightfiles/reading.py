"""Inspecting a weights file without torch: its format and each tensor's shape and dtype.

What ``lightdsl check`` may do with a file a spec names, which nobody has vetted: open it only if
it is a regular file (a FIFO would block, a directory is no file), read at most
:data:`READ_LIMIT` bytes of it in all (:class:`~lightdsl.frontend.files.BoundedFile`, as check
reads ``.npz`` headers), and never run anything in it. Tensor data is never read: a safetensors
header or a ``torch.save`` pickle says every shape and dtype, and the zip's directory says how
big each stored tensor is.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import NamedTuple

from ..frontend.files import BoundedFile, ReadLimit, file_kind
from .layout import contents, find_state_dict
from .pickles import ITEM_BYTES, TensorRecord, unpickle

READ_LIMIT = 8 * 2**20  # bytes check reads of one weights file, in all (headers, directory)
SNIFF_BYTES = 512  # enough to tell a zip, a pickle, a tar and a safetensors header apart
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an archive, or an empty one
AT_TRAIN_TIME = "checked when training loads it (with torch)"
#: safetensors' dtype codes, as torch names the dtypes
SAFETENSORS_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
    "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "U16": "uint16",
    "U32": "uint32", "U64": "uint64", "BOOL": "bool", "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2", "C64": "complex64", "F8_E8M0": "float8_e8m0fnu",
}


class TensorInfo(NamedTuple):
    """A tensor's shape and dtype (torch's name: ``float32``); None where it is unknown."""

    shape: tuple[int, ...] | None
    dtype: str | None


@dataclass(frozen=True)
class WeightFile:
    """What inspecting a weights file found.

    ``status`` is ``"ok"`` (``tensors`` holds every tensor of the weights), ``"unchecked"``
    (a file check cannot look into without torch, or too big to: ``reason`` says why; torch
    checks it when training loads it), ``"missing"``, ``"refused"`` (not a regular file) or
    ``"error"`` (damaged or not a weights file at all: torch could not load it either).
    """

    path: str
    format: str  # "safetensors", "torch zip", "torch legacy" or "unknown"
    status: str
    kind: str = ""  # in words: "a lightdsl checkpoint", "a pytorch-lightning checkpoint ..."
    tensors: dict[str, TensorInfo] = field(default_factory=dict)
    reason: str = ""
    state_key: str | None = None  # where the weights are in a checkpoint ("state_dict")
    bytes_read: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        """One line: the file, what it is, and how many tensors (or why they are not known)."""
        if self.ok:
            where = f" under {self.state_key!r}" if self.state_key else ""
            return f"{self.path}: {self.kind}, {len(self.tensors)} tensors{where}"
        return f"{self.path}: {self.reason}"


def inspect_weights(path: str | os.PathLike) -> WeightFile:
    """Inspect ``path`` without torch, reading at most :data:`READ_LIMIT` bytes of it."""
    path = os.fspath(path)
    kind = file_kind(path)
    if kind is not None:
        return WeightFile(path, "unknown", "refused", reason=f"{kind}, not a weights file")
    if not os.path.exists(path):
        return WeightFile(path, "unknown", "missing", reason="no such file")
    try:
        with BoundedFile(path, READ_LIMIT) as handle:
            found = _inspect_open(path, handle)
            return _with_bytes(found, handle.limit - handle.left)
    except ReadLimit as error:  # replaced by a non-file between the stat and the open
        return WeightFile(path, "unknown", "refused", reason=error.strerror or str(error))
    except OSError as error:
        return WeightFile(path, "unknown", "error", reason=f"cannot read it: "
                          f"{error.strerror or error}")


def _with_bytes(found: WeightFile, count: int) -> WeightFile:
    return dataclasses.replace(found, bytes_read=count)


def _inspect_open(path: str, handle: BoundedFile) -> WeightFile:
    head = handle.read(SNIFF_BYTES)
    size = handle.seek(0, os.SEEK_END)  # of what was opened (the path may have changed since)
    handle.seek(0)
    if not head:
        return WeightFile(path, "unknown", "error", reason="an empty file (0 bytes)")
    if head[:4] in ZIP_MAGIC:
        return _torch_zip(path, handle, size)
    pickled = head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    if path.endswith(".safetensors") or (head[8:9] == b"{" and not pickled):
        return _safetensors(path, handle, size, head[:8])
    if pickled:
        return _unchecked(path, "torch legacy", "a pickle, not a zip archive: torch's legacy "
                          "format (torch.save(..., _use_new_zipfile_serialization=False) or "
                          "torch older than 1.6), which check does not look into")
    if head[257:262] == b"ustar":
        return _unchecked(path, "torch legacy", "a tar archive (torch's oldest format), which "
                          "check does not look into")
    return _unchecked(path, "unknown", "not a format check reads (safetensors, or a zip "
                      "archive torch.save wrote)")


def _unchecked(path: str, fmt: str, why: str, kind: str = "") -> WeightFile:
    return WeightFile(path, fmt, "unchecked", kind, reason=f"{why}; its weights are "
                      f"{AT_TRAIN_TIME}")


def _error(path: str, fmt: str, why: str) -> WeightFile:
    return WeightFile(path, fmt, "error", reason=why)


# ---- safetensors ----

def _safetensors(path: str, handle: BoundedFile, size: int, first: bytes) -> WeightFile:
    """The 8-byte little-endian header length (``first``), then that many bytes of JSON."""
    if size < 8:
        return _error(path, "safetensors", f"not a safetensors file: {size} bytes, shorter "
                      "than the 8-byte header length")
    length = int.from_bytes(first, "little")
    if length > size - 8:
        return _error(path, "safetensors", f"not a complete safetensors file: its header is "
                      f"{length:,} bytes, the file has {size - 8:,} after the length")
    if length > READ_LIMIT - 8:
        return _unchecked(path, "safetensors", f"a safetensors header of {length:,} bytes, "
                          f"more than check reads ({READ_LIMIT - 8:,})", "a safetensors file")
    try:
        handle.seek(8)
        header = json.loads(handle.read(length).decode("utf-8"))
    except (ValueError, RecursionError) as error:
        return _error(path, "safetensors", f"not a safetensors file: its header is not JSON "
                      f"({str(error)[:120]})")
    if not isinstance(header, dict):
        return _error(path, "safetensors", "not a safetensors file: its header is not a "
                      "JSON object")
    tensors, problem = _safetensors_tensors(header, size - 8 - length)
    if problem:
        return _error(path, "safetensors", f"a damaged safetensors file: {problem}")
    return WeightFile(path, "safetensors", "ok", "a safetensors file", tensors)


def _safetensors_tensors(header: dict, data_bytes: int):
    tensors: dict[str, TensorInfo] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        problem = _safetensors_entry(entry, data_bytes)
        if problem:
            return {}, f"tensor {name!r} {problem}"
        tensors[name] = TensorInfo(tuple(entry["shape"]),
                                   SAFETENSORS_DTYPES.get(entry["dtype"], entry["dtype"]))
    return tensors, None


def _safetensors_entry(entry, data_bytes: int) -> str | None:
    """Why a header entry is not a tensor of the data that follows the header, if it is not."""
    if not isinstance(entry, dict) or not isinstance(entry.get("dtype"), str):
        return "has no dtype"
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not _sizes(shape) or not _sizes(offsets) or len(offsets) != 2:
        return f"has shape {shape!r} and data_offsets {offsets!r}, not lists of sizes"
    begin, end = offsets
    if not begin <= end <= data_bytes:
        return f"lies at bytes {begin}..{end}, past the {data_bytes:,} bytes of data"
    item = ITEM_BYTES.get(SAFETENSORS_DTYPES.get(entry["dtype"], ""))
    count = 1
    for dim in shape:
        count *= dim
    if item is not None and count * item != end - begin:
        return f"of shape {shape} ({entry['dtype']}) needs {count * item:,} bytes, has " \
               f"{end - begin:,}"
    return None


def _sizes(value) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)


# ---- torch.save's zip archives ----

def _torch_zip(path: str, handle: BoundedFile, size: int) -> WeightFile:
    try:
        with zipfile.ZipFile(handle) as archive:
            return _torch_archive(path, archive, handle)
    except (ReadLimit, zipfile.BadZipFile, EOFError, ValueError, NotImplementedError,
            RuntimeError, zlib.error) as error:
        if handle.left <= 0 or isinstance(error, ReadLimit):  # a short read at the cap
            return _unchecked(path, "torch zip", f"a zip archive whose directory and data.pkl "
                              f"are more than check reads ({handle.limit:,} bytes)")
        return _error(path, "torch zip", f"not a complete zip archive ({size:,} bytes; "
                      f"{str(error)[:120] or type(error).__name__}): the copy or the save "
                      "was cut off, or the file is damaged")


def _torch_archive(path: str, archive: zipfile.ZipFile, handle: BoundedFile) -> WeightFile:
    names = archive.namelist()
    if any(name.endswith("/constants.pkl") for name in names):
        return _unchecked(path, "unknown", "a TorchScript archive (torch.jit.save), which "
                          "check does not look into")
    pickles = [name for name in names if name.count("/") == 1 and name.endswith("/data.pkl")]
    if len(pickles) != 1:
        return _unchecked(path, "unknown", "a zip archive without one data.pkl: not a file "
                          "torch.save wrote")
    info = archive.getinfo(pickles[0])
    if info.file_size > READ_LIMIT // 2:
        return _unchecked(path, "torch zip", f"its data.pkl is {info.file_size:,} bytes, more "
                          f"than check reads ({READ_LIMIT // 2:,})")
    data = _member_bytes(handle, info, READ_LIMIT // 2)
    if data is None:
        return _unchecked(path, "torch zip", f"its data.pkl is stored with zip method "
                          f"{info.compress_type}, which check does not read")
    try:
        obj, storages = unpickle(data)
    except Exception as error:  # noqa: BLE001 - any failure of a damaged pickle: one message
        return _error(path, "torch zip", f"its data.pkl is not a pickle torch could load "
                      f"({type(error).__name__}: {str(error)[:160]})")
    return _from_pickle(path, archive, pickles[0].rpartition("/")[0], obj, storages)


def _member_bytes(handle: BoundedFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """A member's bytes (at most ``limit`` + 1) read as torch's reader does: where the local
    header says, without comparing its name or CRC with the directory's (zipfile would refuse
    a file torch loads); None for a compression check does not read."""
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no local header for {info.filename}")
    skip = int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    handle.seek(info.header_offset + 30 + skip)
    if info.compress_type == zipfile.ZIP_STORED:
        return handle.read(min(info.compress_size, limit + 1))
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return zlib.decompressobj(-15).decompress(handle.read(min(info.compress_size, limit)),
                                                  limit + 1)
    return None


def _from_pickle(path, archive, prefix, obj, storages) -> WeightFile:
    located = find_state_dict(obj, lambda v: isinstance(v, TensorRecord))
    if located is None:
        return _unchecked(path, "torch zip", f"a torch.save file that {contents(obj)}")
    problem = _storage_problem(archive, prefix, storages) or _tensor_problem(located.tensors)
    if problem:
        return _error(path, "torch zip", f"a damaged torch.save file: {problem}")
    unknown = [name for name, t in located.tensors.items() if t.shape is None]
    if unknown:
        return _unchecked(path, "torch zip", f"tensors check cannot describe without torch "
                          f"(quantized, sparse or subclassed), such as {unknown[0]!r}",
                          located.kind)
    tensors = {name: TensorInfo(t.shape, t.dtype) for name, t in located.tensors.items()}
    return WeightFile(path, "torch zip", "ok", located.kind, tensors,
                      state_key=located.key)


def _storage_problem(archive: zipfile.ZipFile, prefix: str, storages) -> str | None:
    """Whether each storage the pickle uses is in the archive, at least as big as it says (by
    the directory: the data itself is not read)."""
    for ref in storages.values():
        try:
            stored = archive.getinfo(f"{prefix}/data/{ref.key}").file_size
        except KeyError:
            return f"storage {ref.key} is not in the archive"
        if ref.nbytes is not None and stored < ref.nbytes:  # torch reads the first nbytes
            return f"storage {ref.key} is {stored:,} bytes, its tensors need {ref.nbytes:,}"
    return None


def _tensor_problem(tensors: dict) -> str | None:
    for name, record in tensors.items():
        problem = record.problem()
        if problem:
            return f"tensor {name!r} {problem}"
    return None

