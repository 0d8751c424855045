"""The abstract syntax tree: immutable records named after the grammar's rules.

``model_def`` in grammar/lightdsl.lark becomes :class:`ModelDef` here, and so on. Every node
carries the :class:`~lightdsl.frontend.source.Span` of the text it came from, so every later stage can
point at the exact line and column. Nodes are :class:`~lightdsl.frontend.records.Record`\\ s:
frozen, slotted, compared by value; :meth:`Node.walk` visits a node and all nodes below it.
Only lightdsl's parser and checker make nodes, so nothing here validates (see docs/design.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, TypeVar

from .records import Record, _set
from .source import Span

N = TypeVar("N", bound="Node")


class Node(Record):
    """Base of all AST nodes: immutable, with a source span.

    ``_children`` names the fields that hold nodes or lists of nodes, in source order: the
    ones :meth:`walk` goes down (a test checks that no node is left out).
    """

    __slots__ = ("span",)
    _children: tuple[str, ...] = ()

    def walk(self, *types: type[N]) -> Iterator[N]:
        """This node and every node below it, each before its children, children in field
        order (source order within a field); only instances of ``types`` if any are given.

        Iterative, so any nesting depth is fine: ``[name.id for name in expr.walk(Name)]``.
        """
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            if not types or isinstance(node, types):
                yield node
            for field in reversed(node._children):
                value = getattr(node, field)
                if value.__class__ is list:
                    stack.extend(reversed(value))
                elif value is not None:
                    stack.append(value)

    def find(self, *types: type[N]) -> N | None:
        """The first node :meth:`walk` yields (of ``types``, if given), or None."""
        return next(self.walk(*types), None)


# ---- expressions -----------------------------------------------------------------------------


class Number(Node):
    __slots__ = ("value",)

    def __init__(self, *, span: Span, value: float):  # an int too
        _set(self, "span", span)
        _set(self, "value", value)


class String(Node):
    __slots__ = ("value",)

    def __init__(self, *, span: Span, value: str):
        _set(self, "span", span)
        _set(self, "value", value)


class Boolean(Node):
    __slots__ = ("value",)

    def __init__(self, *, span: Span, value: bool):
        _set(self, "span", span)
        _set(self, "value", value)


class NoneLiteral(Node):
    __slots__ = ()

    def __init__(self, *, span: Span):
        _set(self, "span", span)


class Name(Node):
    __slots__ = ("id",)

    def __init__(self, *, span: Span, id: str):
        _set(self, "span", span)
        _set(self, "id", id)


class Keyword(Node):
    __slots__ = ("name", "value")
    _children = ("name", "value")

    def __init__(self, *, span: Span, name: Name, value: Expr):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "value", value)


class Call(Node):
    __slots__ = ("args", "func", "keywords")
    _children = ("func", "args", "keywords")

    def __init__(self, *, span: Span, func: Name, args: list[Expr] | None = None,
                 keywords: list[Keyword] | None = None):
        _set(self, "span", span)
        _set(self, "func", func)
        _set(self, "args", [] if args is None else args)
        _set(self, "keywords", [] if keywords is None else keywords)

    def keyword(self, name: str) -> Keyword | None:
        """The keyword argument called ``name``, if given."""
        return next((k for k in self.keywords if k.name.id == name), None)


class ListExpr(Node):
    __slots__ = ("items",)
    _children = ("items",)

    def __init__(self, *, span: Span, items: list[Expr] | None = None):
        _set(self, "span", span)
        _set(self, "items", [] if items is None else items)


BinaryOperator = Literal["+", "-", "*", "/", "@", "**"]


class BinOp(Node):
    __slots__ = ("left", "op", "right")
    _children = ("left", "right")

    def __init__(self, *, span: Span, op: BinaryOperator, left: Expr, right: Expr):
        _set(self, "span", span)
        _set(self, "op", op)
        _set(self, "left", left)
        _set(self, "right", right)


class Neg(Node):
    __slots__ = ("operand",)
    _children = ("operand",)

    def __init__(self, *, span: Span, operand: Expr):
        _set(self, "span", span)
        _set(self, "operand", operand)


Expr = Number | String | Boolean | NoneLiteral | Name | Call | ListExpr | BinOp | Neg


# ---- model -----------------------------------------------------------------------------------


class HyperParam(Node):
    __slots__ = ("default", "name")
    _children = ("name", "default")

    def __init__(self, *, span: Span, name: Name, default: Expr):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "default", default)


class ParamDef(Node):
    __slots__ = ("frozen", "name", "value")
    _children = ("name", "value")

    def __init__(self, *, span: Span, name: Name, value: Expr, frozen: bool = False):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "value", value)
        _set(self, "frozen", frozen)


class Repeat(Node):
    """``repeat(4) { ResBlock(64) }``: ``count`` independent copies of the body, in order."""

    __slots__ = ("count", "items")
    _children = ("count", "items")

    def __init__(self, *, span: Span, count: Expr, items: list[Call | Name | Repeat] | None = None):
        _set(self, "span", span)
        _set(self, "count", count)
        _set(self, "items", [] if items is None else items)


class LayerDef(Node):
    """``l1 = linear(784, 500)``: a named layer usable in ``forward``; ``options`` holds what
    follows it (``frozen``, ``init weights(...)``, ``lr_mult(...)``), if anything."""

    __slots__ = ("name", "options", "value")
    _children = ("name", "value", "options")

    def __init__(self, *, span: Span, name: Name, value: Expr | Repeat,
                 options: LayerOptions | None = None):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "value", value)
        _set(self, "options", options)


class LayersBlock(Node):
    """``layers { ... }``: a sequential body; items are layer calls, named layers, repeats.
    ``options`` are those of items written with some (each names its item's ``index``)."""

    __slots__ = ("items", "options")
    _children = ("items", "options")

    def __init__(self, *, span: Span, items: list[Call | Name | Repeat] | None = None,
                 options: list[LayerOptions] | None = None):
        _set(self, "span", span)
        _set(self, "items", [] if items is None else items)
        _set(self, "options", [] if options is None else options)

    def options_of(self, index: int) -> LayerOptions | None:
        """The options written after item ``index``, if any."""
        return next((o for o in self.options if o.index == index), None)


# ---- fine-tuning: what may follow a layer ----------------------------------------------------


class FrozenOption(Node):
    """``frozen`` or ``frozen(bn = train)`` after a layer: its parameters are not trained."""

    __slots__ = ("keywords",)
    _children = ("keywords",)

    def __init__(self, *, span: Span, keywords: list[Keyword] | None = None):
        _set(self, "span", span)
        _set(self, "keywords", [] if keywords is None else keywords)


class LayerOptions(Node):
    """What follows a layer: ``frozen``, ``init weights("file")`` (a warm start of that part),
    ``lr_mult(0.1)`` (its learning rate relative to the optimizer's). ``index``: the item's
    position in its ``layers { }`` block (-1 after a named layer)."""

    __slots__ = ("frozen", "index", "init", "lr_mult")
    _children = ("frozen", "init", "lr_mult")

    def __init__(self, *, span: Span, index: int = -1, frozen: FrozenOption | None = None,
                 init: Call | None = None, lr_mult: Expr | None = None):
        _set(self, "span", span)
        _set(self, "index", index)
        _set(self, "frozen", frozen)
        _set(self, "init", init)
        _set(self, "lr_mult", lr_mult)


class Assign(Node):
    """``h = f(x)``, or ``a, b = block(x)`` (``rest`` holds ``b``) unpacking several outputs."""

    __slots__ = ("rest", "target", "value")
    _children = ("target", "rest", "value")

    def __init__(self, *, span: Span, target: Name, value: Expr, rest: list[Name] | None = None):
        _set(self, "span", span)
        _set(self, "target", target)
        _set(self, "value", value)
        _set(self, "rest", [] if rest is None else rest)

    @property
    def targets(self) -> list[Name]:
        return [self.target, *self.rest]


class ReturnStmt(Node):
    """``return y``, or ``return a, b`` (``rest`` holds ``b``) for several outputs."""

    __slots__ = ("rest", "value")
    _children = ("value", "rest")

    def __init__(self, *, span: Span, value: Expr, rest: list[Expr] | None = None):
        _set(self, "span", span)
        _set(self, "value", value)
        _set(self, "rest", [] if rest is None else rest)

    @property
    def values(self) -> list[Expr]:
        return [self.value, *self.rest]


class ForwardDef(Node):
    __slots__ = ("body", "inputs")
    _children = ("inputs", "body")

    def __init__(self, *, span: Span, inputs: list[Name] | None = None,
                 body: list[Assign | ReturnStmt] | None = None):
        _set(self, "span", span)
        _set(self, "inputs", [] if inputs is None else inputs)
        _set(self, "body", [] if body is None else body)


class ModelDef(Node):
    __slots__ = ("forwards", "hyper_params", "layers", "layers_blocks", "name", "params")
    _children = ("name", "hyper_params", "params", "layers", "layers_blocks", "forwards")

    def __init__(self, *, span: Span, name: Name, hyper_params: list[HyperParam] | None = None,
                 params: list[ParamDef] | None = None, layers: list[LayerDef] | None = None,
                 layers_blocks: list[LayersBlock] | None = None,
                 forwards: list[ForwardDef] | None = None):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "hyper_params", [] if hyper_params is None else hyper_params)
        _set(self, "params", [] if params is None else params)
        _set(self, "layers", [] if layers is None else layers)
        _set(self, "layers_blocks", [] if layers_blocks is None else layers_blocks)
        _set(self, "forwards", [] if forwards is None else forwards)


# ---- data and train --------------------------------------------------------------------------


class Setting(Node):
    __slots__ = ("name", "value")
    _children = ("name", "value")

    def __init__(self, *, span: Span, name: Name, value: Expr):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "value", value)


class DataDef(Node):
    __slots__ = ("calls", "name", "settings")
    _children = ("name", "settings", "calls")

    def __init__(self, *, span: Span, name: Name, settings: list[Setting] | None = None,
                 calls: list[Call] | None = None):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "settings", [] if settings is None else settings)
        _set(self, "calls", [] if calls is None else calls)


class TrainDef(Node):
    """A ``train [NAME] { ... }`` block; ``name`` is None for the unnamed (default) run."""

    __slots__ = ("calls", "keyword_span", "name", "settings")
    _children = ("name", "settings", "calls")

    def __init__(self, *, span: Span, keyword_span: Span, name: Name | None = None,
                 settings: list[Setting] | None = None, calls: list[Call] | None = None):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "keyword_span", keyword_span)
        _set(self, "settings", [] if settings is None else settings)
        _set(self, "calls", [] if calls is None else calls)

    @property
    def run_name(self) -> str:
        return self.name.id if self.name else "default"


# ---- sweep (hyperparameter search) -----------------------------------------------------------


class SweepEntry(Node):
    """``data.batch_size = choice(32, 64)``: ``path`` holds the key's names (one for a bare
    name); what they mean is decided by :mod:`lightdsl.space`, not by the parser."""

    __slots__ = ("path", "value")
    _children = ("path", "value")

    def __init__(self, *, span: Span, path: list[Name], value: Expr):
        _set(self, "span", span)
        _set(self, "path", path)
        _set(self, "value", value)

    @property
    def key(self) -> str:
        return ".".join(name.id for name in self.path)


class SweepDef(Node):
    """A ``sweep [NAME] { ... }`` block; ``name`` is None for the unnamed one."""

    __slots__ = ("entries", "keyword_span", "name")
    _children = ("name", "entries")

    def __init__(self, *, span: Span, keyword_span: Span, name: Name | None = None,
                 entries: list[SweepEntry] | None = None):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "keyword_span", keyword_span)
        _set(self, "entries", [] if entries is None else entries)

    @property
    def sweep_name(self) -> str:
        return self.name.id if self.name else "default"


class Spec(Node):
    """A whole ``.lit`` file."""

    __slots__ = ("data", "models", "sweeps", "trains")
    _children = ("models", "data", "trains", "sweeps")

    def __init__(self, *, span: Span, models: list[ModelDef] | None = None,
                 data: list[DataDef] | None = None, trains: list[TrainDef] | None = None,
                 sweeps: list[SweepDef] | None = None):
        _set(self, "span", span)
        _set(self, "models", [] if models is None else models)
        _set(self, "data", [] if data is None else data)
        _set(self, "trains", [] if trains is None else trains)
        _set(self, "sweeps", [] if sweeps is None else sweeps)
