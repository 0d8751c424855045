"""Builds the AST while lark parses: one method per grammar rule, called at each reduction.

The LALR parser calls :class:`AstBuilder`'s methods directly (lark's embedded transformer), so
no parse tree is built and then walked. The parser keeps every token (``keep_all_tokens``):
a node's span runs from its first token to its last, brackets included, which lark's
``propagate_positions`` gave before. As there, a parenthesized expression keeps its own span,
but the expression around it counts from the parenthesis (its "outer" extent).

The builder also measures how deep expressions nest (:data:`NESTING_RULES`), so that the
parser can refuse what later stages could not walk, and it keeps its diagnostics until the
parse succeeds: a block with a syntax error reports only that.
"""

from __future__ import annotations

import ast as python_ast
import math
import re
import threading
import warnings

from lark import Token

from . import nodes as n
from .source import SourceFile, Span

# Rules whose nodes add a level of nesting (an operator, a list, a call).
NESTING_RULES = {"bin_op", "neg", "list_expr", "call"}
# An integer literal is a 64-bit integer, as torch takes it (10**20 may still be computed).
INT64_MAX = 2**63 - 1
# Characters no string of a spec may hold: the OS refuses NUL in paths, and a lone surrogate
# cannot be encoded as a file name or printed.
_BAD_STRING_CHAR = re.compile("[\x00\ud800-\udfff]")


def _nodes(children: list) -> list:
    """The children that are nodes (not punctuation or keywords)."""
    return [c for c in children if c.__class__ is not Token]


class AstBuilder:
    """Lark's embedded transformer for the whole grammar; one parse at a time (``lock``)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset(None)

    def reset(self, origin: SourceFile | None) -> None:
        """Start a parse whose spans point into ``origin`` (None: the spec itself)."""
        self.origin = origin
        self.errors: list[tuple] = []  # (code, span, message, hint), reported on success
        self.outer: dict[int, Span] = {}  # id(parenthesized node) -> its extent with ( )
        self.height: dict[int, int] = {}  # id(expression) -> its nesting levels
        self.deepest = 0

    def error(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self.errors.append((code, span, message, hint))

    # ---- spans ----
    def token_span(self, token: Token) -> Span:
        return Span(token.line, token.column, token.end_line, token.end_column,
                    token.start_pos, token.end_pos, self.origin)

    def _extent(self, child):
        if child.__class__ is Token:
            return child
        return self.outer.get(id(child)) or child.span

    def span(self, children: list) -> Span:
        """From the first child's start to the last child's end (outer extents)."""
        first, last = self._extent(children[0]), self._extent(children[-1])
        return Span(first.line, first.column, last.end_line, last.end_column,
                    first.start_pos, last.end_pos, self.origin)

    def _name(self, token: Token) -> n.Name:
        return n.Name(span=self.token_span(token), id=str(token))

    def _drop(self, node: n.Node) -> None:
        """Forget a node left out of the tree: once it is freed, a later node may get its id."""
        self.outer.pop(id(node), None)
        self.height.pop(id(node), None)

    def _nested(self, node: n.Node, parts) -> n.Node:
        """Record ``node`` as one level above the deepest of ``parts``."""
        height = 1 + max((self.height.get(id(p), 0) for p in parts), default=0)
        self.height[id(node)] = height
        self.deepest = max(self.deepest, height)
        return node

    # ---- literals and names ----
    def number(self, children):
        token = children[0]
        text = str(token)
        is_int = text.isdigit()
        # no int() of a long text: Python refuses more than 4300 digits with a ValueError
        value = (int(text) if len(text) <= 19 else INT64_MAX + 1) if is_int else float(text)
        if value > INT64_MAX if is_int else math.isinf(value):
            shown = f"a {len(text)}-digit integer" if len(text) > 30 else text
            what = "does not fit in a 64-bit integer" if is_int else "overflows to infinity"
            self.error("value", self.token_span(token), f"number too large: {shown} {what}",
                       hint="write it as a float, e.g. 1e20" if is_int else None)
            value = 0
        return n.Number(span=self.token_span(token), value=value)

    def string(self, children):
        token = children[0]
        span = self.token_span(token)
        bad = _BAD_STRING_CHAR.search(str(token))  # written as it is, not as an escape
        if bad:
            self.error("syntax", span, "a string cannot contain "
                       f"{ascii(bad.group())[1:-1]}", hint="remove it")
            return n.String(span=span, value="")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = python_ast.literal_eval(str(token))
        except (ValueError, SyntaxError):
            self.error("syntax", span, "invalid escape sequence in string")
            value = str(token)[1:-1]
        bad = _BAD_STRING_CHAR.search(value)
        if bad:
            self.error("syntax", span, "a string cannot contain "
                       f"{ascii(bad.group())[1:-1]}", hint="remove the escape")
        return n.String(span=span, value=value)

    def boolean(self, children):
        return n.Boolean(span=self.token_span(children[0]), value=str(children[0]) == "true")

    def none_literal(self, children):
        return n.NoneLiteral(span=self.token_span(children[0]))

    def name(self, children):
        return self._name(children[0])

    # ---- expressions ----
    def atom(self, children):
        """``( expr )``: the expression itself; its outer extent takes in the parentheses."""
        inner = children[1]
        self.outer[id(inner)] = self.span(children)
        return inner

    def bin_op(self, children):
        left, op, right = children
        node = n.BinOp(span=self.span(children), op=str(op), left=left, right=right)
        return self._nested(node, (left, right))

    def neg(self, children):
        operand = children[-1]
        if not isinstance(operand, n.Number):
            return self._nested(n.Neg(span=self.span(children), operand=operand), (operand,))
        # fold "-0.85" into one literal (still a level)
        node = self._nested(n.Number(span=self.span(children), value=-operand.value), (operand,))
        self._drop(operand)
        return node

    def keyword(self, children):
        node = n.Keyword(span=self.span(children), name=self._name(children[0]),
                         value=children[-1])
        height = self.height.get(id(node.value))
        if height:  # a keyword is no level of its own; its call counts its value's
            self.height[id(node)] = height
        return node

    def call(self, children):
        func, arguments = self._name(children[0]), _nodes(children[2:-1])
        args, keywords, dropped = [], [], []
        for argument in arguments:
            if isinstance(argument, n.Keyword):
                keywords.append(argument)
            elif keywords:
                self.error("syntax", argument.span,
                           "a positional argument cannot follow a keyword argument")
                dropped.append(argument)
            else:
                args.append(argument)
        node = n.Call(span=self.span(children), func=func, args=args, keywords=keywords)
        self._nested(node, arguments)  # a dropped argument still counts, as in the text
        for argument in dropped:
            self._drop(argument)
        return node

    def list_expr(self, children):
        items = _nodes(children[1:-1])
        return self._nested(n.ListExpr(span=self.span(children), items=items), items)

    # ---- model ----
    def hyper_param(self, children):
        return n.HyperParam(span=self.span(children), name=self._name(children[0]),
                            default=children[-1])

    def hyper_params(self, children):
        return _nodes(children)

    def param_def(self, children):
        return n.ParamDef(span=self.span(children), name=self._name(children[1]),
                          value=children[3], frozen=len(children) > 4)

    def layer_def(self, children):
        options = children[-1] if isinstance(children[-1], n.LayerOptions) else None
        value = children[-2] if options else children[-1]
        return n.LayerDef(span=self.span(children), name=self._name(children[0]),
                          value=value, options=options)

    def layers_block(self, children):
        items, options = [], []
        for child in children[2:-1]:
            if child.__class__ is tuple:  # an optioned_item: (the layer, its options)
                child, option = child
                options.append(option.replace(index=len(items)))
            items.append(child)
        return n.LayersBlock(span=self.span(children), items=items, options=options)

    # ---- fine-tuning: options after a layer ----
    def optioned_item(self, children):
        return children[0], children[1]

    def layer_options(self, children):
        found: dict[str, n.Node] = {}
        for kind, node, _ in children:
            if kind in found:
                self.error("duplicate", node.span, f"`{kind}` is given twice for this layer",
                           hint="write it once")
                continue
            found[kind] = node
        first, last = children[0][2], children[-1][2]
        span = Span(first.line, first.column, last.end_line, last.end_column,
                    first.start_pos, last.end_pos, self.origin)
        return n.LayerOptions(span=span, frozen=found.get("frozen"), init=found.get("init"),
                              lr_mult=found.get("lr_mult"))

    def frozen_option(self, children):
        keywords = [c for c in children if isinstance(c, n.Keyword)]
        span = self.span(children)
        return "frozen", n.FrozenOption(span=span, keywords=keywords), span

    def init_option(self, children):
        return "init", children[1], self.span(children)

    def lr_mult_option(self, children):
        return "lr_mult", children[2], self.span(children)

    def repeat_block(self, children):
        return n.Repeat(span=self.span(children), count=children[2], items=children[5:-1])

    def assign(self, children):
        targets = [self._name(t) for t in children[:-1] if t.type == "NAME"]
        return n.Assign(span=self.span(children), target=targets[0], rest=targets[1:],
                        value=children[-1])

    def return_stmt(self, children):
        values = _nodes(children)
        return n.ReturnStmt(span=self.span(children), value=values[0], rest=values[1:])

    def forward_def(self, children):
        parts = _nodes(children)
        inputs = [c for c in parts if isinstance(c, n.Name)]
        body = [c for c in parts if not isinstance(c, n.Name)]
        return n.ForwardDef(span=self.span(children), inputs=inputs, body=body)

    def model_def(self, children):
        rest = children[2:]
        hypers = rest.pop(0) if isinstance(rest[0], list) else []
        body = _nodes(rest)
        return n.ModelDef(
            span=self.span(children), name=self._name(children[1]), hyper_params=hypers,
            params=[s for s in body if isinstance(s, n.ParamDef)],
            layers=[s for s in body if isinstance(s, n.LayerDef)],
            layers_blocks=[s for s in body if isinstance(s, n.LayersBlock)],
            forwards=[s for s in body if isinstance(s, n.ForwardDef)])

    # ---- data and train ----
    def setting(self, children):
        return n.Setting(span=self.span(children), name=self._name(children[0]),
                         value=children[-1])

    def data_def(self, children):
        body = _nodes(children)
        return n.DataDef(span=self.span(children), name=self._name(children[1]),
                         settings=[s for s in body if isinstance(s, n.Setting)],
                         calls=[s for s in body if isinstance(s, n.Call)])

    def train_def(self, children):
        keyword, named = children[0], children[1].type == "NAME"
        body = _nodes(children)
        return n.TrainDef(span=self.span(children),
                          name=self._name(children[1]) if named else None,
                          keyword_span=Span.point(keyword.line, keyword.column,
                                                  keyword.start_pos, width=len("train")),
                          settings=[s for s in body if isinstance(s, n.Setting)],
                          calls=[s for s in body if isinstance(s, n.Call)])

    # ---- sweep (hyperparameter search) ----
    def sweep_entry(self, children):
        path = [self._name(t) for t in children[:-2] if t.type == "NAME"]
        return n.SweepEntry(span=self.span(children), path=path, value=children[-1])

    def sweep_def(self, children):
        keyword, named = children[0], children[1].type == "NAME"
        return n.SweepDef(span=self.span(children),
                          name=self._name(children[1]) if named else None,
                          keyword_span=Span.point(keyword.line, keyword.column,
                                                  keyword.start_pos, width=len("sweep")),
                          entries=_nodes(children))

    def start(self, children):
        return n.Spec(span=Span(line=1, column=1, end_line=1, end_column=1),
                      models=[c for c in children if isinstance(c, n.ModelDef)],
                      data=[c for c in children if isinstance(c, n.DataDef)],
                      trains=[c for c in children if isinstance(c, n.TrainDef)],
                      sweeps=[c for c in children if isinstance(c, n.SweepDef)])
