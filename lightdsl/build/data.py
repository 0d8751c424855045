"""Build stage for data: a checked ``data`` block -> datasets in memory and their loaders.

Loads the source through its registry target, carves ``split(...)`` sets, fits transforms on
the training split only, and batches in-memory tensors by slicing (the trainer's fast path), or
through a DataLoader when workers are asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..checker.binding import Bound
from ..checker.data import DataInfo, source_values
from ..data import Dataset, augmentation, check_labels, fit_transforms, load_inline, split
from ..errors import ConfigError
from .resolve import resolve


@dataclass
class DataBundle:
    """The data of one run: datasets after transforms, and how to batch them."""

    train: Dataset
    val: Dataset | None = None
    test: Dataset | None = None
    fitted_steps: list = field(default_factory=list)
    augment: Callable | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> list[str] | None:
        return self.train.classes


def load_data(info: DataInfo, spec_dir: str) -> DataBundle:
    """Load, split and transform the data of a checked ``data`` block."""
    values = info.settings.values
    if info.source is None:
        train = load_inline(values["inputs"], values["labels"])
    else:
        train = _load_source(info.source, spec_dir)
    sets: dict[str, Dataset | None] = {"val": None, "test": None}
    for key in ("val", "test"):
        bound = getattr(info, key)
        if bound is not None and bound.entry.kind == "split":
            train, sets[key] = split(train, **bound.values)
        elif bound is not None:
            sets[key] = _load_source(bound, spec_dir)
    steps = [(b.entry.name, dict(b.values)) for b in info.transforms]
    train, sets, fitted = fit_transforms(train, sets, steps)
    train, sets = _to_float(train), {k: _to_float(v) for k, v in sets.items()}
    _check_classes(values.get("num_classes"), train, *sets.values())
    return DataBundle(train, sets["val"], sets["test"], fitted, augmentation(steps), dict(values))


def _load_source(bound: Bound, spec_dir: str) -> Dataset:
    return resolve(bound.entry.target)(**source_values(bound, spec_dir))


def _to_float(dataset: Dataset | None) -> Dataset | None:
    """uint8 images become floats in [0, 1] (as torchvision's ToTensor) if no transform did."""
    if dataset is None or dataset.inputs.dtype != torch.uint8:
        return dataset
    return dataset.with_inputs(dataset.inputs.float().div_(255))


def _check_classes(num_classes, *datasets: Dataset | None) -> None:
    if num_classes is None:
        return
    for dataset in datasets:
        if dataset is not None and dataset.labels is not None \
                and not dataset.labels.is_floating_point():
            check_labels(dataset, num_classes)


def make_loader(dataset: Dataset, settings: dict[str, Any], *, train: bool):
    """In-memory slicing batches, or a DataLoader when ``num_workers`` > 0."""
    from ..trainer.data import InMemoryLoader

    batch_size = settings.get("batch_size", 32)
    if not isinstance(batch_size, int):
        raise ConfigError("batch_size = auto is chosen by the batch-size finder before "
                          "training; `lightdsl train` and Experiment.fit() run it",
                          hint="from Python: lightdsl.tuner.apply_batch_size(experiment), "
                          "or `lightdsl tune-batch-size spec.lit`")
    shuffle = settings.get("shuffle", True) if train else settings.get("val_shuffle", False)
    drop_last = settings.get("drop_last", False) if train else False
    if settings.get("num_workers", 0) > 0:
        return torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(*dataset.tensors), batch_size=batch_size,
            shuffle=shuffle, drop_last=drop_last, num_workers=settings["num_workers"],
            pin_memory=settings.get("pin_memory", False))
    return InMemoryLoader(dataset.tensors, batch_size=batch_size, shuffle=shuffle,
                          drop_last=drop_last)
