"""Go to definition, find references and the outline (document symbols).

Definitions and references cover models, data blocks, hyperparameters, params, named layers
and forward variables (see :class:`~.index.Index`), and ``python("module:Name")`` targets: the
module is found as the checker finds it (the spec's folder first, then ``sys.path``, nothing
imported) and the definition is the line of ``Name`` in its source.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field

from ..checker.pysource import NotFound, find_module
from ..frontend import nodes as n
from .documents import Document, View
from .index import Index, chain_at


@dataclass
class Target:
    """A place: the current document (``path`` None, offsets) or another file (a path and a
    0-based line)."""

    start: int = 0
    end: int = 0
    path: str | None = None
    line: int = 0


def _view(document: Document) -> View | None:
    view = document.view()
    return view if view.spec is not None else None


def definition(document: Document, offset: int) -> Target | None:
    view = _view(document)
    if view is None:
        return None
    python = python_target(view, offset, document.path)
    if python is not None:
        return python
    index = Index(view.spec)
    occurrence = index.at(offset)
    if occurrence is None:
        return None
    name = index.definition(occurrence)
    return Target(name.span.start_pos, name.span.end_pos) if name is not None else None


def references(document: Document, offset: int, include_definition: bool = True) -> list:
    view = _view(document)
    if view is None:
        return []
    index = Index(view.spec)
    occurrence = index.at(offset)
    if occurrence is None:
        return []
    return [Target(name.span.start_pos, name.span.end_pos)
            for name in index.references(occurrence.key, include_definition)]


def python_target(view: View, offset: int, spec_path: str) -> Target | None:
    """The class or function a ``python("module:Name")`` string at ``offset`` names."""
    chain = chain_at(view.spec, offset)
    if len(chain) < 2 or not isinstance(chain[-1], n.String):
        return None
    call = next((c for c in reversed(chain) if isinstance(c, n.Call)), None)
    if call is None or call.func.id != "python" or not call.args or call.args[0] is not chain[-1]:
        return None
    module, _, name = chain[-1].value.partition(":")
    try:
        found = find_module(module, os.path.dirname(os.path.abspath(spec_path)))
    except (NotFound, ValueError):
        return None
    if found.origin is None or not found.origin.endswith(".py"):
        return None
    return Target(path=found.origin, line=_line_of(found.origin, name))


def _line_of(path: str, name: str) -> int:
    """The 0-based line where ``name`` is defined at the top of a Python file (0 if unseen)."""
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return 0
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) \
                and node.name == name:
            return node.lineno - 1
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return node.lineno - 1
    return 0


@dataclass
class Symbol:
    """An outline entry: name, kind (an LSP SymbolKind name), what it is, where, children."""

    name: str
    kind: str
    detail: str
    node: n.Node
    name_node: n.Node
    children: list[Symbol] = field(default_factory=list)


def document_symbols(document: Document) -> list[Symbol]:
    """Models (with their hyperparameters, params, layers and forward), data, train and
    sweep blocks (with their entries), from the current text's definitions that parse (else
    the last good text)."""
    view = _view(document) or document.good
    if view is None or view.spec is None:
        return []
    items = sorted([*view.spec.models, *view.spec.data, *view.spec.trains, *view.spec.sweeps],
                   key=lambda d: d.span.start_pos)
    return [_symbol(item) for item in items]


def _symbol(item) -> Symbol:
    if isinstance(item, n.ModelDef):
        children = [Symbol(h.name.id, "TypeParameter", "hyperparameter", h, h.name)
                    for h in item.hyper_params]
        children += [Symbol(p.name.id, "Field", "param", p, p.name) for p in item.params]
        children += [Symbol(layer.name.id, "Method", _callee(layer.value), layer, layer.name)
                     for layer in item.layers]
        children += [Symbol("layers", "Array", "sequence", b, b) for b in item.layers_blocks]
        children += [Symbol("forward", "Function", ", ".join(i.id for i in f.inputs), f, f)
                     for f in item.forwards]
        children.sort(key=lambda s: s.node.span.start_pos)
        return Symbol(item.name.id, "Class", "model", item, item.name, children)
    if isinstance(item, n.DataDef):
        return Symbol(item.name.id, "Module", "data", item, item.name)
    if isinstance(item, n.SweepDef):
        children = [Symbol(e.key, "Variable", _callee(e.value), e, e.path[-1])
                    for e in item.entries]
        name = item.name if item.name is not None else item
        return Symbol(item.sweep_name, "Event", "sweep", item, name, children)
    name = item.name if item.name is not None else item
    return Symbol(item.run_name, "Event", "train", item, name)


def _callee(value) -> str:
    if isinstance(value, n.Call):
        return value.func.id
    return "repeat" if isinstance(value, n.Repeat) else ""
