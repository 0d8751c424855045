"""Lookups in the AST: the nodes at an offset, and every name with what it refers to.

Only node attributes and ``.span`` are used.
A name's key is ``(kind, scope, name)``: ``("model", None, "Net")``, ``("data", None, "mnist")``,
``("hyper", "Net", "width")``, ``("member", "Net", "fc1")`` for a param or named layer,
``("var", "Net", "h")`` for a forward variable.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..frontend import nodes as n
from ..frontend.formatting import node_fields


def children(node) -> list:
    """The AST nodes directly below ``node``, in field order."""
    found = []
    for name in node_fields(node):
        value = getattr(node, name, None)
        if isinstance(value, n.Node):
            found.append(value)
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, n.Node))
    return found


def chain_at(root, offset: int) -> list:
    """The nodes containing ``offset``, outermost first (empty if none)."""
    chain, node = [], root
    while node is not None:
        chain.append(node)
        node = next((c for c in children(node) if c.span.start_pos <= offset < c.span.end_pos),
                    None)
    return chain if root is not None and root.span.start_pos <= offset <= root.span.end_pos \
        else []


def enclosing(chain: list, kind: type):
    """The innermost node of ``kind`` in a chain, or None."""
    return next((node for node in reversed(chain) if isinstance(node, kind)), None)


@dataclass(frozen=True)
class Occurrence:
    name: n.Name
    key: tuple
    definition: bool


class Index:
    """Every name of a spec that refers to a definition in it."""

    def __init__(self, spec: n.Spec):
        self.spec = spec
        self.models = {m.name.id: m for m in spec.models}
        self.data = {d.name.id: d for d in spec.data}
        self.occurrences: list[Occurrence] = []
        for model in spec.models:
            _ModelWalk(self, model).run()
        for data in spec.data:
            self.add(data.name, ("data", None, data.name.id), True)
        for train in spec.trains:
            self._train(train)

    def add(self, name: n.Name, key: tuple, definition: bool = False) -> None:
        self.occurrences.append(Occurrence(name, key, definition))

    def at(self, offset: int) -> Occurrence | None:
        """The occurrence whose name covers ``offset`` (or ends there: the cursor after a
        word)."""
        hits = [o for o in self.occurrences
                if o.name.span.start_pos <= offset <= o.name.span.end_pos]
        return min(hits, key=lambda o: o.name.span.end_pos - offset, default=None)

    def definition(self, occurrence: Occurrence) -> n.Name | None:
        """Where ``occurrence`` is defined: for a forward variable, the latest assignment
        before it."""
        defs = [o.name for o in self.occurrences if o.key == occurrence.key and o.definition]
        before = [d for d in defs if d.span.start_pos <= occurrence.name.span.start_pos]
        return (before or defs or [None])[-1]

    def references(self, key: tuple, include_definition: bool = True) -> list[n.Name]:
        """Every name with ``key``, in the order of the text."""
        found = [o.name for o in self.occurrences
                 if o.key == key and (include_definition or not o.definition)]
        return sorted(found, key=lambda name: name.span.start_pos)

    def model_call(self, call: n.Call) -> None:
        """``Net(width = 6)``: the model, and its hyperparameters named by keyword."""
        self.add(call.func, ("model", None, call.func.id))
        for keyword in call.keywords:
            self.add(keyword.name, ("hyper", call.func.id, keyword.name.id))

    def _train(self, train: n.TrainDef) -> None:
        for setting in train.settings:
            value = setting.value
            if setting.name.id == "model":
                if isinstance(value, n.Name) and value.id in self.models:
                    self.add(value, ("model", None, value.id))
                elif isinstance(value, n.Call) and value.func.id in self.models:
                    self.model_call(value)
            elif setting.name.id == "data" and isinstance(value, n.Name):
                self.add(value, ("data", None, value.id))


class _ModelWalk:
    """Names inside one model: hyperparameters, params, named layers, forward variables."""

    def __init__(self, index: Index, model: n.ModelDef):
        self.index, self.model, self.scope = index, model, model.name.id
        self.hypers = {h.name.id for h in model.hyper_params}
        self.members = {m.name.id for m in [*model.params, *model.layers]}
        self.variables: set[str] = set()

    def run(self) -> None:
        model, add = self.model, self.index.add
        add(model.name, ("model", None, self.scope), True)
        for hyper in model.hyper_params:
            self.expr(hyper.default)
            add(hyper.name, ("hyper", self.scope, hyper.name.id), True)
        for member in [*model.params, *model.layers]:
            add(member.name, ("member", self.scope, member.name.id), True)
            self.item(member.value)
        for block in model.layers_blocks:
            for item in block.items:
                self.item(item)
        for forward in model.forwards:
            self.forward(forward)

    def item(self, item) -> None:
        """A layer as written: a call, a bare name, a repeat, or a param's value."""
        if isinstance(item, n.Repeat):
            self.expr(item.count)
            for inner in item.items:
                self.item(inner)
        elif isinstance(item, n.Call) and item.func.id in self.index.models:
            self.index.model_call(item)
            for arg in [*item.args, *(k.value for k in item.keywords)]:
                self.expr(arg)
        else:
            self.expr(item)

    def forward(self, forward: n.ForwardDef) -> None:
        for name in forward.inputs:
            self.define(name)
        for statement in forward.body:
            for value in ([statement.value] if isinstance(statement, n.Assign)
                          else statement.values):
                self.expr(value)
            if isinstance(statement, n.Assign):
                for target in statement.targets:
                    self.define(target)

    def define(self, name: n.Name) -> None:
        self.variables.add(name.id)
        self.index.add(name, ("var", self.scope, name.id), True)

    def expr(self, expr) -> None:
        stack = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, n.Name):
                key = self.key(node.id)
                if key is not None:
                    self.index.add(node, key)
            elif isinstance(node, n.Call):
                key = self.key(node.func.id, call=True)
                if key is not None:
                    self.index.add(node.func, key)
                stack.extend([*node.args, *(k.value for k in node.keywords)])
            elif isinstance(node, n.Node):
                stack.extend(children(node))

    def key(self, name: str, call: bool = False) -> tuple | None:
        if name in self.variables and not call:
            return ("var", self.scope, name)
        if name in self.members:
            return ("member", self.scope, name)
        if name in self.hypers and not call:
            return ("hyper", self.scope, name)
        if name in self.index.models:
            return ("model", None, name)
        return None
