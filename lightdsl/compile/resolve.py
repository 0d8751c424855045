"""Calling vocabulary targets with a spec's bound arguments, for every builder.

A dotted name becomes a Python object in one place, :func:`lightdsl.dotted.resolve`
(the vocabulary's own names: ``target``, ``build``, ``fit``); the builders import it from here
with the helpers that call it.
"""

from __future__ import annotations

from typing import Any

from ..checker.binding import Bound
from ..dotted import resolve

__all__ = ["instantiate", "resolve", "torch_kwargs"]


def torch_kwargs(values: dict[str, Any]) -> dict[str, Any]:
    """Bound argument values as torch wants them (lists of sizes become tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def instantiate(bound: Bound, **extra: Any) -> Any:
    """Call an entry's builder (its ``build``, else its ``target``) with its bound arguments
    as keywords."""
    return resolve(bound.entry.build or bound.entry.target)(**torch_kwargs(bound.values), **extra)
