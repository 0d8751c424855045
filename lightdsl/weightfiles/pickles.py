"""What a ``torch.save`` pickle holds, read without torch and without running anything in it.

A checkpoint's ``data.pkl`` names functions for the unpickler to call: torch's tensor rebuild
functions, storage classes, ``collections.OrderedDict``. :class:`ShapeUnpickler` maps exactly
those names to stubs that only record a tensor's size, stride and dtype (storages come from
``persistent_load`` as records of their dtype and element count, never read); every other name
becomes an :class:`Opaque` placeholder that accepts whatever the pickle does to it and runs
nothing. So a pickle that names ``os.system`` or ``builtins.eval`` gets a placeholder back: the
function is never looked up, let alone called.
"""

from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass

#: element sizes in bytes of the dtypes torch saves, by torch's name without ``torch.``
ITEM_BYTES = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4,
    "int16": 2, "int8": 1, "uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8, "bool": 1,
    "complex128": 16, "complex64": 8, "complex32": 4, "float8_e4m3fn": 1, "float8_e5m2": 1,
    "float8_e4m3fnuz": 1, "float8_e5m2fnuz": 1, "float8_e8m0fnu": 1, "qint8": 1, "quint8": 1,
    "qint32": 4,
}
#: torch's legacy storage classes (``torch.FloatStorage``...) and the dtype each holds
STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32",
}
#: the other spellings of dtypes a pickle may name (``torch.float`` is ``torch.float32``)
_DTYPE_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                  "int": "int32", "short": "int16", "cfloat": "complex64",
                  "cdouble": "complex128", "chalf": "complex32"}


class Malformed(ValueError):
    """A pickle that torch could not load either: a tensor record with impossible values."""


@dataclass(frozen=True)
class StorageRef:
    """A storage a tensor views: its dtype (None for an untyped storage: bytes) and size."""

    key: str
    dtype: str | None
    numel: int  # elements of ``dtype``; bytes for an untyped storage

    @property
    def nbytes(self) -> int | None:
        if self.dtype is None:
            return self.numel
        size = ITEM_BYTES.get(self.dtype)
        return None if size is None else self.numel * size


@dataclass(frozen=True)
class TensorRecord:
    """A tensor as the pickle describes it; ``shape`` None where inspection cannot tell it
    (quantized, sparse, nested or subclassed tensors: torch checks those at train time)."""

    shape: tuple[int, ...] | None
    dtype: str | None
    storage: StorageRef | None = None
    offset: int = 0
    stride: tuple[int, ...] = ()

    def problem(self) -> str | None:
        """Why torch could not rebuild this tensor from its storage, if it could not."""
        if self.storage is None or self.shape is None or self.dtype is None:
            return None
        size = ITEM_BYTES.get(self.dtype)
        if size is None or 0 in self.shape:
            return None
        last = self.offset + sum((d - 1) * s for d, s in zip(self.shape, self.stride))
        have = self.storage.nbytes
        need = (last + 1) * size
        if have is not None and need > have:
            return (f"views {need:,} bytes of storage {self.storage.key}, which holds "
                    f"{have:,}")
        return None


class _DType(str):
    """A dtype the pickle named (``torch.float16``): its name."""


class _StorageType:
    def __init__(self, dtype: str | None):
        self.dtype = dtype


class Opaque:
    """Whatever the pickle built from a name inspection does not know: it records the name and
    takes items, appends and state without keeping or running anything."""

    qualname = "?"

    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __setitem__(self, key, value):
        pass

    def append(self, value):
        pass

    def extend(self, values):
        pass

    def __repr__(self) -> str:
        return f"<{self.qualname}, not rebuilt>"


def _ints(value, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise Malformed(f"a tensor's {what} is {value!r}, not a tuple of sizes")
    return tuple(value)


def _tensor(storage, offset, size, stride, dtype=None) -> TensorRecord:
    if not isinstance(storage, StorageRef):
        raise Malformed("a tensor is built from something that is not a storage")
    shape, strides = _ints(size, "size"), _ints(stride, "stride")
    if len(shape) != len(strides) or not isinstance(offset, int) or offset < 0:
        raise Malformed(f"a tensor of size {shape} has stride {strides} and offset {offset!r}")
    dtype = dtype if isinstance(dtype, _DType) else storage.dtype
    return TensorRecord(shape, None if dtype is None else str(dtype), storage, offset, strides)


def _rebuild_tensor_v2(storage, offset, size, stride, *rest, **kwargs):
    return _tensor(storage, offset, size, stride)


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad=False, hooks=None,
                       dtype=None, *rest, **kwargs):
    return _tensor(storage, offset, size, stride, dtype)


def _rebuild_parameter(data, *rest, **kwargs):
    return data  # a Parameter's data: the tensor record itself


def _rebuild_meta(dtype=None, size=(), *rest, **kwargs):
    return TensorRecord(_ints(size, "size"), str(dtype) if isinstance(dtype, _DType) else None)


def _unknown_tensor(*args, **kwargs):
    return TensorRecord(None, None)  # quantized, sparse, nested...: torch knows its shape


def _rebuild_from_type(func, new_type, args=(), state=None, *rest):
    """A tensor subclass (Parameter included) saved as its plain tensor plus its type."""
    if func in (_rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter) and \
            isinstance(args, tuple):
        return func(*args)
    return TensorRecord(None, None)


def _encode(text, encoding="utf-8", *rest):
    """``_codecs.encode``: how protocol 2 pickles ``bytes``; only text codecs."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "ascii"):
        raise Malformed(f"_codecs.encode of {type(text).__name__} with {encoding!r}")
    return text.encode(encoding)


_TORCH_UTILS = {
    "_rebuild_tensor_v2": _rebuild_tensor_v2, "_rebuild_tensor_v3": _rebuild_tensor_v3,
    "_rebuild_parameter": _rebuild_parameter, "_rebuild_parameter_with_state": _rebuild_parameter,
    "_rebuild_meta_tensor_no_storage": _rebuild_meta,
    **dict.fromkeys(("_rebuild_qtensor", "_rebuild_sparse_tensor", "_rebuild_nested_tensor",
                     "_rebuild_wrapper_subclass", "_rebuild_device_tensor_from_numpy",
                     "_rebuild_device_tensor_from_cpu_tensor", "_rebuild_tensor"),
                    _unknown_tensor),
}
_KNOWN = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
    ("torch.storage", "UntypedStorage"): _StorageType(None),
    ("torch", "UntypedStorage"): _StorageType(None),
    ("torch", "Size"): tuple,
    ("_codecs", "encode"): _encode,
    **{(module, name): kind for module in ("builtins", "__builtin__")
       for name, kind in (("set", set), ("frozenset", frozenset), ("complex", complex))},
    **{("torch._utils", name): stub for name, stub in _TORCH_UTILS.items()},
    **{("torch", name): _StorageType(dtype) for name, dtype in STORAGE_DTYPES.items()},
}


def _dtype_global(module: str, name: str) -> _DType | None:
    if module != "torch":
        return None
    name = _DTYPE_ALIASES.get(name, name)
    return _DType(name) if name in ITEM_BYTES else None


class ShapeUnpickler(pickle.Unpickler):
    """Unpickles a ``torch.save`` pickle into plain containers, :class:`TensorRecord` stubs and
    :class:`Opaque` placeholders; calls nothing the file names but the stubs above."""

    def __init__(self, data: bytes):
        super().__init__(io.BytesIO(data))
        self.storages: dict[str, StorageRef] = {}
        self._opaque: dict[str, type] = {}

    def find_class(self, module: str, name: str):
        known = _KNOWN.get((module, name))
        if known is not None:
            return known
        dtype = _dtype_global(module, name)
        if dtype is not None:
            return dtype
        qualname = f"{module}.{name}"
        if qualname not in self._opaque:  # a type: the NEWOBJ opcode needs one
            self._opaque[qualname] = type("Opaque", (Opaque,), {"qualname": qualname})
        return self._opaque[qualname]

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and isinstance(pid[4], int) and pid[4] >= 0):
            raise Malformed(f"a persistent id that is not a storage: {str(pid)[:80]}")
        ref = StorageRef(pid[2], pid[1].dtype, pid[4])
        self.storages.setdefault(ref.key, ref)
        return ref


def unpickle(data: bytes) -> tuple[object, dict[str, StorageRef]]:
    """The object ``data`` pickles (as stubs and placeholders) and the storages it uses; raises
    :class:`Malformed` (or whatever a damaged pickle makes ``pickle`` raise)."""
    reader = ShapeUnpickler(data)
    return reader.load(), reader.storages
