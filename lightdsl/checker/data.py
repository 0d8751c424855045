"""Checks of ``data`` blocks: sources, inline data, splits, transforms and loader settings.

The result, :class:`DataInfo`, tells the train checks the per-sample input shape and what the
labels are, as far as that is known without loading anything.
"""

from __future__ import annotations

import os
from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..frontend.files import file_kind
from ..frontend.records import Struct
from ..install import extra_command, installed
from ..vocab.registry import REGISTRY
from ..vocab.shapes import Labels, Shape, ShapeError, numel
from ..vocab.types import CallValue, Symbol
from .binding import Bound, bind_call, bind_settings, lookup
from .constants import INVALID, any_invalid
from .models import tensor_shape


class DataInfo(Struct):
    """A checked data block: its bound settings and sources, and what the checker learnt of
    its samples (shape, labels, dtype)."""

    def __init__(self, node: n.DataDef, settings: Bound, source: Bound | None = None,
                 val: Bound | None = None, test: Bound | None = None,
                 transforms: list[Bound] | None = None, sample_shape: Shape = None,
                 labels: Labels | None = None, input_dtype: str | None = None,
                 label_items: list[tuple[int, Any]] | None = None):
        self.node, self.settings = node, settings
        self.source, self.val, self.test = source, val, test  # source None: inline data
        self.transforms = [] if transforms is None else transforms
        self.sample_shape = sample_shape
        self.labels = Labels() if labels is None else labels
        # "float" (images, CSV features, inline numbers with a fraction), "int" (inline
        # integers: indices for an embedding) or None (unknown until loaded)
        self.input_dtype = input_dtype
        # inline integer labels (one per sample) with where each was written, for range checks
        self.label_items = [] if label_items is None else label_items

    @property
    def name(self) -> str:
        return self.node.name.id

    @property
    def has_val(self) -> bool:
        return self.val is not None


def check_data(data: n.DataDef, reporter: Reporter, spec_dir: str) -> DataInfo:
    entry = REGISTRY.get("settings", "data")
    settings = bind_settings(entry, data.settings, {}, reporter, "data", data.span)
    info = DataInfo(data, settings)
    values = settings.values
    if values["source"] is not None and values["source"] is not INVALID:
        info.source = _source(values["source"], settings.span_of("source"), "source", reporter,
                              spec_dir)
        if info.source:
            info.sample_shape, info.labels = _sample(info.source, spec_dir, reporter)
            info.input_dtype = info.source.entry.input_dtype
        _no_inline_with_source(settings, reporter)
    else:
        _inline(info, reporter)
    downloads = info.source is not None and info.source.values.get("download") is True
    for key in ("val", "test"):
        value = values[key]
        if isinstance(value, (Symbol, CallValue)):
            setattr(info, key, _source(value, settings.span_of(key), key, reporter,
                                       None if downloads else spec_dir, split_ok=True))
    _override_classes(info)
    _check_label_range(info, reporter)
    for call in data.calls:
        _transform(call, info, reporter)
    return info


def _source(value, span, key: str, reporter: Reporter, spec_dir: str,
            split_ok=False) -> Bound | None:
    if isinstance(value, Symbol):  # a bare name: a source without arguments, e.g. `digits`
        value = CallValue(value.name, n.Call(span=span, func=n.Name(span=span, id=value.name)))
    call = value.node
    if split_ok and call.func.id == "split":
        return bind_call(REGISTRY.get("split", "split"), call, {}, reporter)
    entry = lookup("source", call.func, reporter, "data source")
    if entry is None:
        return None
    bound = bind_call(entry, call, {}, reporter)
    _warn_missing_files(bound, reporter, spec_dir)
    _warn_missing_dataset(bound, reporter, spec_dir)
    _warn_missing_package(bound, reporter)
    return bound


def source_values(bound: Bound, spec_dir: str) -> dict:
    """A source's arguments with its file paths resolved as the loader will open them:
    ``~`` expanded, relative paths taken from the spec's folder."""
    values = dict(bound.values)
    for key in bound.entry.paths:
        if isinstance(values.get(key), str):
            values[key] = os.path.join(spec_dir, os.path.expanduser(values[key]))
    return values


def _warn_missing_files(bound: Bound, reporter: Reporter, spec_dir: str) -> None:
    if bound.values.get("download") is True or spec_dir is None:
        return  # the loader (of this set or of the training set) downloads what is missing
    if bound.entry.files is not None:
        return  # a data set's folder: _warn_missing_dataset names the files and what to do
    resolved = source_values(bound, spec_dir)
    for key in bound.entry.paths:
        path = bound.values.get(key)
        kind = file_kind(resolved[key]) if isinstance(path, str) else None
        if kind is not None:  # a FIFO or device would hang or flood the loader
            reporter.error("data", bound.span_of(key), f'"{path}" is {kind}, not a file',
                           hint=f"{key} must name a regular file")
        elif isinstance(path, str) and not os.path.exists(resolved[key]):
            reporter.warning("missing-file", bound.span_of(key), f'"{path}" does not exist '
                             "(relative paths are resolved from the spec's folder)")


def torchvision_installed() -> bool:
    """Whether torchvision is installed, without importing it (that would import torch)."""
    return installed("torchvision")


def _vision() -> str:
    """How to install the vision extra, as this installation takes it."""
    return f"install lightdsl[vision] ({extra_command('vision')})"


def _warn_missing_package(bound: Bound, reporter: Reporter) -> None:
    """A source whose loader needs a package that is not installed (digits: scikit-learn):
    found without importing it, so that check stays fast and torch-free."""
    needed = bound.entry.needs_package
    if needed is not None and not installed(needed[0]):
        reporter.warning("missing-package", bound.span, f"the {bound.name} source needs "
                         f"{needed[1]}, which is not installed",
                         hint=f"pip install {needed[1]}")


def _warn_missing_dataset(bound: Bound, reporter: Reporter, spec_dir: str | None) -> None:
    """A data set source (mnist, cifar10...) whose files are not where the loader looks, and
    that cannot be downloaded either: a warning saying where to put them."""
    files = bound.entry.files
    if files is None or spec_dir is None or any_invalid(bound.values.values()):
        return
    values = source_values(bound, spec_dir)
    folder, missing = files(values)
    vision, download = torchvision_installed(), values.get("download") is True
    where = bound.span_of("download" if download else "root")
    if bound.entry.needs_torchvision and not vision:
        reporter.warning("missing-file", where, f"the {bound.name} source needs torchvision, "
                         "which is not installed", hint=_vision() + (
                             "" if download or not missing else f", and set download = true "
                             f"({_lacking(folder, missing)})"))
        return
    if not missing or (download and vision):
        return
    lacking = _lacking(folder, missing)
    if download:
        reporter.warning("missing-file", where, f"download = true needs torchvision, which is "
                         f"not installed, and {lacking}", hint=f"{_vision()}, or place the "
                         f"{bound.name} {values['split']} files (gzipped or not) in "
                         f"{_shown(folder)}{os.sep}")
    else:
        reporter.warning("missing-file", where, f"{bound.name} {values['split']} split: "
                         f"{lacking}", hint=f"place the files (gzipped or not) in "
                         f"{_shown(folder)}{os.sep}, or {_vision()} and set download = true")


def _lacking(folder: str, missing: list[str]) -> str:
    """What is missing: files of the folder, or the folder itself (CIFAR-10's)."""
    if missing == [os.path.basename(folder)]:
        return f"{_shown(folder)}{os.sep} does not exist"
    return f"{_shown(folder)}{os.sep} has no {' or '.join(missing)}"


def _shown(path: str) -> str:
    """A resolved path as the user can find it: relative to the working folder if inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative


def _sample(bound: Bound, spec_dir: str, reporter: Reporter) -> tuple[Shape, Labels]:
    """What the source's registry entry can tell without loading (file headers at most)."""
    if any_invalid(bound.values.values()):
        return None, Labels()
    try:
        return bound.entry.sample(source_values(bound, spec_dir))
    except ShapeError as error:
        reporter.error("data", bound.span_of(error.arg), error.message.replace(spec_dir + os.sep, ""))
        return None, Labels()


def _no_inline_with_source(settings: Bound, reporter: Reporter) -> None:
    for key in ("inputs", "labels"):
        if key in settings.nodes:
            reporter.error("structure", settings.nodes[key].span,
                           f'"{key}" cannot be combined with "source"; use one or the other')


def _inline(info: DataInfo, reporter: Reporter) -> None:
    settings = info.settings
    inputs, labels = settings.values["inputs"], settings.values["labels"]
    if "inputs" not in settings.nodes:
        reporter.error("structure", info.node.name.span, f"data {info.name} has no data: set "
                       "`source = ...` or inline `inputs = [...]` and `labels = [...]`")
        return
    input_shape = _inline_shape(inputs, "inputs", settings, reporter)
    info.sample_shape = input_shape[1:] if input_shape else None
    if input_shape:
        info.input_dtype = "int" if _all_ints(inputs) else "float"
    if "labels" not in settings.nodes or labels is INVALID:
        return
    label_shape = _inline_shape(labels, "labels", settings, reporter)
    if input_shape and label_shape and label_shape[0] != input_shape[0]:
        reporter.error("value", settings.nodes["labels"].span, f"{label_shape[0]} labels for "
                       f"{input_shape[0]} inputs; give one label per input")
    if label_shape:
        info.labels = _inline_labels(labels, label_shape)
        info.label_items = _label_items(labels, settings.nodes["labels"])


def _all_ints(value) -> bool:
    if isinstance(value, list):
        return all(_all_ints(v) for v in value)
    return isinstance(value, int) and not isinstance(value, bool)


def _label_items(labels: list, node: n.Node) -> list[tuple[int, Any]]:
    """Integer labels written as a list literal, each with its span."""
    if not isinstance(node, n.ListExpr) or len(node.items) != len(labels):
        return []
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in labels):
        return []
    return [(value, item.span) for value, item in zip(labels, node.items)]


def _check_label_range(info: DataInfo, reporter: Reporter) -> None:
    """With ``num_classes`` set, every inline class label must be one of them (the loader
    refuses the data otherwise)."""
    classes = info.settings.values.get("num_classes")
    if not isinstance(classes, int) or isinstance(classes, bool):
        return
    for value, span in info.label_items:
        if not 0 <= value < classes:
            reporter.error("label-range", span, f"label {value} is outside 0..{classes - 1} "
                           f"(num_classes = {classes})",
                           hint="class labels are indices 0 .. num_classes - 1")


def _inline_shape(value: Any, key: str, settings: Bound, reporter: Reporter):
    if value is INVALID:
        return None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return (len(value),)  # class names as labels
    shape = tensor_shape(value)
    if shape is None or shape == ():
        reporter.error("type", settings.nodes[key].span, f'"{key}" must be a non-empty, '
                       "rectangular list (of lists) of numbers")
    return shape


def _inline_labels(labels: list, shape) -> Labels:
    flat = labels if len(shape) == 1 else []
    if flat and all(isinstance(v, str) for v in flat):
        return Labels("class", (None,), len(set(flat)))
    if flat and all(isinstance(v, int) and not isinstance(v, bool) for v in flat):
        return Labels("class", (None,), max(flat) + 1)
    return Labels("float", (None, *shape[1:]))


def _one_hot_range(info: DataInfo, classes, reporter: Reporter) -> None:
    if not isinstance(classes, int) or isinstance(classes, bool):
        return
    for value, span in info.label_items:
        if not 0 <= value < classes:
            reporter.error("label-range", span, f"one_hot cannot encode label {value}: the "
                           f"classes are 0..{classes - 1}")


def _override_classes(info: DataInfo) -> None:
    classes = info.settings.values.get("num_classes")
    if isinstance(classes, int) and not isinstance(classes, bool):
        info.labels = Labels("class", info.labels.shape or (None,), classes)


def _transform(call: n.Call, info: DataInfo, reporter: Reporter) -> None:
    entry = lookup("transform", call.func, reporter)
    if entry is None:
        return
    bound = bind_call(entry, call, {}, reporter)
    info.transforms.append(bound)
    if entry.reshape == "flatten" and info.sample_shape is not None:
        info.sample_shape = (numel(info.sample_shape),)
    if entry.labels == "one_hot":
        classes = bound.values.get("num_classes") or info.labels.num_classes
        _one_hot_range(info, classes, reporter)
        info.labels = Labels("float", (None, classes), classes)
