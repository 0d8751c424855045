"""What a model's layer can be besides a bound vocabulary entry: another model used as a layer
(:class:`ModelUse`) or ``repeat(count) { ... }`` (:class:`Repeated`). Re-exported by
:mod:`.models`; here so that the walks over a model (:mod:`.tensors`) need not import it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..frontend import nodes as n
from ..frontend.source import Span

if TYPE_CHECKING:
    from .models import Layer, ModelInfo


@dataclass
class ModelUse:
    """A model used as a layer of another (``block = ResBlock(64)``): the used model checked
    with the hyperparameter values given at ``span``, the use site."""

    model: ModelInfo
    span: Span
    call: n.Call  # the use site, with the hyperparameter values as written

    @property
    def name(self) -> str:
        return self.model.name


@dataclass
class Repeated:
    """``repeat(count) { items }``: ``count`` independent copies of the items, in order."""

    count: int
    items: list[Layer | None]
    span: Span
    node: n.Repeat | None = None  # as written (the count may use hyperparameters)
    name = "repeat"
