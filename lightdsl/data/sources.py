"""Data sources: one function per source, keyword arguments named as in the spec language.

Every function returns a :class:`~lightdsl.data.dataset.Dataset` held in memory and raises
:class:`~lightdsl.errors.DataError` naming the file and the row or index for bad data.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch

from lightdsl.data.csvfile import load_csv
from lightdsl.data.dataset import Dataset, inputs_tensor, labels_tensor, name_hint
from lightdsl.data.idx import load_idx
from lightdsl.data.vision import load_cifar10, load_fashion_mnist, load_kmnist, load_mnist
from lightdsl.errors import DataError
from lightdsl.runtime import data as runtime_data

__all__ = [
    "SOURCES",
    "load_cifar10",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_idx",
    "load_inline",
    "load_kmnist",
    "load_mnist",
    "load_npy",
    "load_npz",
    "load_pt",
]


def load_inline(inputs: list, labels: list | None = None) -> Dataset:
    """Samples written in the spec: a list of numbers, or nested lists for multi-dim samples.

    ``inline([0.0, 0.5, 1.0], [0.0, 1.0, 0.0])`` gives inputs and labels of shape ``(3,)``.
    Integer labels are class indices, float labels regression targets, strings class names.
    """
    x = _inline_array(inputs, "inputs")
    if x.dtype.kind not in "biuf":
        raise DataError("inline inputs must be numbers", path="inputs")
    if labels is None:
        return Dataset(inputs_tensor(x, "inputs"), source="inline data")
    y, classes = labels_tensor(_inline_array(labels, "labels"), "labels")
    if len(y) != len(x):
        raise DataError(
            f"{len(x)} inputs but {len(y)} labels",
            path="inline data",
            hint="give one label per input sample",
        )
    return Dataset(inputs_tensor(x, "inputs"), y, classes, source="inline data")


def _inline_array(values, name: str) -> np.ndarray:
    if not isinstance(values, (list, tuple)) or not values:
        raise DataError(f"{name} must be a non-empty list", path=name)
    problem = _ragged(values, name)
    if problem:
        raise DataError(problem, path="inline data", hint="every sample must have the same shape")
    return np.array(values)


def _ragged(values, name: str) -> str | None:
    """Describe the first element whose nesting or length differs from element 0."""
    first = values[0]
    for i, item in enumerate(values):
        nested = isinstance(item, (list, tuple))
        if nested != isinstance(first, (list, tuple)):
            return f"{name}[{i}] is {'a list' if nested else 'a number'} but {name}[0] is not"
        if nested and len(item) != len(first):
            return f"{name}[{i}] has {len(item)} values, {name}[0] has {len(first)}"
    if isinstance(first, (list, tuple)):
        for i, item in enumerate(values):
            problem = _ragged(item, f"{name}[{i}]") if item else None
            if problem:
                return problem
    return None


def load_npz(path: str | Path, inputs: str = "x", labels: str | None = "y") -> Dataset:
    """Arrays from a NumPy ``.npz`` archive, by key (``labels=None`` for no labels)."""
    source = str(path)
    data = _np_load(path)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise DataError(
            "this is a single .npy array, not an .npz archive",
            path=source,
            hint="use npy(path = ...) for .npy files",
        )
    with data:
        try:
            x = _key(data, inputs, source)
            y = None if labels is None else _key(data, labels, source)
        except (ValueError, OSError, zipfile.BadZipFile) as err:
            raise DataError(
                f"cannot read as a NumPy file ({_first_line(err)})", path=source
            ) from err
    return _from_arrays(x, y, source)


def load_npy(path: str | Path, labels_path: str | Path | None = None) -> Dataset:
    """Inputs from one ``.npy`` file and, optionally, labels from another."""
    x = _npy(path)
    y = None if labels_path is None else _npy(labels_path)
    dataset = _from_arrays(x, y, str(path))
    dataset.labels_source = None if labels_path is None else str(labels_path)
    return dataset


def load_pt(path: str | Path, inputs: str = "x", labels: str | None = "y") -> Dataset:
    """Tensors saved with ``torch.save``: a dict (by key), an ``(inputs, labels)`` pair, or one
    tensor (then ``labels`` must be None). Loaded with ``weights_only=True``: no code runs."""
    source = str(path)
    _require_file(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as err:
        raise DataError(f"cannot read as a torch file ({_first_line(err)})", path=source) from err
    if isinstance(obj, dict):
        x = _key(obj, inputs, source)
        y = None if labels is None else _key(obj, labels, source)
    elif isinstance(obj, (tuple, list)) and len(obj) in (1, 2):
        x, y = obj[0], (obj[1] if len(obj) == 2 else None)
    elif isinstance(obj, torch.Tensor):
        if labels is not None:
            raise DataError(
                "the file holds one tensor, so it has no labels",
                path=source,
                hint="set labels = none, or save a dict {'x': ..., 'y': ...}",
            )
        x, y = obj, None
    else:
        raise DataError(
            f"expected a dict of tensors, a pair or a tensor, found {type(obj).__name__}",
            path=source,
        )
    return _from_arrays(_array_like(x, source), _array_like(y, source), source)


def load_digits() -> Dataset:
    """scikit-learn's bundled 8x8 handwritten digits: inputs (1797, 1, 8, 8) float32 in 0..16,
    labels int64 0..9. Needs scikit-learn, no download."""
    try:
        inputs, labels = runtime_data.load_digits()
    except ImportError as err:
        raise DataError(
            "the digits source needs scikit-learn, which is not installed",
            hint="pip install scikit-learn",
        ) from err
    return Dataset(inputs, labels, source="digits (scikit-learn)")


def _from_arrays(x, y, source: str) -> Dataset:
    inputs = inputs_tensor(x, source)
    if inputs.dim() == 0:
        raise DataError("inputs must have one row per sample, got a scalar", path=source)
    if y is None:
        return Dataset(inputs, source=source)
    labels, classes = labels_tensor(y, source)
    return Dataset(inputs, labels, classes, source=source)


def _array_like(value, source: str):
    if value is None or isinstance(value, (torch.Tensor, np.ndarray)):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return np.array(value)
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as err:
        raise DataError(f"cannot use {type(value).__name__} as data ({err})", path=source) from err


def _key(container, key: str, source: str):
    keys = list(container.keys()) if hasattr(container, "keys") else list(container.files)
    if key not in keys:
        raise DataError(
            f"no array named {key!r} in the file",
            path=source,
            hint=name_hint(key, [str(k) for k in keys]),
        )
    return container[key]


def _npy(path: str | Path) -> np.ndarray:
    data = _np_load(path)
    if isinstance(data, np.lib.npyio.NpzFile):
        data.close()
        raise DataError(
            "this is an .npz archive, not a single .npy array",
            path=str(path),
            hint="use npz(path = ..., inputs = ..., labels = ...)",
        )
    return data


def _np_load(path: str | Path):
    _require_file(path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(
            f"cannot read as a NumPy file ({_first_line(err)})", path=str(path)
        ) from err


def _require_file(path: str | Path) -> None:
    if not Path(path).is_file():
        raise DataError("file not found", path=str(path))


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


#: Source name in the spec language -> loader function.
SOURCES = {
    "inline": load_inline,
    "csv": load_csv,
    "npz": load_npz,
    "npy": load_npy,
    "pt": load_pt,
    "idx": load_idx,
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "kmnist": load_kmnist,
    "cifar10": load_cifar10,
    "digits": load_digits,
}
