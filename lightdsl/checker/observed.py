"""Shapes the checker saw at each call, kept for the language server's hover.

The one place the shape flow (:mod:`.flow`) records what it inferred: at every layer call (a
``layers { }`` item, a named layer or function called in ``forward``, a used model) and at
every variable ``forward`` defines, the input shapes, the output shape and the input dtype.
Records go on the :class:`~.models.ModelInfo` being walked (``info.observed``), keyed by the
start offset of the use site's span; a model walked with several inputs (a used model, a
repeat's copies, the model checked alone and again by a run) keeps each distinct observation.
Nothing here changes what the checker reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..frontend.source import Span
from ..vocab.shapes import Shape

OBSERVATION_LIMIT = 8  # distinct observations kept per site (a repeat of 100 copies: the first)


@dataclass(frozen=True)
class ObservedShape:
    """What flowed through one site once: ``layer`` is the Bound / ModelUse / Repeated applied
    (None for a ``forward`` variable), ``inputs`` its input shapes, ``output`` its result
    (a Shape, or a tuple of Shapes for a used model returning several), ``dtype`` the first
    input's dtype ("float", "int" or None when unknown)."""

    span: Span
    layer: Any
    inputs: tuple[Shape, ...]
    output: Any
    dtype: str | None = None


def record_shape(info: Any, span: Span, layer: Any, inputs, output, dtype: str | None) -> None:
    """Keep one observation on ``info`` (a ModelInfo); repeats of the same one are dropped."""
    found = info.observed.setdefault(span.start_pos, [])
    observation = ObservedShape(span, layer, tuple(inputs), output, dtype)
    same = (observation.inputs, observation.output, observation.dtype)
    if len(found) < OBSERVATION_LIMIT and all(
            (o.inputs, o.output, o.dtype) != same or o.layer is not layer for o in found):
        found.append(observation)
