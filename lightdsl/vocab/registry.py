"""The one vocabulary registry: every layer, function, loss, optimizer, scheduler, metric, data
source, transform and setting is described here once.

An :class:`Entry` says its arguments (names follow torch.nn / torch.optim), its shape rule, the
torch object it builds and how it prints as Python. The checker reads the arguments and shape
rules, the builder the torch target, the code generator the printer; adding a layer is one entry.
Nothing in this package imports torch: targets are dotted names resolved when building.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .types import Type

REQUIRED: Any = object()  # marks an argument without default


@dataclass(frozen=True)
class Arg:
    """One argument: name, type, default (``REQUIRED`` if none) and a line of documentation."""

    name: str
    type: Type
    default: Any = REQUIRED
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Entry:
    """One word of the language.

    ``shape(inputs, args)`` returns the output shape from input shapes and bound arguments, or
    raises :class:`~lightdsl.vocab.shapes.ShapeError`. ``target`` is the dotted torch (or
    lightdsl) callable the builder calls with the bound arguments as keywords. ``validate(args)``
    returns ``(argument, message)`` pairs for rules that involve several arguments. ``extra``
    holds kind-specific facts (a loss's label kind, a scheduler's interval).
    """

    kind: str
    name: str
    args: tuple[Arg, ...] = ()
    doc: str = ""
    target: str | None = None
    shape: Callable[..., Any] | None = None
    validate: Callable[[dict], list[tuple[str, str]]] | None = None
    tensor_inputs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def arg(self, name: str) -> Arg | None:
        return next((a for a in self.args if a.name == name), None)

    @property
    def arg_names(self) -> list[str]:
        return [a.name for a in self.args]

    def defaults(self) -> dict[str, Any]:
        return {a.name: a.default for a in self.args if not a.required}


class Registry:
    """All entries, by kind and name."""

    def __init__(self):
        self._entries: dict[str, dict[str, Entry]] = {}

    def add(self, entry: Entry) -> Entry:
        table = self._entries.setdefault(entry.kind, {})
        if entry.name in table:
            raise ValueError(f"duplicate {entry.kind} {entry.name!r} in the vocabulary")
        table[entry.name] = entry
        return entry

    def get(self, kind: str, name: str) -> Entry | None:
        return self._entries.get(kind, {}).get(name)

    def names(self, kind: str) -> list[str]:
        return sorted(self._entries.get(kind, {}))

    def kind(self, kind: str) -> dict[str, Entry]:
        return dict(self._entries.get(kind, {}))


REGISTRY = Registry()


def entry(kind: str, name: str, *args: Arg, **fields: Any) -> Entry:
    """Describe and register one entry: ``entry("layer", "relu", target="torch.nn.ReLU")``."""
    return REGISTRY.add(Entry(kind=kind, name=name, args=tuple(args), **fields))
