"""The model class of a generated script: ``__init__`` declares the spec's params and layers
with the spec's names (the state_dict keys of lightdsl's compiled model), ``forward`` mirrors
the spec's dataflow or ``layers { }`` body statement by statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..checker.binding import Bound
from ..checker.models import ModelInfo
from ..frontend import nodes as n
from ..vocab.types import Tensor, TensorList
from .printer import (
    ExprPrinter,
    Namer,
    as_floats,
    attribute,
    literal,
    plain_attribute,
    str_literal,
    uses_names,
    vocab_call,
)
from .writer import INDENT, WIDTH, CodeWriter, Doc, Group, concat, flat


class ModelWriter:
    """Writes one ``class Name(base):`` for a checked model."""

    def __init__(self, info: ModelInfo, defaults: dict[str, Any], writer: CodeWriter,
                 class_name: str, base: str = "nn.Module"):
        self.info, self.defaults, self.w = info, defaults, writer
        self.class_name, self.base = class_name, base
        self.args = Namer()  # __init__'s arguments: the hyperparameters
        self.args.reserve(info.hypers)
        forward = info.node.forwards[0] if info.node.forwards and not info.node.layers_blocks \
            else None
        self.forward = forward
        self.locals = Namer()
        if forward is not None:
            self.locals.reserve([name.id for name in forward.inputs])
            self.locals.reserve([s.target.id for s in forward.body if isinstance(s, n.Assign)])
        self.hypers_in_forward = _hypers_used(forward, info) if forward else []

    def write(self, init_extra: Callable[[], None] | None = None,
              methods: Callable[[], None] | None = None) -> None:
        """The class; ``init_extra`` adds lines to ``__init__``, ``methods`` more methods."""
        w, node = self.w, self.info.node
        w.ref(node.span, f"model {self.info.name}")
        w.line(f"class {self.class_name}({self.base}):")
        with w.indent():
            w.docstring(f"The model {self.info.name} of the spec.")
            w.blank()
            self._init(init_extra)
            w.blank()
            self._forward()
            if methods is not None:
                methods()

    def helpers(self) -> list[str]:
        """Runtime classes (lightdsl/runtime/) the model's layers are built from: the script
        carries their source."""
        bounds = [b for b in [*self.info.layers.values(), *self.info.sequence] if b is not None]
        return sorted({b.entry.target.rsplit(".", 1)[1] for b in bounds
                       if b.entry.target.startswith("lightdsl.runtime.")})

    # ---- __init__ ----
    def _init(self, extra) -> None:
        w = self.w
        arguments = ["self"] + [f"{self.args(name)}={_flat(literal(value, tuples=True))}"
                                for name, value in self.defaults.items()]
        w.statement(concat("def __init__", Group("(", tuple(arguments), ")")), suffix=":")
        with w.indent():
            w.line("super().__init__()")
            if self.base == "pl.LightningModule":
                if self.defaults:
                    w.line("self.save_hyperparameters()  # self.hparams")
            elif self.hypers_in_forward:
                items = tuple(f"{str_literal(h)}: {self.args(h)}" for h in self.hypers_in_forward)
                w.statement(Group("{", items, "}"), prefix="self.hparams = ")
            self._members([(name, self._parameter(p), p.node.span)
                           for name, p in self.info.params.items()], "params")
            self._members([(name, self._layer(b), b.span)
                           for name, b in self.info.layers.items()], "layers")
            if self.info.node.layers_blocks:
                self._sequential()
            if extra is not None:
                extra()

    def _members(self, members: list, what: str) -> None:
        """Params or layers, each with a ``# spec.lit:N`` at its end; if one of them does not
        fit that way, one comment above the group instead (the line map keeps every line)."""
        w = self.w
        fits = all(len(INDENT * w.level + flat(self._target(name, doc)) + "  # ")
                   + len(f"{w.spec_name}:{span.line}") <= WIDTH for name, doc, span in members)
        if members and not fits:
            first, last = members[0][2].line, members[-1][2].line
            w.comment(f"{w.spec_name}:{first}-{last} {what}" if last > first else
                      f"{w.spec_name}:{first}")
        for name, doc, span in members:
            if fits:
                self._assign(name, doc, span)
            else:
                w.line_map[len(w.lines) + 1] = span.line
                w.statement(self._target(name, doc))

    @staticmethod
    def _target(name: str, doc: Doc) -> Doc:
        if plain_attribute(name):
            return concat(f"self.{name} = ", doc)
        return concat("setattr", Group("(", ("self", str_literal(name), doc), ")"))

    def _assign(self, name: str, doc: Doc, span) -> None:
        if plain_attribute(name):
            self.w.statement(doc, prefix=f"self.{name} = ", span=span)
        else:
            doc = concat("setattr", Group("(", ("self", str_literal(name), doc), ")"))
            self.w.statement(doc, span=span)

    def _parameter(self, param) -> Doc:
        node = param.node
        if uses_names(node.value, self.info.hypers):
            value = concat(self._constant(node.value), ", dtype=torch.get_default_dtype()")
        else:
            value = literal(as_floats(param.value))
        tensor = concat("torch.tensor", Group("(", (value,), ")"))
        frozen = ("requires_grad=False",) if node.frozen else ()
        return concat("nn.Parameter", Group("(", (tensor, *frozen), ")"))

    def _constant(self, expr: n.Expr) -> Doc:
        """A layer argument or param written with hyperparameters: printed with their names."""
        return ExprPrinter(lambda name: (self.args(name), True), tuples=True).doc(expr)

    def _layer(self, bound: Bound) -> Doc:
        def value(name: str) -> Doc:
            node = bound.nodes.get(name)
            if node is not None and uses_names(node, self.info.hypers):
                return self._constant(node)
            return literal(bound.values[name], tuples=True)

        return vocab_call(bound, value)

    def _sequential(self) -> None:
        block = self.info.node.layers_blocks[0]
        items = []
        for item, bound in zip(block.items, self.info.sequence):
            name = item.id if isinstance(item, n.Name) else None
            items.append(attribute(name) if name in self.info.layers else self._layer(bound))
        self.w.statement(concat("nn.Sequential", Group("(", tuple(items), ")")),
                         prefix="self.layers = ", span=block.span)

    # ---- forward ----
    def _forward(self) -> None:
        w = self.w
        if self.forward is None:
            w.line("def forward(self, x):")
            with w.indent():
                w.line("return self.layers(x)")
            return
        inputs = ", ".join(self.locals(name.id) for name in self.forward.inputs)
        w.line(f"def forward(self, {inputs}):")
        unused = _unused_assignments(self.forward)
        with w.indent():
            for index, statement in enumerate(self.forward.body):
                doc = self.expr(statement.value)
                if isinstance(statement, n.ReturnStmt):
                    w.statement(doc, prefix="return ", span=statement.span)
                    break
                noqa = "  # noqa: F841 (unused in the spec too)" if index in unused else ""
                w.statement(doc, prefix=f"{self.locals(statement.target.id)} = ",
                            span=statement.span, pragma=noqa)

    def expr(self, expr: n.Expr) -> Doc:
        return ExprPrinter(self._name, self._call).doc(expr)

    def _name(self, name: str) -> tuple[str, bool]:
        if name in self.locals.names:
            return self.locals(name), True
        if name in self.info.params:
            return attribute(name), plain_attribute(name)
        return f"self.hparams[{str_literal(name)}]", False

    def _call(self, call: n.Call) -> Doc:
        name = call.func.id
        if name in self.info.layers:
            inputs = tuple(self.expr(arg) for arg in call.args)
            return concat(attribute(name), Group("(", inputs, ")"))
        bound = self.info.calls[call.span.start_pos]
        tensors = []
        for arg in bound.entry.args:
            node = bound.values.get(arg.name)
            if isinstance(arg.type, Tensor):
                tensors.append(self.expr(node))
            elif isinstance(arg.type, TensorList):
                tensors.append(Group("[", tuple(self.expr(i) for i in node.items), "]"))

        def value(arg: str) -> Doc:
            node = bound.nodes.get(arg)
            if node is not None and uses_names(node, self.hypers_in_forward):
                return ExprPrinter(lambda h: (self._name(h)[0], False), tuples=True).doc(node)
            return literal(bound.values[arg], tuples=True)

        return vocab_call(bound, value, leading=tuple(tensors))


def _flat(doc: Doc) -> str:
    return flat(doc)


def _names_in(expr: n.Node) -> list[str]:
    if isinstance(expr, n.Name):
        return [expr.id]
    found = []
    for attr in ("left", "right", "operand", "value"):
        child = getattr(expr, attr, None)
        if isinstance(child, n.Node):
            found += _names_in(child)
    for attr in ("items", "args"):
        for child in getattr(expr, attr, None) or []:
            found += _names_in(child)
    for keyword in getattr(expr, "keywords", None) or []:
        found += _names_in(keyword.value)
    return found


def _hypers_used(forward: n.ForwardDef, info: ModelInfo) -> list[str]:
    """Hyperparameters that forward reads (names not shadowed by params or variables)."""
    local = {name.id for name in forward.inputs}
    local |= {s.target.id for s in forward.body if isinstance(s, n.Assign)}
    used = [name for s in forward.body for name in _names_in(s.value)]
    hypers = [h for h in dict.fromkeys(used)
              if h in info.hypers and h not in local and h not in info.params]
    return hypers


def _unused_assignments(forward: n.ForwardDef) -> set[int]:
    """Statements whose variable is never read afterwards (pyflakes' F841 would flag them)."""
    unused = set()
    body = forward.body
    for index, statement in enumerate(body):
        if not isinstance(statement, n.Assign):
            continue
        name = statement.target.id
        later = body[index + 1:]
        rebound = any(isinstance(s, n.Assign) and s.target.id == name for s in later)
        read = any(name in _names_in(s.value) for s in later)
        if not read and not rebound:
            unused.add(index)
    return unused
