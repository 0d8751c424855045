"""A checked model's tensors, without torch: ``{state_dict name: (shape, dtype)}`` as the
compiled model's ``state_dict()`` holds them, which is what a warm start matches a file with.

The names follow :mod:`lightdsl.compile.model`: a ``param`` is ``name``; a named layer's tensors
are ``name.local`` (the vocabulary entry's :attr:`~lightdsl.vocab.registry.Entry.tensors`); an
item of ``layers { }`` is ``layers.{i}.local`` (a named layer used there appears under both
names, as ``state_dict`` lists a shared module at each place); a repeat's copies are
``{i}.local`` under the repeat (``{i}.{j}.local`` when the body has several layers); a used
model's names are prefixed with its place. A ``python(...)`` layer's tensors are unknown to
check, as are those of a layer whose arguments are invalid: their places are returned as
``unknown`` prefixes, for :func:`lightdsl.weightfiles.check_fit` to leave alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .constants import contains_invalid
from .uses import ModelUse, Repeated

if TYPE_CHECKING:  # models imports this module (to check part warm starts)
    from .models import ModelInfo

FLOAT = "float32"  # a param's dtype: torch's default, what the builder gives it


@dataclass
class ModelTensors:
    """What :func:`model_tensors` found: the known tensors by full name, and the prefixes
    (``head.``) under which the model has tensors check cannot know."""

    expected: dict[str, tuple] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    def add(self, prefix: str, other: ModelTensors) -> None:
        self.expected.update({prefix + k: v for k, v in other.expected.items()})
        self.unknown.extend(prefix + u for u in other.unknown)


def model_tensors(info: ModelInfo) -> ModelTensors:
    """Every tensor of ``info``'s compiled module, by its ``state_dict`` name (found once per
    checked model: a model used at many places is walked once)."""
    if "tensors" not in info.counts:
        info.counts["tensors"] = _walk_model(info)
    return info.counts["tensors"]


def _walk_model(info: ModelInfo) -> ModelTensors:
    found = ModelTensors()
    for name, param in info.params.items():
        # an invalid value (reported already) has a shape of None: not compared
        shape = None if param.shape is None else tuple(param.shape)
        found.expected[name] = (shape, FLOAT)
    for name, layer in info.layers.items():
        found.add(name + ".", layer_tensors(layer))
    if info.node.layers_blocks:
        for index, layer in enumerate(info.sequence):
            found.add(f"layers.{index}.", layer_tensors(layer))
    return found


def part_tensors(info: ModelInfo, path: str) -> ModelTensors:
    """The tensors of the part at ``path`` (a named layer's name, ``layers.1``), named as the
    part's own ``state_dict`` names them: what ``init weights(...)`` on that part matches."""
    if path.startswith("layers.") and info.node.layers_blocks:
        index = int(path.removeprefix("layers."))
        layer = info.sequence[index] if index < len(info.sequence) else None
    else:
        layer = info.layers.get(path)
    return layer_tensors(layer)


def layer_tensors(layer) -> ModelTensors:
    """One layer's tensors, relative to its own module (a used model's or repeat's too)."""
    if isinstance(layer, ModelUse):
        return model_tensors(layer.model)
    if isinstance(layer, Repeated):
        return _repeat(layer)
    entry = getattr(layer, "entry", None)
    if layer is None or getattr(layer, "ref", None) is not None or entry is None \
            or entry.tensors is None or any(map(contains_invalid, layer.values.values())):
        return ModelTensors(unknown=[""])  # python(...), or invalid: nothing known under it
    return ModelTensors(dict(entry.tensors(layer.values)))


def _repeat(repeated: Repeated) -> ModelTensors:
    """``nn.Sequential`` of the copies; a copy is its one layer, or a Sequential of them."""
    copy = ModelTensors()
    if len(repeated.items) == 1:
        copy = layer_tensors(repeated.items[0])
    else:
        for index, item in enumerate(repeated.items):
            copy.add(f"{index}.", layer_tensors(item))
    found = ModelTensors()
    for index in range(repeated.count):
        found.add(f"{index}.", copy)
    return found
