"""Preparing a run's data: loaders on the device, batch counts, the validation schedule, and the
example input the model summary traces."""

from __future__ import annotations

from typing import Any, NamedTuple

from lightdsl.errors import ConfigError
from lightdsl.runtime import schedule

from .data import InMemoryLoader, limit_batches, loader_length, move_batch, prepare_loader


def _call(module, hook: str):
    method = getattr(module, hook, None)
    return method() if callable(method) else None


class Loaders(NamedTuple):
    """A run's loaders (on the device; under DDP, this rank's share) and the batches of each
    that an epoch uses (None: a loader without len())."""

    train_loader: Any
    num_train_batches: int | None
    val_loader: Any
    num_val_batches: int
    has_val_data: bool
    """Whether there is validation data with batches (decided on the whole set, so that every
    rank validates, even one with an empty shard)."""


def train_and_val_loaders(run, module, cfg) -> Loaders:
    """The module's loaders prepared for ``run`` and how many batches of each an epoch uses."""

    def prepare(loader, train: bool):
        dtype, seed = run.precision.input_dtype, run.data_seed
        loader = prepare_loader(loader, run.device, dtype, seed)
        return run.dist.shard(loader, seed, train)  # under DDP: this rank's share

    train = _call(module, "train_dataloader")
    if train is None:
        raise ConfigError("the module has no train_dataloader(), or it returned None")
    train_loader = prepare(train, train=True)
    num_train = limit_batches("limit_train_batches", cfg.limit_train_batches,
                              loader_length(train_loader))
    has_step = callable(getattr(module, "validation_step", None))
    val = _call(module, "val_dataloader") if has_step else None
    val_loader = prepare(val, train=False) if val is not None else None
    val_length = loader_length(val_loader) if val is not None else None
    num_val = (
        0  # no data, or an empty DDP shard (fewer samples than ranks): it validates nothing
        if val is None or (val_length == 0 and run.dist.enabled)
        else limit_batches("limit_val_batches", cfg.limit_val_batches, val_length)
    )
    has_val = val is not None and _has_batches(cfg.limit_val_batches, val)
    return Loaders(train_loader, num_train, val_loader, num_val, has_val)


def _has_batches(limit, loader) -> bool:
    return limit_batches("limit_val_batches", limit, loader_length(loader)) != 0


def stepping_batches(train_batches: int | None, accumulate: int, max_epochs: int,
                     max_steps: int) -> float:
    """How many optimizer steps a run makes (Lightning's ``estimated_stepping_batches``):
    ``ceil(batches / accumulate)`` per epoch (the epoch's last partial accumulation steps
    too) times ``max_epochs``, capped by ``max_steps``; ``inf`` when nothing bounds it."""
    if train_batches is None or max_epochs == max_steps == -1:
        return float("inf") if max_steps == -1 else max_steps
    return schedule.optimizer_steps(train_batches, max_epochs, accumulate, max_steps)


def val_interval(value: float, train_batches: int | None, per_epoch: bool = True) -> int | None:
    """Validate every this many training batches (None: only at the end of each epoch).

    This is Lightning's ``val_check_batch``: an int as given, a fraction of an epoch rounded
    down (``int(batches * fraction)``, at least 1). With ``per_epoch`` false
    (``check_val_every_n_epoch=None``) the batches are counted across epochs, so an int may
    exceed one epoch.
    """
    if isinstance(value, int):
        if train_batches is not None and value > train_batches and per_epoch:
            raise ConfigError(
                f"val_check_interval={value} is more than the {train_batches} training batches "
                "of an epoch, so validation would never run",
                hint=f"use val_check_interval <= {train_batches}, or a fraction such as 0.5",
            )
        return value
    if train_batches is None:
        if value == 1.0:
            return None
        raise ConfigError(
            f"val_check_interval={value} is a fraction, but the training loader has no len()"
        )
    return schedule.val_interval(value, train_batches)


def _first_input(loader):
    """The inputs (first tensor) of the first batch, read without iterating the loader (which
    could start worker processes or consume an iterable dataset)."""
    if isinstance(loader, InMemoryLoader):
        return loader.tensors[0][: loader.batch_size]
    dataset, collate = getattr(loader, "dataset", None), getattr(loader, "collate_fn", None)
    if dataset is None or collate is None or not hasattr(dataset, "__getitem__"):
        return None  # e.g. an iterable dataset: reading from it would consume it
    try:
        size = min(getattr(loader, "batch_size", None) or 1, len(dataset))
        batch = collate([dataset[i] for i in range(size)])
    except Exception:  # noqa: BLE001 - an odd dataset only costs the summary its shapes
        return None
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def example_input(run):
    """What the summary feeds the model: ``example_input_array``, else one training input."""
    example = getattr(run.module, "example_input_array", None)
    if example is None:
        example = _first_input(run.loaders.train_loader)
    if example is None:
        return None
    return move_batch(example, run.device, run.precision.input_dtype)
