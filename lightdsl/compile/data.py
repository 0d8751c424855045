"""Build stage for data: a checked ``data`` block -> datasets in memory and their loaders.

Loads the source through its registry target, carves ``split(...)`` sets, fits transforms on
the training split only, and batches in-memory tensors by slicing (the trainer's fast path), or
through a DataLoader when workers are asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch

from ..checker.binding import Bound
from ..checker.data import DataInfo, source_values
from ..data import Dataset, augmentation, check_labels, fit_transforms, load_inline, split
from ..errors import ConfigError
from ..runtime.transforms import to_float
from ..vocab import REGISTRY
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


WHY = "num_classes is the width of the model's output (its last layer)"


def class_index_loss(name: str | None) -> bool:
    """Whether the loss ``name`` reads class indices into the model's output (dimension 1)."""
    entry = REGISTRY.get("loss", name) if name else None
    return entry is not None and entry.labels == "index"


def load_data(info: DataInfo, spec_dir: str, num_classes: int | None = None) -> DataBundle:
    """Load, split and transform the data of a checked ``data`` block.

    ``num_classes`` (see :func:`class_count`): every loaded source's labels must be class
    indices below it, checked before any split so that a bad label is reported at its file and
    row. Without it, the data block's ``num_classes`` bounds integer labels (float labels are
    then regression targets).
    """
    values = info.settings.values
    check = partial(_checked, num_classes=num_classes, floats=True)
    if num_classes is None:
        check = partial(_checked, num_classes=values.get("num_classes"), floats=False)
    if info.source is None:
        train = check(load_inline(values["inputs"], values["labels"]))
    else:
        train = check(_load_source(info.source, spec_dir))
    sets: dict[str, Dataset | None] = {"val": None, "test": None}
    for key in ("val", "test"):
        bound = getattr(info, key)
        if bound is not None and bound.entry.kind == "split":
            train, sets[key] = split(train, **bound.values)
        elif bound is not None:
            sets[key] = check(_load_source(bound, spec_dir))
    steps = [(b.entry.name, dict(b.values)) for b in info.transforms]
    train, sets, fitted = fit_transforms(train, sets, steps)
    train, sets = _to_float(train), {k: _to_float(v) for k, v in sets.items()}
    return DataBundle(train, sets["val"], sets["test"], fitted, augmentation(steps), dict(values))


def class_count(run) -> int | None:
    """The number of classes where data meets the model: the width of the model's output
    (its last dimension: (N, C), or (N, T, C) for a sequence) for a class-index loss, else
    None."""
    shape = run.output_shape
    if run.loss is None or run.loss.entry.labels != "index" or not shape:
        return None
    width = shape[-1] if len(shape) >= 2 else None
    return width if isinstance(width, int) else None


def check_output_classes(module, bundle: DataBundle) -> None:
    """For a class-index loss whose output width the checker could not know (data of unknown
    shape: npz, pt, a header-less CSV), measure it on two training samples and check every
    split's labels against it (:func:`check_labels`, rows located through the splits)."""
    if not class_index_loss(getattr(module, "loss_name", None)):
        return
    from ..trainer.data import widened

    was_training = module.training
    module.eval()  # a probe, not a training step: batch norm's running statistics stay as built
    with torch.no_grad():
        output = module(widened(bundle.train.inputs[:2]))
    module.train(was_training)
    if output.dim() < 2:
        return  # the loss itself will say what it expects
    for dataset in (bundle.train, bundle.val, bundle.test):
        if dataset is not None:
            _checked(dataset, output.shape[-1], floats=True)


def _load_source(bound: Bound, spec_dir: str) -> Dataset:
    return resolve(bound.entry.target)(**source_values(bound, spec_dir))


def _checked(dataset: Dataset, num_classes: int | None, floats: bool) -> Dataset:
    """``dataset``, after checking its class labels when the number of classes is known;
    float labels only when ``floats`` (a class-index loss: they must be integers then)."""
    labels = dataset.labels
    if num_classes is None or labels is None or (labels.is_floating_point() and not floats):
        return dataset
    check_labels(dataset, num_classes, WHY if floats else "num_classes is the data block's")
    return dataset


def _to_float(dataset: Dataset | None) -> Dataset | None:
    """uint8 images become floats in [0, 1] (as torchvision's ToTensor) if no transform did."""
    if dataset is None or dataset.inputs.dtype != torch.uint8:
        return dataset
    return dataset.with_inputs(to_float(dataset.inputs))


def make_loader(dataset: Dataset, settings: dict[str, Any], *, train: bool):
    """In-memory slicing batches, or a DataLoader when ``num_workers`` > 0."""
    from ..trainer.data import InMemoryLoader, widening_collate

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
            pin_memory=settings.get("pin_memory", False), collate_fn=widening_collate)
    return InMemoryLoader(dataset.tensors, batch_size=batch_size, shuffle=shuffle,
                          drop_last=drop_last)
