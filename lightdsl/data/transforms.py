"""Transforms on whole in-memory tensors, and random augmentations applied per batch.

Deterministic transforms (``to_float``, ``normalize``, ``standardize``, ``flatten``,
``one_hot``) run once on a whole Dataset. Their statistics are fitted on the training split only
(:func:`fit_transforms`) and the fitted values are returned, so validation, test and ``predict``
use the same numbers. Random augmentations (``random_crop``, ``random_flip``) run on each
training batch, on its device, with a ``torch.Generator``: vectorised, no per-sample Python.

Which function applies a step, which fits it and whether it is an augmentation are facts of
the step's vocabulary entry (``target``, ``fit``, ``augment``): there is no list of names here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import torch

from lightdsl.data.dataset import Dataset, check_labels, name_hint
from lightdsl.errors import DataError
from lightdsl.runtime import transforms as rt
from lightdsl.vocab.registry import REGISTRY, Entry, resolve

Stat = float | list
AUTO = "auto"


def to_float(dataset: Dataset) -> Dataset:
    """uint8 images -> float32 in [0, 1] (``x / 255``, as torchvision's ToTensor); floats as is."""
    return dataset.with_inputs(rt.to_float(dataset.inputs))


def normalize_stats(dataset: Dataset) -> tuple[Stat, Stat]:
    """Mean and std (population) of the inputs after ``to_float``: per channel (dim 1) for
    inputs of 3 or more dims, e.g. images, else one number for everything."""
    return rt.normalize_stats(dataset.inputs)


def normalize(dataset: Dataset, mean: Stat | str = AUTO, std: Stat | str = AUTO) -> Dataset:
    """``(x - mean) / std`` after ``to_float``, one number or one per channel (dim 1).

    ``mean``/``std`` of ``"auto"`` are computed from ``dataset`` itself; to use the training
    split's statistics for the other splits, go through :func:`fit_transforms`.
    """
    mean, std = _fill_auto(dataset, mean, std)
    _check_per_channel(mean, "mean", dataset)
    if bool((_check_per_channel(std, "std", dataset) <= 0).any()):
        raise DataError(f"normalize: std must be positive, got {std}", path=dataset.source)
    return dataset.with_inputs(rt.normalize(dataset.inputs, mean, std))


def standardize_stats(dataset: Dataset) -> tuple[list, list]:
    """Per-feature mean and std over the samples (std 0, a constant feature, becomes 1)."""
    return rt.standardize_stats(dataset.inputs)


def standardize(dataset: Dataset, mean: Stat | str = AUTO, std: Stat | str = AUTO) -> Dataset:
    """Tabular standardisation: each feature to mean 0 and std 1 (statistics per feature)."""
    mean, std = _fill_auto(dataset, mean, std, standardize_stats)
    for name, value in (("mean", mean), ("std", std)):
        t = torch.as_tensor(value, dtype=torch.float32)
        if t.dim() and tuple(t.shape) != dataset.sample_shape:
            raise DataError(
                f"standardize: {name} has shape {tuple(t.shape)}, samples have "
                f"{dataset.sample_shape}",
                path=dataset.source,
            )
    return dataset.with_inputs(rt.standardize(dataset.inputs, mean, std))


def flatten(dataset: Dataset) -> Dataset:
    """Each sample to one dimension: ``(N, C, H, W)`` -> ``(N, C*H*W)``."""
    return dataset.with_inputs(rt.flatten(dataset.inputs))


def one_hot(dataset: Dataset, num_classes: int | None = None) -> Dataset:
    """Integer class labels -> float32 one-hot rows; ``num_classes`` defaults to the number of
    class names, else the largest label + 1."""
    if dataset.labels is None or not dataset.is_classification:
        raise DataError("one_hot needs integer class labels", path=dataset.source)
    if num_classes is None:
        num_classes = _infer_classes(dataset)
    check_labels(dataset, num_classes)
    return replace(dataset, labels=rt.one_hot(dataset.labels, num_classes))


def random_crop(
    batch: torch.Tensor,
    size: int | Sequence[int],
    padding: int = 0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A random ``size`` crop of each sample (last two dims) after zero ``padding``; one
    offset per sample, drawn on the batch's device. Vectorised with two gathers."""
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    big_h, big_w = batch.shape[-2] + 2 * padding, batch.shape[-1] + 2 * padding
    if h > big_h or w > big_w:
        raise DataError(
            f"random_crop: size {h}x{w} is larger than the padded image {big_h}x{big_w}"
        )
    return rt.random_crop(batch, size, padding, generator)


def random_flip(
    batch: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Flip each sample left-right (last dim) with probability ``p``, on the batch's device."""
    return rt.random_flip(batch, p, generator)


# --- fitting a list of transform steps ------------------------------------------------------

Step = tuple[str, Mapping] | str


def fit_normalize(train: Dataset, mean=AUTO, std=AUTO) -> dict:
    """normalize's arguments with ``"auto"`` statistics computed on ``train``."""
    mean, std = _fill_auto(train, mean, std)
    return {"mean": mean, "std": std}


def fit_standardize(train: Dataset, mean=AUTO, std=AUTO) -> dict:
    """standardize's arguments with ``"auto"`` statistics computed on ``train``."""
    mean, std = _fill_auto(train, mean, std, standardize_stats)
    return {"mean": mean, "std": std}


def fit_one_hot(train: Dataset, num_classes: int | None = None) -> dict:
    """one_hot's arguments with ``num_classes`` inferred from ``train`` when unset."""
    return {"num_classes": num_classes if num_classes is not None else _infer_classes(train)}


def fit_transforms(
    train: Dataset, others: Mapping[str, Dataset | None], steps: Sequence[Step]
) -> tuple[Dataset, dict[str, Dataset | None], list[tuple[str, dict]]]:
    """Apply ``steps`` in order, fitting each one's statistics on ``train`` only.

    ``steps`` are ``(name, kwargs)`` pairs or bare names; augmentations are skipped here (see
    :func:`augmentation`). Returns the transformed train set, the transformed ``others`` (same
    keys; ``None`` stays ``None``) and the fitted steps, with every ``"auto"`` replaced by numbers,
    for :func:`apply_transforms` at predict time.
    """
    others = dict(others)
    fitted = []
    for name, args in map(_normalise_step, steps):
        entry = _lookup(name)
        if entry.augment:
            continue
        apply = resolve(entry.target)
        args = resolve(entry.fit)(train, **args) if entry.fit else args
        train = apply(train, **args)
        others = {key: None if ds is None else apply(ds, **args) for key, ds in others.items()}
        fitted.append((name, args))
    return train, others, fitted


def apply_transforms(dataset: Dataset, steps: Sequence[Step]) -> Dataset:
    """Apply already fitted steps (as returned by :func:`fit_transforms`) to new data."""
    for name, args in map(_normalise_step, steps):
        entry = _lookup(name)
        if entry.augment:
            continue
        if any(_is_auto(v) for k, v in args.items() if k in ("mean", "std")):
            raise DataError(f"{name}: 'auto' statistics must be fitted first (fit_transforms)")
        dataset = resolve(entry.target)(dataset, **args)
    return dataset


def augmentation(steps: Sequence[Step]) -> Callable[..., torch.Tensor] | None:
    """The random augmentations among ``steps`` as one function ``augment(batch, generator)``
    for training batches, or None when there are none."""
    named = [(_lookup(name), args) for name, args in map(_normalise_step, steps)]
    chosen = [(resolve(entry.target), args) for entry, args in named if entry.augment]
    if not chosen:
        return None

    def augment(batch: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for fn, args in chosen:
            batch = fn(batch, **args, generator=generator)
        return batch

    return augment


def _normalise_step(step: Step) -> tuple[str, dict]:
    return (step, {}) if isinstance(step, str) else (step[0], dict(step[1]))


def _lookup(name: str) -> Entry:
    """The vocabulary entry of transform ``name``; a DataError for an unknown one."""
    entry = REGISTRY.get("transform", name)
    if entry is None:
        hint = name_hint(name, REGISTRY.names("transform"))
        raise DataError(f"unknown transform {name!r}", hint=hint)
    return entry


def _fill_auto(dataset: Dataset, mean, std, stats=None) -> tuple[Stat, Stat]:
    """Replace ``"auto"`` (or None) by statistics computed on ``dataset``."""
    if _is_auto(mean) or _is_auto(std):
        m, s = (stats or normalize_stats)(dataset)
        mean = m if _is_auto(mean) else mean
        std = s if _is_auto(std) else std
    return mean, std


def _is_auto(value) -> bool:
    return value is None or (isinstance(value, str) and value == AUTO)


def _check_per_channel(value: Stat, name: str, dataset: Dataset) -> torch.Tensor:
    """``value`` as a tensor; a DataError unless it is one number or one per channel."""
    t = torch.as_tensor(value, dtype=torch.float32)
    x = dataset.inputs
    if t.numel() == 1:
        return t
    if x.dim() < 2 or t.dim() != 1 or len(t) != x.shape[1]:
        raise DataError(
            f"normalize: {name} has {t.numel()} values, but the inputs have "
            f"{x.shape[1] if x.dim() > 1 else 1} channels (dim 1)",
            path=dataset.source,
        )
    return t


def _infer_classes(dataset: Dataset) -> int:
    if dataset.classes:
        return len(dataset.classes)
    if dataset.labels is None or not len(dataset.labels):
        raise DataError("one_hot: cannot infer num_classes without labels", path=dataset.source)
    return int(dataset.labels.max()) + 1
