"""Parse stage: spec text -> AST (:mod:`lightdsl.frontend.nodes`), syntax errors -> diagnostics.

Lark's LALR parser builds the AST in one pass: at each reduction it calls the rule's method of
:class:`~lightdsl.frontend.builder.AstBuilder` (no parse tree is built and walked). Lark's
exceptions never escape: each syntax error becomes one diagnostic in words ("expected `}` or a
statement"), and parsing resumes at the next top-level definition so that a file with several
broken blocks reports each of them.

Every later stage walks expressions recursively, so expressions nested deeper than
:data:`MAX_DEPTH` are refused here, with their location, before anything recurses into them.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

from lark import Lark, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from . import nodes as n
from .builder import NESTING_RULES, AstBuilder
from .diagnostics import Reporter
from .source import SourceFile, Span

_TOP_LEVEL = re.compile(r"^(model|data|train|sweep)\b", re.MULTILINE)

# Nesting levels of an expression (operators, lists, calls) that every stage can walk
# recursively within Python's default recursion limit, called from deep inside a program.
MAX_DEPTH = 100


def grammar_text() -> str:
    """The grammar: shipped inside the package (wheel) or read from the source tree."""
    package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    for path in (os.path.join(package, "grammar", "lightdsl.lark"),  # shipped
                 os.path.join(os.path.dirname(package), "grammar", "lightdsl.lark")):  # tree
        if os.path.isfile(path):  # read directly: importlib.resources costs check ~4 ms
            with open(path, encoding="utf-8") as file:
                return file.read()
    from importlib import resources  # a package imported from a zip file

    return resources.files("lightdsl").joinpath("grammar/lightdsl.lark").read_text(
        encoding="utf-8")


@lru_cache(maxsize=2)
def lark_parser(start: str = "start") -> Lark:
    """A parser that builds lark's parse tree, with positions, for a whole file (or, with
    ``start="expr"``, one expression); built once per process (lark caches the tables on
    disk). ``parse`` needs it only to locate an expression nested too deeply."""
    return Lark(grammar_text(), parser="lalr", propagate_positions=True,
                maybe_placeholders=False, cache=True, start=start)


@lru_cache(maxsize=2)
def ast_parser(start: str = "start") -> tuple[Lark, AstBuilder]:
    """The parser that builds the AST as it parses, and its builder (one parse at a time)."""
    builder = AstBuilder()
    return Lark(grammar_text(), parser="lalr", keep_all_tokens=True, maybe_placeholders=False,
                cache=True, start=start, transformer=builder), builder


def parse(source: SourceFile, reporter: Reporter) -> n.Spec:
    """Parse a whole file; syntax errors go to ``reporter`` and their blocks are skipped."""
    specs = list(_parse_chunks(source, reporter))
    return n.Spec(
        span=Span(line=1, column=1, end_line=len(source.lines), end_column=1,
                  start_pos=0, end_pos=len(source.text)),
        models=[m for spec in specs for m in spec.models],
        data=[d for spec in specs for d in spec.data],
        trains=[t for spec in specs for t in spec.trains],
        sweeps=[s for spec in specs for s in spec.sweeps],
    )


def parse_value(source: SourceFile, start: int, reporter: Reporter) -> n.Expr | None:
    """Parse ``source.text[start:]`` as one expression (a ``--set`` value); its spans point
    into ``source`` (``Span.origin``), so later messages show that text. None on errors."""
    masked = " " * start + source.text[start:]  # columns stay those of the whole text
    try:
        return _build("expr", masked, reporter, origin=source)
    except UnexpectedInput as error:
        reporter.error("syntax", *_described(error, source))
        return None


def _parse_chunks(source: SourceFile, reporter: Reporter):
    """Yield the ASTs of the parts that parse; after an error, resume at the next line
    starting a definition."""
    offset = 0
    while offset < len(source.text) or offset == 0:
        # Blank out what came before so that lark's line and column numbers stay exact.
        masked = re.sub(r"[^\n]", " ", source.text[:offset]) + source.text[offset:]
        try:
            yield _build("start", masked, reporter) or n.Spec(span=Span.point(1, 1))
            return
        except UnexpectedInput as error:
            reporter.error("syntax", *_described(error, source))
            offset = _next_definition(source.text, error.pos_in_stream or 0, offset)
            if offset is None:
                return


def _described(error: UnexpectedInput, source: SourceFile):
    """The location and words of a syntax error (its module is loaded by the first one)."""
    from .syntax_errors import describe_syntax_error

    return describe_syntax_error(error, source)


def _next_definition(text: str, error_pos: int, previous: int) -> int | None:
    """The start of the first top-level keyword line after the error line, if any."""
    line_end = text.find("\n", max(error_pos, previous))
    if line_end < 0:
        return None
    match = _TOP_LEVEL.search(text, line_end + 1)
    return match.start() if match else None


def _build(start: str, text: str, reporter: Reporter, origin: SourceFile | None = None):
    """The AST of ``text`` (raises lark's UnexpectedInput), or None if an expression nests
    too deeply; the builder's diagnostics are reported only when the whole text parsed."""
    parser, builder = ast_parser(start)
    with builder.lock:
        builder.reset(origin)
        try:
            result = parser.parse(text)
            errors, deepest = builder.errors, builder.deepest
        finally:
            builder.reset(None)  # let go of this parse's nodes
    # rare: report the first place too deep as lark's tree shows it (and as before)
    if deepest > MAX_DEPTH and not _shallow_enough(lark_parser(start).parse(text), reporter,
                                                   origin):
        return None
    for error in errors:
        reporter.error(*error)
    return result


def _shallow_enough(tree: Tree, reporter: Reporter, origin: SourceFile | None = None) -> bool:
    """False, with an error at the first place too deep, if an expression nests more than
    :data:`MAX_DEPTH` levels. Iterative: deep input must not recurse here either."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in NESTING_RULES:
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


__all__ = ["UnexpectedCharacters", "UnexpectedToken", "grammar_text", "lark_parser", "parse"]
