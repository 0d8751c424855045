"""Parse stage: spec text -> AST (:mod:`lightdsl.frontend.nodes`), syntax errors -> diagnostics.

Lark (LALR, ``propagate_positions``) builds a parse tree; :class:`AstBuilder` turns it into
pydantic nodes with spans. Lark's exceptions never escape: each syntax error becomes one
diagnostic in words ("expected `}` or a statement"), and parsing resumes at the next top-level
definition so that a file with several broken blocks reports each of them.

Every later stage walks expressions recursively, so expressions nested deeper than
:data:`MAX_DEPTH` are refused here, with their location, before anything recurses into them.
"""

from __future__ import annotations

import ast as python_ast
import math
import re
import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from . import nodes as n
from .diagnostics import Reporter
from .source import SourceFile, Span
from .syntax_errors import describe_syntax_error

_TOP_LEVEL = re.compile(r"^(model|data|train)\b", re.MULTILINE)

# Nesting levels of an expression (operators, lists, calls) that every stage can walk
# recursively within Python's default recursion limit, called from deep inside a program.
MAX_DEPTH = 100
_NESTING_RULES = {"bin_op", "neg", "list_expr", "call"}
# An integer literal is a 64-bit integer, as torch takes it (10**20 may still be computed).
INT64_MAX = 2**63 - 1
# Characters no string of a spec may hold: the OS refuses NUL in paths, and a lone surrogate
# cannot be encoded as a file name or printed.
_BAD_STRING_CHAR = re.compile("[\x00\ud800-\udfff]")


def grammar_text() -> str:
    """The grammar: shipped inside the package (wheel) or read from the source tree."""
    shipped = resources.files("lightdsl").joinpath("grammar/lightdsl.lark")
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "lightdsl.lark").read_text(
        encoding="utf-8")


@lru_cache(maxsize=2)
def lark_parser(start: str = "start") -> Lark:
    """The LALR parser for a whole file (or, with ``start="expr"``, for one expression),
    built once per process (lark caches the tables on disk)."""
    return Lark(grammar_text(), parser="lalr", propagate_positions=True,
                maybe_placeholders=False, cache=True, start=start)


def parse(source: SourceFile, reporter: Reporter) -> n.Spec:
    """Parse a whole file; syntax errors go to ``reporter`` and their blocks are skipped."""
    specs = [_build(tree, reporter) for tree in _parse_chunks(source, reporter)]
    return n.Spec(
        span=Span(line=1, column=1, end_line=len(source.lines), end_column=1,
                  start_pos=0, end_pos=len(source.text)),
        models=[m for spec in specs for m in spec.models],
        data=[d for spec in specs for d in spec.data],
        trains=[t for spec in specs for t in spec.trains],
    )


def parse_value(source: SourceFile, start: int, reporter: Reporter) -> n.Expr | None:
    """Parse ``source.text[start:]`` as one expression (a ``--set`` value); its spans point
    into ``source`` (``Span.origin``), so later messages show that text. None on errors."""
    masked = " " * start + source.text[start:]  # columns stay those of the whole text
    try:
        tree = lark_parser("expr").parse(masked, start="expr")
    except UnexpectedInput as error:
        reporter.error("syntax", *describe_syntax_error(error, source))
        return None
    if not _shallow_enough(tree, reporter, source):
        return None
    return _transform(AstBuilder(reporter, origin=source), tree)


def _parse_chunks(source: SourceFile, reporter: Reporter):
    """Yield parse trees; after an error, resume at the next line starting a definition."""
    offset = 0
    while offset < len(source.text) or offset == 0:
        # Blank out what came before so that lark's line and column numbers stay exact.
        masked = re.sub(r"[^\n]", " ", source.text[:offset]) + source.text[offset:]
        try:
            yield lark_parser().parse(masked)
            return
        except UnexpectedInput as error:
            reporter.error("syntax", *describe_syntax_error(error, source))
            offset = _next_definition(source.text, error.pos_in_stream or 0, offset)
            if offset is None:
                return


def _next_definition(text: str, error_pos: int, previous: int) -> int | None:
    """The start of the first top-level keyword line after the error line, if any."""
    line_end = text.find("\n", max(error_pos, previous))
    if line_end < 0:
        return None
    match = _TOP_LEVEL.search(text, line_end + 1)
    return match.start() if match else None


def _build(tree, reporter: Reporter) -> n.Spec:
    if not _shallow_enough(tree, reporter):
        return n.Spec(span=Span.point(1, 1), models=[], data=[], trains=[])
    return _transform(AstBuilder(reporter), tree)


def _transform(builder: AstBuilder, tree):
    try:
        return builder.transform(tree)
    except VisitError as error:  # unwrap lark's wrapper so real bugs show their own traceback
        raise error.orig_exc from None


def _shallow_enough(tree: Tree, reporter: Reporter, origin: SourceFile | None = None) -> bool:
    """False, with an error at the first place too deep, if an expression nests more than
    :data:`MAX_DEPTH` levels. Iterative: deep input must not recurse here either."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _NESTING_RULES:
            depth += 1
            if depth > MAX_DEPTH:
                span = span_of(node.meta, origin)
                reporter.error("too-deep", span, f"expression nested too deeply (over "
                               f"{MAX_DEPTH} levels)", hint="write it with fewer levels, e.g. "
                               "a long sum as a product, or parts as hyperparameters")
                return False
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))
    return True


def span_of(item, origin: SourceFile | None = None) -> Span:
    """The span of a lark Token or of a rule's meta."""
    return Span(line=item.line, column=item.column, end_line=item.end_line,
                end_column=item.end_column, start_pos=item.start_pos, end_pos=item.end_pos,
                origin=origin)


@v_args(meta=True)
class AstBuilder(Transformer):
    """Turns lark's parse tree into :mod:`lightdsl.frontend.nodes`; one method per grammar rule."""

    def __init__(self, reporter: Reporter, origin: SourceFile | None = None):
        super().__init__()
        self.reporter, self.origin = reporter, origin

    def span(self, item) -> Span:
        return span_of(item, self.origin)

    def _name(self, token: Token) -> n.Name:
        return n.Name(span=self.span(token), id=str(token))

    # ---- literals and names ----
    def number(self, meta, children):
        text = str(children[0])
        is_int = text.isdigit()
        # no int() of a long text: Python refuses more than 4300 digits with a ValueError
        value = (int(text) if len(text) <= 19 else INT64_MAX + 1) if is_int else float(text)
        if value > INT64_MAX if is_int else math.isinf(value):
            shown = f"a {len(text)}-digit integer" if len(text) > 30 else text
            what = "does not fit in a 64-bit integer" if is_int else "overflows to infinity"
            self.reporter.error("value", self.span(meta), f"number too large: {shown} {what}",
                                hint="write it as a float, e.g. 1e20" if is_int else None)
            value = 0
        return n.Number(span=self.span(meta), value=value)

    def string(self, meta, children):
        token = children[0]
        bad = _BAD_STRING_CHAR.search(str(token))  # written as it is, not as an escape
        if bad:
            self.reporter.error("syntax", self.span(token), "a string cannot contain "
                                f"{ascii(bad.group())[1:-1]}", hint="remove it")
            return n.String(span=self.span(meta), value="")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = python_ast.literal_eval(str(token))
        except (ValueError, SyntaxError):
            self.reporter.error("syntax", self.span(token), "invalid escape sequence in string")
            value = str(token)[1:-1]
        bad = _BAD_STRING_CHAR.search(value)
        if bad:
            self.reporter.error("syntax", self.span(token), "a string cannot contain "
                                f"{ascii(bad.group())[1:-1]}", hint="remove the escape")
        return n.String(span=self.span(meta), value=value)

    def boolean(self, meta, children):
        return n.Boolean(span=self.span(meta), value=str(children[0]) == "true")

    def none_literal(self, meta, children):
        return n.NoneLiteral(span=self.span(meta))

    def name(self, meta, children):
        return self._name(children[0])

    # ---- expressions ----
    def bin_op(self, meta, children):
        left, op, right = children
        return n.BinOp(span=self.span(meta), op=str(op), left=left, right=right)

    def neg(self, meta, children):
        operand = children[-1]
        if isinstance(operand, n.Number):  # fold "-0.85" into one literal
            return n.Number(span=self.span(meta), value=-operand.value)
        return n.Neg(span=self.span(meta), operand=operand)

    def keyword(self, meta, children):
        return n.Keyword(span=self.span(meta), name=self._name(children[0]), value=children[1])

    def call(self, meta, children):
        func, arguments = self._name(children[0]), children[1:]
        args, keywords = [], []
        for argument in arguments:
            if isinstance(argument, n.Keyword):
                keywords.append(argument)
            elif keywords:
                self.reporter.error("syntax", argument.span,
                                    "a positional argument cannot follow a keyword argument")
            else:
                args.append(argument)
        return n.Call(span=self.span(meta), func=func, args=args, keywords=keywords)

    def list_expr(self, meta, children):
        return n.ListExpr(span=self.span(meta), items=children)

    # ---- model ----
    def hyper_param(self, meta, children):
        return n.HyperParam(span=self.span(meta), name=self._name(children[0]), default=children[1])

    def hyper_params(self, meta, children):
        return list(children)

    def param_def(self, meta, children):
        return n.ParamDef(span=self.span(meta), name=self._name(children[0]), value=children[1],
                          frozen=len(children) > 2)

    def layer_def(self, meta, children):
        return n.LayerDef(span=self.span(meta), name=self._name(children[0]), value=children[1])

    def layers_block(self, meta, children):
        return n.LayersBlock(span=self.span(meta), items=children)

    def repeat_block(self, meta, children):
        return n.Repeat(span=self.span(meta), count=children[1],
                                        items=children[2:])

    def assign(self, meta, children):
        targets = [self._name(token) for token in children[:-1]]
        return n.Assign(span=self.span(meta), target=targets[0],
                                        rest=targets[1:], value=children[-1])

    def return_stmt(self, meta, children):
        return n.ReturnStmt(span=self.span(meta), value=children[0],
                                            rest=children[1:])

    def forward_def(self, meta, children):
        inputs = [c for c in children if isinstance(c, n.Name)]
        body = [c for c in children if not isinstance(c, n.Name)]
        return n.ForwardDef(span=self.span(meta), inputs=inputs, body=body)

    def model_def(self, meta, children):
        name, rest = self._name(children[0]), children[1:]
        hypers = rest.pop(0) if rest and isinstance(rest[0], list) else []
        return n.ModelDef(
            span=self.span(meta), name=name, hyper_params=hypers,
            params=[s for s in rest if isinstance(s, n.ParamDef)],
            layers=[s for s in rest if isinstance(s, n.LayerDef)],
            layers_blocks=[s for s in rest if isinstance(s, n.LayersBlock)],
            forwards=[s for s in rest if isinstance(s, n.ForwardDef)])

    # ---- data and train ----
    def setting(self, meta, children):
        return n.Setting(span=self.span(meta), name=self._name(children[0]), value=children[1])

    def data_def(self, meta, children):
        body = children[1:]
        return n.DataDef(span=self.span(meta), name=self._name(children[0]),
                         settings=[s for s in body if isinstance(s, n.Setting)],
                         calls=[s for s in body if isinstance(s, n.Call)])

    def train_def(self, meta, children):
        name = self._name(children[0]) if children and isinstance(children[0], Token) else None
        body = children[1:] if name else children
        keyword = Span.point(meta.line, meta.column, meta.start_pos, width=len("train"))
        return n.TrainDef(span=self.span(meta), name=name, keyword_span=keyword,
                          settings=[s for s in body if isinstance(s, n.Setting)],
                          calls=[s for s in body if isinstance(s, n.Call)])

    def start(self, meta, children):
        whole = Span(line=1, column=1, end_line=1, end_column=1)
        return n.Spec(span=whole,
                      models=[c for c in children if isinstance(c, n.ModelDef)],
                      data=[c for c in children if isinstance(c, n.DataDef)],
                      trains=[c for c in children if isinstance(c, n.TrainDef)])


__all__ = ["UnexpectedCharacters", "UnexpectedToken", "grammar_text", "lark_parser", "parse"]
