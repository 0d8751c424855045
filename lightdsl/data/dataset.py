"""The in-memory dataset every source returns, and checks on its labels and sample shape."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from lightdsl.errors import DataError
from lightdsl.runtime.data import as_inputs, as_labels, class_indices
from lightdsl.suggest import did_you_mean


@dataclass
class Dataset:
    """Samples held as whole tensors: one row of ``inputs`` (and ``labels``) per sample.

    ``inputs`` is float32, or uint8 for images (shape ``(N, C, H, W)``) until ``to_float`` or
    ``normalize`` converts them. ``labels`` is int64 for class labels, float32 for regression
    targets, or ``None``. A text file's characters (inputs and labels) are int16 indices (two
    bytes a character, not eight): the loaders widen each batch to int64. ``classes`` holds
    the class names when labels were strings (label ``i`` means ``classes[i]``). ``source`` describes where the data came from and prefixes messages;
    ``labels_source`` does the same for label problems when labels came from another file.
    ``lines`` holds, for data read from a text file (CSV), the 1-based line of each sample as an
    editor shows it (header counted), and ``origin`` (after a split) each sample's index in the
    file, so that messages point at the sample in the file.
    """

    inputs: torch.Tensor
    labels: torch.Tensor | None = None
    classes: list[str] | None = None
    source: str = "data"
    labels_source: str | None = None
    lines: list[int] | None = None
    origin: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.inputs.dim() == 0:
            raise DataError(
                "inputs must have one row per sample, got a single scalar", path=self.source
            )
        if self.labels is not None and self.labels.dim() == 0:
            raise DataError(
                f"the labels are a single scalar ({self.labels.item():g}), not one label per "
                "sample", path=self.labels_source or self.source,
                hint="save the labels as an array with one row per input sample",
            )
        if self.labels is not None and len(self.labels) != len(self.inputs):
            raise DataError(
                f"{len(self.inputs)} input samples but {len(self.labels)} labels",
                path=self.source,
                hint="inputs and labels must have the same number of rows",
            )

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one input sample, e.g. ``(1, 28, 28)``."""
        return tuple(self.inputs.shape[1:])

    @property
    def tensors(self) -> tuple[torch.Tensor, ...]:
        """``(inputs, labels)``, or ``(inputs,)`` without labels: what a batch loader slices."""
        return (self.inputs,) if self.labels is None else (self.inputs, self.labels)

    @property
    def is_classification(self) -> bool:
        """True when labels are integer class indices, one per sample."""
        return (
            self.labels is not None
            and self.labels.dtype == torch.int64
            and (self.labels.dim() == 1)
        )

    def subset(self, index: torch.Tensor, note: str = "") -> Dataset:
        """The samples at ``index`` (a 1-D index tensor), as a new Dataset."""
        windows = _windows(self.inputs, self.labels)
        if windows is not None:  # text: one copy of each window serves inputs and labels
            rows = windows[index]
            return self._subset(index, note, rows[:, :-1], rows[:, 1:])
        labels = None if self.labels is None else self.labels[index]
        return self._subset(index, note, self.inputs[index], labels)

    def _subset(self, index: torch.Tensor, note: str, inputs: torch.Tensor,
                labels: torch.Tensor | None) -> Dataset:
        source = f"{self.source} [{note}]" if note else self.source
        lines = None if self.lines is None else [self.lines[i] for i in index.tolist()]
        origin = index if self.origin is None else self.origin[index]
        return replace(self, inputs=inputs, labels=labels, source=source,
                       labels_source=self.labels_source or self.source, lines=lines,
                       origin=origin)

    def locate(self, index: int) -> str:
        """Where sample ``index`` is in its file, as messages say it: its line (CSV), else
        ``index N`` (0-based, in the file even after a split)."""
        if self.lines is not None:
            return str(self.lines[index])
        return f"index {index if self.origin is None else int(self.origin[index])}"

    def with_inputs(self, inputs: torch.Tensor) -> Dataset:
        """The same dataset with ``inputs`` replaced (used by transforms)."""
        return replace(self, inputs=inputs)


def _windows(inputs: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor | None:
    """(N, L + 1) windows when ``labels`` are ``inputs`` shifted by one in the same memory
    (:func:`lightdsl.runtime.text.text_windows`, or an earlier subset of it), else None."""
    if labels is None or inputs.dim() != 2 or labels.shape != inputs.shape \
            or labels.stride() != inputs.stride() or inputs.stride(1) != 1 \
            or labels.untyped_storage().data_ptr() != inputs.untyped_storage().data_ptr() \
            or labels.storage_offset() != inputs.storage_offset() + 1:
        return None
    rows, width = inputs.shape
    return inputs.as_strided((rows, width + 1), inputs.stride(), inputs.storage_offset())


def check_labels(dataset: Dataset, num_classes: int, why: str | None = None) -> None:
    """Raise DataError unless every label is a class index in ``0 .. num_classes - 1``.

    The one check of class labels for every source (CSV, IDX, arrays, built-in sets): integer
    labels out of range, and 1-D float labels (NaN, inf, fractions, huge values) are refused
    naming the label file and the sample (its CSV line, else its index). Float labels of two
    or more dimensions are class probabilities (soft targets) and are left alone. ``why``
    says where ``num_classes`` comes from (in the hint).
    """
    labels = dataset.labels
    where = dataset.labels_source or dataset.source
    if labels is None:
        raise DataError("the data has no labels", path=where)
    if labels.is_floating_point() and labels.dim() > 1:
        return
    if not labels.is_floating_point() and (len(labels) == 0 or 0 <= int(labels.min())
                                           and int(labels.max()) < num_classes):
        return  # all good: no per-label temporaries (a text file's labels are 8 B a char)
    bad = ((labels < 0) | (labels >= num_classes)).reshape(len(labels), -1).any(dim=1)
    if labels.is_floating_point():
        bad |= ~(torch.isfinite(labels) & (labels == labels.round()))
    if bool(bad.any()):
        index = int(bad.nonzero()[0, 0])
        count = int(bad.sum())
        raise DataError(
            f"{_bad_label(labels[index], num_classes, dataset.classes)} "
            f"(num_classes = {num_classes})"
            + (f"; {count} labels are bad" if count > 1 else ""),
            path=where,
            where=dataset.locate(index),
            hint="class labels are integers 0 .. num_classes - 1" + (f"; {why}" if why else ""),
        )
    if labels.is_floating_point():
        raise DataError(
            f"class labels must be integers, got {_dtype_name(labels)} values "
            f"such as {labels[0].item():g}",
            path=where,
            where=dataset.locate(0),
            hint="use a regression loss, or integer class labels",
        )


def _bad_label(value: torch.Tensor, num_classes: int, classes: list[str] | None) -> str:
    if classes and value.dim() == 0 and not value.is_floating_point():
        return (f"label {int(value)} ({classes[int(value)]!r}, one of {len(classes)} class "
                f"names) is outside 0..{num_classes - 1}")
    if value.is_floating_point():
        number = value.item()
        if not math.isfinite(number) or number != round(number):
            return f"label {number:g} is not a class index (an integer 0..{num_classes - 1})"
        return f"label {number:g} is outside 0..{num_classes - 1}"
    return f"label {value.tolist()} is outside 0..{num_classes - 1}"


def check_shape(dataset: Dataset, shape: Sequence[int | None]) -> None:
    """Raise DataError unless each sample has ``shape`` (``None`` matches any size)."""
    actual = dataset.sample_shape
    ok = len(actual) == len(shape) and all(e is None or e == a for e, a in zip(shape, actual))
    if not ok:
        raise DataError(
            f"samples have shape {_fmt_shape(actual)}, expected {_fmt_shape(shape)}",
            path=dataset.source,
            hint="check the image size, or add flatten() / a reshape to the model",
        )


def inputs_tensor(array: np.ndarray | torch.Tensor, source: str) -> torch.Tensor:
    """Inputs as float32, keeping uint8 (images) as they are."""
    if isinstance(array, np.ndarray) and array.dtype.kind not in "biuf":
        raise DataError(f"inputs must be numbers, got numpy dtype {array.dtype}", path=source)
    tensor = torch.as_tensor(array) if isinstance(array, np.ndarray) else array
    if tensor.dtype.is_complex:
        raise DataError(f"inputs must be real numbers, got {_dtype_name(tensor)}", path=source)
    return as_inputs(tensor)


def labels_tensor(array, source: str) -> tuple[torch.Tensor, list[str] | None]:
    """Labels as int64 (classes) or float32 (targets); strings become indices into a class list."""
    if isinstance(array, np.ndarray) and array.dtype.kind in "US":
        return encode_classes(array.astype(str))
    if isinstance(array, np.ndarray) and array.dtype.kind not in "biuf":
        raise DataError(
            f"labels must be numbers or strings, got numpy dtype {array.dtype}", path=source
        )
    tensor = torch.as_tensor(array) if isinstance(array, np.ndarray) else array
    if tensor.dtype.is_complex:
        raise DataError(f"labels must be real numbers, got {_dtype_name(tensor)}", path=source)
    _check_int64_range(tensor, source)
    return as_labels(tensor), None


INT64_MAX = 2**63 - 1


def _check_int64_range(tensor: torch.Tensor, source: str) -> None:
    """uint64 labels above 2**63 - 1 would wrap round to negative int64 ones: say the value
    as it is in the file instead."""
    if tensor.dtype != getattr(torch, "uint64", None) or tensor.numel() == 0:
        return
    values = tensor.reshape(-1).numpy()
    too_large = np.flatnonzero(values > INT64_MAX)
    if too_large.size:
        index = int(too_large[0])
        raise DataError(
            f"index {index}: label {int(values[index])} (uint64) is too large for a class "
            "label: labels are read as int64, at most 2**63 - 1",
            path=source,
            hint="class labels are integers 0 .. num_classes - 1",
        )


def encode_classes(names: np.ndarray) -> tuple[torch.Tensor, list[str]]:
    """Map string labels to int64 indices into their sorted unique names."""
    return class_indices(names)


def name_hint(name: str, choices: Sequence[str]) -> str | None:
    """A "did you mean ...?" hint for a misspelt name, or else a list of the choices."""
    meant = did_you_mean(name, choices, lead="")
    if meant:
        return meant
    return "available: " + ", ".join(repr(c) for c in choices) if choices else None


def _dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def _fmt_shape(shape: Sequence[int | None]) -> str:
    return "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
