"""The abstract syntax tree: pydantic models named after the grammar's rules.

``model_def`` in grammar/lightdsl.lark becomes :class:`ModelDef` here, and so on. Every node
carries the :class:`~lightdsl.frontend.source.Span` of the text it came from, so every later stage can
point at the exact line and column.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .source import Span


class Node(BaseModel):
    """Base of all AST nodes: immutable, with a source span."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    span: Span


# ---- expressions -----------------------------------------------------------------------------


class Number(Node):
    value: int | float


class String(Node):
    value: str


class Boolean(Node):
    value: bool


class NoneLiteral(Node):
    pass


class Name(Node):
    id: str


class Keyword(Node):
    name: Name
    value: Expr


class Call(Node):
    func: Name
    args: list[Expr] = []
    keywords: list[Keyword] = []

    def keyword(self, name: str) -> Keyword | None:
        """The keyword argument called ``name``, if given."""
        return next((k for k in self.keywords if k.name.id == name), None)


class ListExpr(Node):
    items: list[Expr] = []


BinaryOperator = Literal["+", "-", "*", "/", "@", "**"]


class BinOp(Node):
    op: BinaryOperator
    left: Expr
    right: Expr


class Neg(Node):
    operand: Expr


Expr = Number | String | Boolean | NoneLiteral | Name | Call | ListExpr | BinOp | Neg


# ---- model -----------------------------------------------------------------------------------


class HyperParam(Node):
    name: Name
    default: Expr


class ParamDef(Node):
    name: Name
    value: Expr
    frozen: bool = False


class Repeat(Node):
    """``repeat(4) { ResBlock(64) }``: ``count`` independent copies of the body, in order."""

    count: Expr
    items: list[Call | Name | Repeat] = []


class LayerDef(Node):
    """``l1 = linear(784, 500)``: a named layer usable in ``forward``."""

    name: Name
    value: Expr | Repeat


class LayersBlock(Node):
    """``layers { ... }``: a sequential body; items are layer calls, named layers, repeats."""

    items: list[Call | Name | Repeat] = []


class Assign(Node):
    """``h = f(x)``, or ``a, b = block(x)`` (``rest`` holds ``b``) unpacking several outputs."""

    target: Name
    value: Expr
    rest: list[Name] = []

    @property
    def targets(self) -> list[Name]:
        return [self.target, *self.rest]


class ReturnStmt(Node):
    """``return y``, or ``return a, b`` (``rest`` holds ``b``) for several outputs."""

    value: Expr
    rest: list[Expr] = []

    @property
    def values(self) -> list[Expr]:
        return [self.value, *self.rest]


class ForwardDef(Node):
    inputs: list[Name] = []
    body: list[Assign | ReturnStmt] = []


class ModelDef(Node):
    name: Name
    hyper_params: list[HyperParam] = []
    params: list[ParamDef] = []
    layers: list[LayerDef] = []
    layers_blocks: list[LayersBlock] = []
    forwards: list[ForwardDef] = []


# ---- data and train --------------------------------------------------------------------------


class Setting(Node):
    name: Name
    value: Expr


class DataDef(Node):
    name: Name
    settings: list[Setting] = []
    calls: list[Call] = []


class TrainDef(Node):
    """A ``train [NAME] { ... }`` block; ``name`` is None for the unnamed (default) run."""

    name: Name | None = None
    keyword_span: Span
    settings: list[Setting] = []
    calls: list[Call] = []

    @property
    def run_name(self) -> str:
        return self.name.id if self.name else "default"


class Spec(Node):
    """A whole ``.lit`` file."""

    models: list[ModelDef] = []
    data: list[DataDef] = []
    trains: list[TrainDef] = []


for _model in (Keyword, Call, ListExpr, BinOp, Neg, HyperParam, ParamDef, Repeat, LayerDef,
               LayersBlock, Assign, ReturnStmt, ForwardDef, ModelDef, Setting, DataDef,
               TrainDef, Spec):
    _model.model_rebuild()
