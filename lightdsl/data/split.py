"""Carving a validation (or test) set out of a dataset: deterministic, stratified for classes."""

from __future__ import annotations

import torch

from lightdsl.data.dataset import Dataset
from lightdsl.errors import DataError


def split(
    dataset: Dataset, fraction: float, seed: int = 0, stratify: bool = True
) -> tuple[Dataset, Dataset]:
    """Split ``dataset`` into ``(train, val)`` with ``round(fraction * N)`` samples in ``val``.

    With integer class labels and ``stratify`` (the default) every class is split in the same
    proportion (largest-remainder rounding, so the total is exact); otherwise samples are drawn
    at random. The same ``seed`` gives the same split; both parts keep the original order.
    """
    n = len(dataset)
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, (int, float))
        or not (0 < fraction < 1)
    ):
        raise DataError(
            f"split fraction must be between 0 and 1 (exclusive), got {fraction!r}",
            path=dataset.source,
        )
    if n < 2:
        raise DataError(f"cannot split {n} sample(s) into two non-empty parts", path=dataset.source)
    n_val = min(max(round(fraction * n), 1), n - 1)
    generator = torch.Generator().manual_seed(int(seed))
    if stratify and dataset.is_classification:
        in_val = _stratified_mask(dataset.labels, n_val, generator)
    else:
        in_val = torch.zeros(n, dtype=torch.bool)
        in_val[torch.randperm(n, generator=generator)[:n_val]] = True
    train = dataset.subset(torch.nonzero(~in_val).squeeze(1), note="train split")
    val = dataset.subset(torch.nonzero(in_val).squeeze(1), note=f"split {fraction:g}")
    return train, val


def class_quotas(counts: torch.Tensor, n_val: int) -> torch.Tensor:
    """How many samples of each class go to validation: proportional, summing to ``n_val``."""
    exact = counts.double() * n_val / counts.sum()
    quota = exact.floor().long()
    short = n_val - int(quota.sum())
    if short > 0:  # largest remainders first; ties go to the lower class index
        order = torch.argsort(quota.double() - exact, stable=True)
        quota[order[:short]] += 1
    return quota


def _stratified_mask(labels: torch.Tensor, n_val: int, generator: torch.Generator) -> torch.Tensor:
    """A boolean mask of the validation samples, vectorised: no loop over samples or classes."""
    _, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    quota = class_quotas(counts, n_val)
    shuffled = torch.randperm(len(labels), generator=generator)
    grouped = shuffled[torch.argsort(inverse[shuffled], stable=True)]  # by class, random within
    starts = torch.cumsum(counts, 0) - counts
    group = inverse[grouped]
    rank = torch.arange(len(labels)) - starts[group]
    in_val = torch.zeros(len(labels), dtype=torch.bool)
    in_val[grouped[rank < quota[group]]] = True
    return in_val
