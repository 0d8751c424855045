"""A vocabulary entry with its arguments bound: what binding produces and every back end reads.

A leaf of the checker (it imports only the front end's nodes and the vocabulary's Entry), so
that :mod:`.binding` (which dispatches ``python(...)`` calls to :mod:`.python`) and
:mod:`.python` (whose :class:`~.python.PythonBound` extends it) need not import each other.
"""

from __future__ import annotations

from typing import Any

from ..frontend import nodes as n
from ..vocab.registry import Entry


class Bound:
    """An entry with its arguments bound: ``values`` by name, ``nodes`` the expressions given."""

    def __init__(self, entry: Entry, values: dict[str, Any], nodes: dict[str, n.Node],
                 span):
        self.entry, self.values, self.nodes, self.span = entry, values, nodes, span
        self.name = entry.name  # the entry's name (read per layer and walk: no property)

    def span_of(self, arg: str | None):
        """Where an argument was written, or the whole call."""
        node = self.nodes.get(arg) if arg else None
        return node.span if node is not None else self.span

    def __repr__(self) -> str:
        return f"Bound({self.entry.kind} {self.entry.name}, {self.values})"
