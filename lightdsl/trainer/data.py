"""Batches on the fast path: :class:`InMemoryLoader`, and helpers for any other iterable.

A dataset that fits in memory is moved to the device once and cut into batches by index slicing;
there is no per-sample Python and no host-to-device copy per step. Anything else (a
``torch.utils.data.DataLoader`` with workers, pinned memory, ...) is iterated as it is and each
batch is moved to the device as it arrives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import torch

from lightdsl.errors import ConfigError
from lightdsl.runtime import schedule


@dataclasses.dataclass(eq=False)
class InMemoryLoader:
    """Batches of ``tensors`` (all with the same first dimension), sliced on their own device.

    With ``shuffle``, each epoch uses a permutation drawn from a generator seeded with
    ``seed + epoch``, so the order depends only on the seed and the epoch number: a run resumed
    at epoch 3 sees exactly the batches an uninterrupted run would. ``seed=None`` lets the trainer
    choose one (its ``seed``, or a fresh one recorded in the checkpoint); used alone it means 0.

    Under DDP, :meth:`shard` gives rank ``rank`` of ``world_size`` positions ``rank, rank + W,
    ...`` of each epoch's order (padded by wrapping around to a multiple of W when ``pad``), the
    rule of ``torch.utils.data.DistributedSampler``; see :mod:`lightdsl.trainer.distributed`.
    """

    tensors: tuple[torch.Tensor, ...]
    batch_size: int = 32
    shuffle: bool = False
    seed: int | None = None
    drop_last: bool = False
    epoch: int = 0
    rank: int = 0
    world_size: int = 1
    pad: bool = True

    def __post_init__(self) -> None:
        self.tensors = tensors = tuple(self.tensors)
        if not tensors or not all(isinstance(t, torch.Tensor) and t.dim() > 0 for t in tensors):
            raise ConfigError("InMemoryLoader needs a non-empty tuple of tensors with a batch dim")
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ConfigError(f"InMemoryLoader tensors differ in length: {sorted(sizes)}")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int):
            raise ConfigError(f"batch_size={self.batch_size!r} is not an integer")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size={self.batch_size} must be >= 1")
        self._narrow = any(t.dtype in NARROW_INTEGERS for t in tensors)  # compact text indices

    @property
    def num_samples(self) -> int:
        """How many samples this loader yields per epoch (this rank's share under DDP)."""
        total = len(self.tensors[0])
        if self.world_size == 1:
            return total
        if self.pad:
            return -(-total // self.world_size)
        return len(range(self.rank, total, self.world_size))

    def __len__(self) -> int:
        return schedule.num_batches(self.num_samples, self.batch_size, self.drop_last)

    def set_epoch(self, epoch: int) -> None:
        """Choose which epoch's permutation the next iteration uses."""
        self.epoch = epoch

    def to(self, device: torch.device | str, float_dtype: torch.dtype | None = None):
        """A loader whose tensors live on ``device`` (floating ones cast to ``float_dtype``).

        Returns a new loader, like ``Tensor.to``: the caller's loader is left as it was.
        """
        moved = tuple(schedule.tensor_to(t, device, float_dtype) for t in self.tensors)
        return dataclasses.replace(self, tensors=moved)

    def shard(self, rank: int, world_size: int, pad: bool = True):
        """This rank's share of every epoch (the same tensors, not copied)."""
        return dataclasses.replace(self, rank=rank, world_size=world_size, pad=pad)

    def with_seed(self, seed: int):
        """A loader with ``seed`` as its shuffle seed (the same tensors, not copied)."""
        return dataclasses.replace(self, seed=seed)

    def _order(self) -> torch.Tensor | None:
        """This epoch's sample indices (None: all samples in their stored order)."""
        total = len(self.tensors[0])
        if not self.shuffle and self.world_size == 1:
            return None
        if self.shuffle:
            order = schedule.shuffled_order(total, (self.seed or 0) + self.epoch)
        else:
            order = torch.arange(total)
        if self.world_size > 1:
            if self.pad:  # wrap around so that every rank gets the same number of samples
                padded = self.num_samples * self.world_size
                order = order.repeat(-(-padded // total))[:padded]
            order = order[self.rank :: self.world_size]
        return order.to(self.tensors[0].device)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        batches = schedule.slice_batches(self.tensors, self._order(), self.batch_size, len(self))
        if not self._narrow:
            # the batches' own generator, not one wrapping it: a layer less on every batch
            return batches
        return (tuple(widened(t) for t in batch) for batch in batches)


NARROW_INTEGERS = (torch.int8, torch.int16, torch.int32)  # not uint8: images, made float


def widened(tensor: torch.Tensor) -> torch.Tensor:
    """Compactly stored indices (a text file's characters, int16) as the int64 that
    embeddings and class-index losses take; any other tensor as it is."""
    return tensor.long() if tensor.dtype in NARROW_INTEGERS else tensor


def widening_collate(samples):
    """A DataLoader's collate (``num_workers`` > 0) that widens as :class:`InMemoryLoader`."""
    return tuple(widened(t) for t in torch.utils.data.default_collate(samples))


def move_batch(batch: Any, device: torch.device, float_dtype=None, non_blocking=False) -> Any:
    """``batch`` (tensors nested in tuples, lists and dicts) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return schedule.tensor_to(batch, device, float_dtype, non_blocking)
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_batch(b, device, float_dtype, non_blocking) for b in batch)
    if isinstance(batch, dict):
        return {k: move_batch(v, device, float_dtype, non_blocking) for k, v in batch.items()}
    return batch


def batch_size_of(batch: Any) -> int:
    """The batch size: the first dimension of the first tensor found in ``batch`` (1 if none)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], torch.Tensor):
        return int(batch[0].shape[0]) if batch[0].dim() else 1  # (inputs, labels): no recursion
    values = batch.values() if isinstance(batch, dict) else batch
    if isinstance(values, (list, tuple, type({}.values()))):
        for item in values:
            if isinstance(item, (torch.Tensor, list, tuple, dict)):
                return batch_size_of(item)
    return 1


def loader_length(loader: Any) -> int | None:
    """``len(loader)`` in batches, or None for an iterable without a length."""
    try:
        return len(loader)
    except TypeError:
        return None


def limit_batches(name: str, limit: float, length: int | None) -> int | None:
    """How many batches a limit allows: an int is a count, a float a fraction of ``length``."""
    if isinstance(limit, int):
        return limit if length is None else schedule.limit_batches(limit, length)
    if length is None:
        if limit == 1.0:
            return None
        raise ConfigError(f"{name}={limit} is a fraction, but the loader has no len()")
    count = schedule.limit_batches(limit, length)
    if limit > 0 and count == 0:
        raise ConfigError(
            f"{name}={limit} of {length} batches is 0 batches",
            hint=f"use a larger fraction or an integer number of batches, e.g. {name}=1",
        )
    return count


def is_shuffled(loader: Any) -> bool:
    """Whether ``loader`` reorders its data each epoch (InMemoryLoader or a shuffling DataLoader)."""
    if isinstance(loader, InMemoryLoader):
        return loader.shuffle
    sampler = getattr(loader, "sampler", None)
    return isinstance(sampler, torch.utils.data.RandomSampler)


def prepare_loader(loader: Any, device: torch.device, float_dtype, data_seed: int) -> Any:
    """An in-memory loader moved to the device once (and given the run's seed if it has none);
    any other loader unchanged (its batches are moved one by one, see :func:`move_batch`)."""
    if not isinstance(loader, InMemoryLoader):
        return loader
    if loader.seed is None:
        loader = loader.with_seed(data_seed)
    return loader.to(device, float_dtype)


def pins_memory(loader: Any) -> bool:
    """Whether batches arrive in pinned memory, so that copies may be non-blocking."""
    return bool(getattr(loader, "pin_memory", False))


def set_epoch(loader: Any, epoch: int) -> None:
    """Tell a loader (or its sampler, e.g. a DistributedSampler) which epoch starts."""
    for target in (loader, getattr(loader, "sampler", None)):
        if callable(getattr(target, "set_epoch", None)):
            target.set_epoch(epoch)
