"""Turning vocabulary targets (dotted names) into torch objects, for every builder."""

from __future__ import annotations

import importlib
from typing import Any

from ..checker.binding import Bound


def resolve(target: str) -> Any:
    """``"torch.nn.Linear"`` -> the class; imports the module on first use."""
    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def torch_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """Bound argument values as torch wants them (lists of sizes become tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def instantiate(bound: Bound, **extra: Any) -> Any:
    """Call an entry's target with its bound arguments as keywords."""
    return resolve(bound.entry.target)(**torch_kwargs(bound.values), **extra)
