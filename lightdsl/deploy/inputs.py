"""Reading new inputs for ``predict``: CSV, .npz or .pt, through the spec's fitted transforms.

The inputs go through the same steps as the training data (``normalize``/``standardize`` with
the statistics fitted on the training split, ``flatten``, uint8 images to [0, 1]), and are
checked against the sample shape the model was trained on: a wrong width is a DataError naming
the file, never a shape error from deep inside torch.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from lightdsl.data import Dataset
from lightdsl.data.csvfile import load_csv
from lightdsl.data.sources import load_npz, load_pt
from lightdsl.data.transforms import apply_transforms
from lightdsl.errors import DataError, UsageError

READERS = {".csv": "csv", ".npz": "npz", ".pt": "pt", ".pth": "pt"}
LABEL_ONLY_STEPS = {"one_hot"}  # transforms of labels: new inputs have none


def read_inputs(path: str, trained, key: str = "x") -> torch.Tensor:
    """The model-ready inputs in ``path`` (one row per sample)."""
    suffix = Path(path).suffix.lower()
    if suffix not in READERS:
        raise UsageError(f"--input {path}: unknown file type {suffix or '(none)'!r}",
                         hint="use a .csv, .npz or .pt file")
    if not Path(path).is_file():
        raise UsageError(f"--input {path}: no such file")
    inputs = _read(READERS[suffix], path, trained, key)
    steps = [(name, args) for name, args in trained.data.fitted_steps
             if name not in LABEL_ONLY_STEPS]
    shape = trained.data.train.sample_shape
    if "flatten" not in [name for name, _ in steps]:  # transforms see the trained shape
        inputs = fit_sample_shape(inputs, shape, path)
    inputs = apply_transforms(Dataset(inputs, source=path), steps).inputs
    if inputs.dtype == torch.uint8:
        inputs = inputs.float().div_(255)
    return fit_sample_shape(inputs.float(), shape, path)


def _read(kind: str, path: str, trained, key: str) -> torch.Tensor:
    if kind == "csv":
        label = _training_label_column(trained)
        try:
            return load_csv(path, label=label).inputs
        except DataError as error:
            if label is None or "label" not in str(error):
                raise
            return load_csv(path).inputs  # the file has no label column: all are features
    if kind == "npz":
        return load_npz(path, inputs=key, labels=None).inputs
    return load_pt(path, inputs=key, labels=None).inputs


def _training_label_column(trained) -> str | None:
    """The label column of the spec's CSV source, dropped if the input file has it too."""
    source = trained.experiment.run.data.source
    if source is None or source.entry.name != "csv":
        return None
    return source.values.get("label")


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
