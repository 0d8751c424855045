"""Carving a validation (or test) set out of a dataset: deterministic, stratified for classes."""

from __future__ import annotations

import torch

from lightdsl.data.dataset import Dataset
from lightdsl.errors import DataError
from lightdsl.runtime.data import class_quotas, validation_count, validation_mask

__all__ = ["class_quotas", "split"]


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
    in_val = validation_mask(n, validation_count(n, fraction), dataset.labels, seed, stratify)
    train = dataset.subset(torch.nonzero(~in_val).squeeze(1), note="train split")
    val = dataset.subset(torch.nonzero(in_val).squeeze(1), note=f"split {fraction:g}")
    return train, val
