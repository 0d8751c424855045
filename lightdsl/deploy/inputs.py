"""Reading new inputs for ``predict``: CSV, .npz or .pt, through the spec's fitted transforms.

The inputs go through the same steps as the training data (``normalize``/``standardize`` with
the statistics fitted on the training split, ``flatten``, uint8 images to [0, 1]), and are
checked against the sample shape the model was trained on: a wrong width is a DataError naming
the file, never a shape error from deep inside torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from lightdsl.data import Dataset
from lightdsl.data.csvfile import first_row, is_number, load_csv
from lightdsl.data.sources import load_npz, load_pt
from lightdsl.data.transforms import apply_transforms
from lightdsl.errors import DataError, UsageError
from lightdsl.vocab import REGISTRY

READERS = {".csv": "csv", ".npz": "npz", ".pt": "pt", ".pth": "pt"}


def read_inputs(path: str, trained, key: str = "x") -> torch.Tensor:
    """The model-ready inputs in ``path`` (one row per sample)."""
    suffix = Path(path).suffix.lower()
    if suffix not in READERS:
        raise UsageError(f"--input {path}: unknown file type {suffix or '(none)'!r}",
                         hint="use a .csv, .npz or .pt file")
    if not Path(path).is_file():
        raise UsageError(f"--input {path}: no such file")
    inputs = _read(READERS[suffix], path, trained, key)
    entries = {name: REGISTRY.get("transform", name) for name, _ in trained.data.fitted_steps}
    steps = [(name, args) for name, args in trained.data.fitted_steps
             if entries[name].labels != "one_hot"]  # transforms of labels: new inputs have none
    shape = trained.data.train.sample_shape
    if not any(entries[name].reshape for name, _ in steps):  # they see the trained shape
        inputs = fit_sample_shape(inputs, shape, path)
    inputs = apply_transforms(Dataset(inputs, source=path), steps).inputs
    if inputs.dtype == torch.uint8:
        inputs = inputs.float().div_(255)
    return fit_sample_shape(inputs.float(), shape, path)


def _read(kind: str, path: str, trained, key: str) -> torch.Tensor:
    if kind == "csv":
        return read_csv_inputs(path, training_columns(trained))
    if kind == "npz":
        return load_npz(path, inputs=key, labels=None).inputs
    return load_pt(path, inputs=key, labels=None).inputs


@dataclass
class Columns:
    """The columns of the spec's training CSV: all of them, the features (in the model's
    order), the label, and how the file was read."""

    names: list[str]
    features: list[str]
    label: str | None
    delimiter: str = ","
    header: bool = True

    def positions(self) -> list[int]:
        return [self.names.index(name) for name in self.features]


def training_columns(trained) -> Columns | None:
    """The training CSV's columns, read from its first row; None when the spec's source is
    not a CSV file."""
    from lightdsl.checker.data import source_values

    experiment = trained.experiment
    source = experiment.run.data.source
    if source is None or source.entry.name != "csv":
        return None
    values = source_values(source, experiment.spec_dir)
    delimiter, header = values.get("delimiter", ","), values.get("header", True)
    first = first_row(values["path"], delimiter)
    names = first if header else [str(i) for i in range(len(first))]
    label = values.get("label")
    label = None if label is None else names[_index(names, label)]
    features = values.get("features")
    features = ([names[_index(names, f)] for f in features] if features is not None
                else [n for n in names if n != label])
    return Columns(names, features, label, delimiter, header)


def _index(names: list[str], key) -> int:
    return key % len(names) if isinstance(key, int) else names.index(str(key))


def read_csv_inputs(path: str, columns: Columns | None) -> torch.Tensor:
    """The feature columns of a CSV of new inputs; its header is optional.

    A first row that names the training features is a header: columns are then taken by
    name (any order; others, such as the label, are left out). A first row of numbers (in
    the feature positions) is data: the file has no header, and its columns are the training
    file's, with or without the label column. Any other first row is a header that does not
    match the training columns: a DataError, never a row dropped unseen.
    """
    delimiter = columns.delimiter if columns else ","
    first = first_row(path, delimiter)
    if columns is not None and columns.header and set(columns.features) <= set(first):
        return load_csv(path, features=columns.features, delimiter=delimiter).inputs
    positions = _positions(len(first), columns)
    if all(is_number(first[i]) for i in positions):
        return load_csv(path, features=positions, delimiter=delimiter, header=False).inputs
    if columns is not None and columns.header:
        missing = [name for name in columns.features if name not in first]
        raise DataError(
            f"the header lacks the training feature column{'s' * (len(missing) > 1)} "
            f"{', '.join(map(repr, missing))} (the model was trained on "
            f"{', '.join(columns.features)})",
            path=path,
            where="1",
            hint="name the columns as in the training CSV, or give the rows without a header",
        )
    return load_csv(path, features=positions, delimiter=delimiter).inputs


def _positions(width: int, columns: Columns | None) -> list[int]:
    """The feature columns of a row ``width`` wide: the training positions when the row is as
    wide as the training file (label column included), else every column."""
    if columns is not None and width == len(columns.names) and width > len(columns.features):
        return columns.positions()
    return list(range(width))


def fit_sample_shape(inputs: torch.Tensor, shape: tuple[int, ...], path: str) -> torch.Tensor:
    """``inputs`` with each sample in the trained ``shape``; a flat row of the right number of
    values is reshaped (a 784-column CSV for 1x28x28 images). Anything else is a DataError."""
    got = tuple(inputs.shape[1:])
    if got == shape:
        return inputs
    if math.prod(got) == math.prod(shape):
        return inputs.reshape(len(inputs), *shape)
    raise DataError(
        f"each sample has {_describe(got)}, but the model was trained on samples of "
        f"{_describe(shape)}",
        path=path,
        hint="give the same columns (features) as the training data, in the same order",
    )


def _describe(shape: tuple[int, ...]) -> str:
    if not shape:
        return "1 value"
    if len(shape) == 1:
        return f"{shape[0]} value{'s' if shape[0] != 1 else ''}"
    return f"shape {tuple(shape)} ({math.prod(shape)} values)"
