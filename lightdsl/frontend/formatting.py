"""``lightdsl fmt``: one layout for every spec, comments kept.

The printer walks the AST (node attributes and spans only) and prints each construct in one
way: four-space indents, ``name = value`` statements of a block with their ``=`` aligned,
``frozen`` of adjacent params aligned, spaces around operators and ``=``, one blank line
between definitions and at most one inside a block, calls and lists wider than
:data:`LINE_LIMIT` filled onto continuation lines under their opening bracket. Literals keep
their spelling (``1.70``, ``'x'``); redundant parentheses go.

Comments come from the text, not the AST: a comment on its own line stays before the statement
that follows it; a comment after code stays after that code, at its column when there is room
(comments aligned in the source stay aligned). A comment inside a statement (between the
arguments of a wrapped call) cannot be placed by the printer: that statement is kept as written,
only re-indented. The result always parses to the same tree (:func:`same_tree`), and formatting
it again changes nothing.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from . import nodes as n
from .diagnostics import Diagnostic, Reporter
from .parser import parse
from .source import SourceFile

LINE_LIMIT = 100
INDENT = "    "
_LEXEME = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*|[{}]')
_NUMBER = re.compile(r"(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}


class FormatError(Exception):
    """The text does not parse: it cannot be formatted. ``diagnostics`` say why."""

    def __init__(self, diagnostics: list[Diagnostic], source: SourceFile):
        super().__init__(diagnostics[0].message if diagnostics else "does not parse")
        self.diagnostics, self.source = diagnostics, source


def format_text(text: str, path: str = "<string>") -> str:
    """``text`` laid out canonically (lines end in ``\\n``); raises :class:`FormatError` if
    it has syntax errors."""
    source = SourceFile(text.replace("\r\n", "\n"), path)
    spec = parse_strict(source)
    return _Printer(source).spec(spec)


def parse_strict(source: SourceFile) -> n.Spec:
    """The AST of ``source``, or :class:`FormatError` with its syntax errors."""
    reporter = Reporter(source)
    spec = parse(source, reporter)
    if reporter.has_errors:
        raise FormatError(reporter.sorted(), source)
    return spec


# ---- comparing trees ---------------------------------------------------------------------------


def node_fields(node: n.Node) -> list[str]:
    """The field names of an AST node (its record fields), spans left out."""
    return [name for name in type(node)._fields if name not in ("span", "keyword_span")]


def same_tree(a, b) -> bool:
    """Whether two ASTs are equal apart from where their nodes are (spans)."""
    if isinstance(a, n.Node) or isinstance(b, n.Node):
        return type(a) is type(b) and all(
            same_tree(getattr(a, f), getattr(b, f)) for f in node_fields(a))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(same_tree, a, b))
    return type(a) is type(b) and a == b


# ---- comments ----------------------------------------------------------------------------------


@dataclass
class Comment:
    pos: int
    end: int
    line: int  # 1-based
    column: int  # 0-based
    text: str
    used: bool = False


class _Text:
    """The source's comments and braces, found by one scan that skips strings."""

    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.comments: list[Comment] = []
        self.braces: list[int] = []  # offsets of "{"
        for match in _LEXEME.finditer(text):
            lexeme = match.group()
            if lexeme.startswith("#"):
                line, column = self.where(match.start())
                self.comments.append(Comment(match.start(), match.end(), line, column,
                                             lexeme.rstrip()))
            elif lexeme == "{":
                self.braces.append(match.start())
        self.starts = [comment.pos for comment in self.comments]

    def where(self, pos: int) -> tuple[int, int]:
        """(1-based line, 0-based column) of an offset."""
        index = bisect.bisect_right(self.line_starts, pos) - 1
        return index + 1, pos - self.line_starts[index]

    def line_of(self, pos: int) -> int:
        return self.where(pos)[0]

    def open_brace(self, pos: int) -> int:
        """The first ``{`` at or after ``pos``."""
        return self.braces[bisect.bisect_left(self.braces, pos)]

    def inside(self, start: int, end: int) -> list[Comment]:
        """The comments that begin strictly between two offsets."""
        return self.comments[bisect.bisect_right(self.starts, start):
                             bisect.bisect_left(self.starts, end)]

    def trailing(self, end: int) -> Comment | None:
        """The comment after ``end`` on its line with only blanks between, if any."""
        index = bisect.bisect_left(self.starts, end)
        if index == len(self.comments):
            return None
        comment = self.comments[index]
        gap = self.text[end:comment.pos]
        return comment if not gap.strip() and "\n" not in gap else None

    def blank_between(self, end: int, start: int) -> bool:
        """Whether a blank line separates offset ``end`` from offset ``start``."""
        return self.line_of(start) - self.line_of(max(end - 1, 0)) > 1 and bool(
            re.search(r"\n[ \t\r\f]*\n", self.text[end:start]))


@dataclass
class _Line:
    code: str
    comment: Comment | None = None


# ---- the printer -------------------------------------------------------------------------------


class _Printer:
    def __init__(self, source: SourceFile):
        self.source = source
        self.text = _Text(source.text)
        self.out: list[_Line | None] = []  # None: a blank line
        self.options: dict[int, n.LayerOptions] = {}  # id(layers { } item) -> its options

    # -- output --
    def emit(self, code: str, trailing_after: int | None = None) -> None:
        comment = self.text.trailing(trailing_after) if trailing_after is not None else None
        if comment is not None and not comment.used:
            comment.used = True
        else:
            comment = None
        self.out.append(_Line(code, comment))

    def blank(self) -> None:
        if self.out and self.out[-1] is not None:
            self.out.append(None)

    def finish(self) -> str:
        while self.out and self.out[-1] is None:
            self.out.pop()
        lines = self.out
        columns = _comment_columns(lines)
        text = []
        for index, line in enumerate(lines):
            if line is None:
                text.append("")
            elif line.comment is None:
                text.append(line.code.rstrip())
            else:
                code = line.code.rstrip()
                text.append((code.ljust(columns[index]) if code else code) + line.comment.text)
        return "\n".join(text) + "\n" if text else ""

    # -- structure --
    def spec(self, spec: n.Spec) -> str:
        items = sorted([*spec.models, *spec.data, *spec.trains, *spec.sweeps], key=_start)
        previous = None
        for item in items:
            self.comments_before(item.span.start_pos, "", previous, top=True)
            if previous is not None and self.out and self.out[-1] is not None \
                    and not self._comment_last():
                self.blank()
            self.definition(item)
            previous = item.span.end_pos
        self.comments_before(len(self.source.text) + 1, "", previous, top=True)
        return self.finish()

    def _comment_last(self) -> bool:
        last = self.out[-1]
        return last is not None and last.code.lstrip().startswith("#")

    def comments_before(self, pos: int, indent: str, previous: int | None,
                        top: bool = False, closing: bool = False) -> None:
        """Own-line comments before ``pos``, each after a blank line if it had one (the first
        after a definition always); ``closing``: ``pos`` is a ``}``, no blank line before it."""
        after_definition = top and previous is not None
        for comment in self.text.comments:
            if comment.used or comment.pos >= pos:
                continue
            comment.used = True
            if previous is not None and (after_definition or self.text.blank_between(
                    previous, comment.pos)):
                self.blank()
            self.out.append(_Line(indent + comment.text))
            previous, after_definition = comment.end, False
        if previous is not None and not closing and self._comment_last() \
                and self.text.blank_between(previous, pos):
            self.blank()

    def definition(self, item) -> None:
        if isinstance(item, n.ModelDef):
            header = self.fill(f"model {item.name.id}(", item.hyper_params, ") {", 0) \
                if item.hyper_params else [f"model {item.name.id} {{"]
            members = [*item.params, *item.layers, *item.layers_blocks, *item.forwards]
            self.block(item, header, members, "")
        elif isinstance(item, n.DataDef):
            self.block(item, [f"data {item.name.id} {{"], [*item.settings, *item.calls], "")
        elif isinstance(item, n.SweepDef):
            name = f" {item.name.id}" if item.name else ""
            self.block(item, [f"sweep{name} {{"], item.entries, "")
        else:
            name = f" {item.name.id}" if item.name else ""
            self.block(item, [f"train{name} {{"], [*item.settings, *item.calls], "")

    def block(self, node, header: list[str], members: list, indent: str,
              lead: str = "") -> None:
        """``header {``, the members one indent deeper, ``}``; kept as written when a comment
        sits inside the header."""
        opened = self.text.open_brace(node.span.start_pos)
        if self.text.inside(node.span.start_pos, opened):
            self.verbatim(node, indent, lead)
            return
        lines = [indent + lead + header[0], *header[1:]]
        for line in lines[:-1]:
            self.emit(line)
        self.emit(lines[-1], opened + 1)
        members = sorted(members, key=_start)
        close = node.span.end_pos - 1
        if not members and not self.text.inside(opened, close):
            last = self.out.pop()
            self.out.append(_Line(last.code + "}", last.comment))
            return
        self.members(members, indent + INDENT, close)
        self.emit(indent + "}", close + 1)

    def members(self, members: list, indent: str, close: int) -> None:
        width = max((len(_target(m)) for m in members if _target(m) is not None), default=0)
        frozen = _frozen_columns(members, self.text, len(indent))
        previous = None
        for member in members:
            self.comments_before(member.span.start_pos, indent, previous)
            if previous is not None and self.text.blank_between(previous, member.span.start_pos) \
                    and not self._comment_last():
                self.blank()
            self.member(member, indent, width, frozen.get(id(member)))
            previous = member.span.end_pos
        self.comments_before(close, indent, previous, closing=True)

    def member(self, member, indent: str, width: int, frozen_column: int | None) -> None:
        options = self.options.get(id(member))  # a layers { } item's
        if options is None and isinstance(member, n.LayerDef):
            options = member.options
        end = options.span.end_pos if options else member.span.end_pos
        if isinstance(member, (n.LayersBlock, n.ForwardDef)) or (
                isinstance(member, n.LayerDef) and isinstance(member.value, n.Repeat)) \
                or isinstance(member, n.Repeat):
            self.nested_block(member, indent, width)
            if options:  # after the repeat's closing brace
                last = self.out.pop()
                self.emit(f"{last.code} {options_text(options, self.text)}", end)
        elif self.text.inside(member.span.start_pos, end):
            self.verbatim(member, indent, end=end)
        else:
            lines = self.statement(member, indent, width, frozen_column)
            if options:
                more = options_lines(options, len(lines[-1]) + 1, self.text)
                lines[-1] += " " + more[0]
                lines.extend(more[1:])
            for line in lines[:-1]:
                self.emit(line)
            self.emit(lines[-1], end)

    def nested_block(self, member, indent: str, width: int) -> None:
        if isinstance(member, n.LayersBlock):
            self.options.update((id(member.items[o.index]), o) for o in member.options)
            self.block(member, ["layers {"], member.items, indent)
        elif isinstance(member, n.ForwardDef):
            inputs = ", ".join(name.id for name in member.inputs)
            self.block(member, [f"forward({inputs}) {{"], member.body, indent)
        elif isinstance(member, n.Repeat):
            self.block(member, [f"repeat({flat(member.count, self.text)}) {{"], member.items,
                       indent)
        else:
            repeat = member.value
            lead = f"{member.name.id.ljust(width)} = "
            if self.text.inside(member.span.start_pos, repeat.span.start_pos):
                self.verbatim(member, indent)
                return
            self.block(repeat, [f"repeat({flat(repeat.count, self.text)}) {{"], repeat.items,
                       indent, lead)

    def statement(self, member, indent: str, width: int, frozen_column: int | None) -> list:
        """The lines of one simple statement (a setting, layer, param, call, assignment...)."""
        if isinstance(member, n.ParamDef):
            line = f"{indent}param {member.name.id} = {flat(member.value, self.text)}"
            if member.frozen:
                line = line.ljust((frozen_column or len(line)) + 1) + "frozen"
            return [line]
        if isinstance(member, n.ReturnStmt):
            if member.rest:
                return [indent + "return " + ", ".join(flat(v, self.text) for v in member.values)]
            return self.assigned(indent + "return ", member.value)
        target = _target(member)
        if target is not None:
            return self.assigned(f"{indent}{target.ljust(width)} = ", member.value)
        return self.assigned(indent, member)  # a call: a data transform, lr_find, a layer

    def assigned(self, prefix: str, value) -> list[str]:
        lines = render(value, len(prefix), self.text)
        return [prefix + lines[0], *lines[1:]]

    def fill(self, prefix: str, items: list, close: str, column: int) -> list[str]:
        return fill(prefix, items, close, column, self.text)

    def verbatim(self, node, indent: str, lead: str = "", end: int | None = None) -> None:
        """The construct as written (a comment sits inside it), moved to ``indent``; ``end``:
        where it ends, if after the node (a layer's options)."""
        start, end = node.span.start_pos, node.span.end_pos if end is None else end
        for comment in self.text.inside(start, end):
            comment.used = True
        line = self.source.line_text(self.text.line_of(start))
        lines = self.source.text[start:end].split("\n")
        shift = len(indent) - (len(line) - len(line.lstrip(" ")))
        moved = [indent + lead + lines[0]]
        for line in lines[1:]:
            blanks = len(line) - len(line.lstrip(" "))
            moved.append(" " * max(blanks + shift, 0) + line.lstrip(" ") if line.strip() else "")
        for line in moved[:-1]:
            self.out.append(_Line(line))
        self.emit(moved[-1], end)


def options_lines(options: n.LayerOptions, column: int, text: _Text) -> list[str]:
    """A layer's options starting at ``column``, ``init``'s call filled onto more lines when
    they do not fit in :data:`LINE_LIMIT`."""
    shown = options_text(options, text)
    if options.init is None or column + len(shown) <= LINE_LIMIT:
        return [shown]
    lead = options_text(options.replace(init=None), text)
    lead = f"{lead} init " if lead else "init "
    lines = render(options.init, column + len(lead), text)
    return [lead + lines[0], *lines[1:]]


def options_text(options: n.LayerOptions, text: _Text) -> str:
    """A layer's options in their one order: ``frozen(...) lr_mult(...) init weights(...)``."""
    parts = []
    if options.frozen is not None:
        keywords = options.frozen.keywords
        parts.append("frozen" + (f"({', '.join(flat(k, text) for k in keywords)})"
                                 if keywords else ""))
    if options.lr_mult is not None:
        parts.append(f"lr_mult({flat(options.lr_mult, text)})")
    if options.init is not None:
        parts.append(f"init {flat(options.init, text)}")
    return " ".join(parts)


def _start(node) -> int:
    return node.span.start_pos


def _target(member) -> str | None:
    """The text left of ``=`` of an aligned statement (settings, named layers, assignments)."""
    if isinstance(member, (n.Setting, n.LayerDef)):
        return member.name.id
    if isinstance(member, n.Assign):
        return ", ".join(name.id for name in member.targets)
    if isinstance(member, n.SweepEntry):
        return member.key
    return None


def _frozen_columns(members: list, text: _Text, indent: int) -> dict[int, int]:
    """Where ``frozen`` goes for each frozen param: aligned across params on adjacent lines."""
    columns, run = {}, []

    def close_run():
        frozen = [m for m in run if m.frozen and not text.inside(m.span.start_pos,
                                                                  m.span.end_pos)]
        widest = max((indent + len(f"param {m.name.id} = {flat(m.value, text)}")
                      for m in frozen), default=0)
        columns.update((id(m), widest) for m in frozen)
        run.clear()

    for member in members:
        if not isinstance(member, n.ParamDef) or (
                run and text.line_of(member.span.start_pos) != text.line_of(
                    run[-1].span.end_pos) + 1):
            close_run()
        if isinstance(member, n.ParamDef):
            run.append(member)
    close_run()
    return columns


def _comment_columns(lines: list[_Line | None]) -> dict[int, int]:
    """The column of each trailing comment: where it was written when the code leaves room
    (two blanks at least), one column for comments written aligned on adjacent lines."""
    columns: dict[int, int] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        if line is None or line.comment is None or not line.code.strip():
            index += 1
            continue
        group = [index]
        while group[-1] + 1 < len(lines) and _aligned(lines[group[-1] + 1], line):
            group.append(group[-1] + 1)
        column = max(max(lines[i].comment.column, len(lines[i].code.rstrip()) + 2)
                     for i in group)
        columns.update((i, column) for i in group)
        index = group[-1] + 1
    return columns


def _aligned(line: _Line | None, first: _Line) -> bool:
    return line is not None and line.comment is not None and bool(line.code.strip()) \
        and line.comment.column == first.comment.column


# ---- expressions -------------------------------------------------------------------------------


def flat(expr, text: _Text) -> str:
    """An expression on one line, with the fewest parentheses that keep its tree."""
    if isinstance(expr, n.Number):
        return _number(expr, text)
    if isinstance(expr, n.String):
        return text.text[expr.span.start_pos:expr.span.end_pos]
    if isinstance(expr, n.Boolean):
        return "true" if expr.value else "false"
    if isinstance(expr, n.NoneLiteral):
        return "none"
    if isinstance(expr, n.Name):
        return expr.id
    if isinstance(expr, n.Keyword):
        return f"{expr.name.id} = {flat(expr.value, text)}"
    if isinstance(expr, n.HyperParam):
        return f"{expr.name.id} = {flat(expr.default, text)}"
    if isinstance(expr, n.Call):
        return f"{expr.func.id}({', '.join(flat(a, text) for a in _arguments(expr))})"
    if isinstance(expr, n.ListExpr):
        return f"[{', '.join(flat(item, text) for item in expr.items)}]"
    if isinstance(expr, n.Neg):
        return "-" + _operand(expr.operand, 3, text)
    if isinstance(expr, n.BinOp):
        level = _PRECEDENCE[expr.op]
        left, right = (5, 3) if expr.op == "**" else (level, level + 1)
        return f"{_operand(expr.left, left, text)} {expr.op} {_operand(expr.right, right, text)}"
    raise TypeError(f"cannot format {type(expr).__name__}")


def _operand(expr, least: int, text: _Text) -> str:
    shown = flat(expr, text)
    return shown if _precedence(expr, text) >= least else f"({shown})"


def _precedence(expr, text: _Text) -> int:
    if isinstance(expr, n.BinOp):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, n.Neg) or (isinstance(expr, n.Number)
                                   and _number(expr, text).startswith("-")):
        return 3
    return 5


def _number(expr: n.Number, text: _Text) -> str:
    """The literal as written; a folded ``-0.85`` (or ``- (0.85)``) keeps its sign."""
    written = text.text[expr.span.start_pos:expr.span.end_pos]
    literal = None
    for literal in _NUMBER.finditer(written):
        pass
    if literal is None:  # not from this text (cannot happen for a parsed file): the value
        return repr(expr.value)
    negative = written[:literal.start()].count("-") % 2
    return "-" + literal.group() if negative else literal.group()


def _arguments(call: n.Call) -> list:
    return [*call.args, *call.keywords]


def render(expr, column: int, text: _Text) -> list[str]:
    """``expr`` starting at ``column``: one line if it fits in :data:`LINE_LIMIT`, else a call
    or list filled onto lines under its opening bracket (later lines carry their indent)."""
    shown = flat(expr, text)
    if column + len(shown) <= LINE_LIMIT:
        return [shown]
    if isinstance(expr, n.Call) and _arguments(expr):
        return fill(f"{expr.func.id}(", _arguments(expr), ")", column, text)
    if isinstance(expr, n.ListExpr) and expr.items:
        return fill("[", expr.items, "]", column, text)
    if isinstance(expr, (n.Keyword, n.HyperParam)):
        value = expr.value if isinstance(expr, n.Keyword) else expr.default
        lines = render(value, column + len(expr.name.id) + 3, text)
        return [f"{expr.name.id} = {lines[0]}", *lines[1:]]
    return [shown]


def fill(prefix: str, items: list, close: str, column: int, text: _Text) -> list[str]:
    """``prefix`` then ``items`` separated by commas, as many on a line as fit, the later
    lines starting under the first item, ``close`` after the last."""
    inner = column + len(prefix)
    done: list[str] = []
    line, start, fresh = prefix, column, True  # ``start``: the column ``line`` begins at
    for index, item in enumerate(items):
        suffix = "," if index < len(items) - 1 else close
        piece = flat(item, text) + suffix
        joined = line + piece if fresh else f"{line} {piece}"
        if start + len(joined) <= LINE_LIMIT:
            line, fresh = joined, False
            continue
        if not fresh:
            done.append(line)
            line, start, fresh = " " * inner, 0, True
            if len(line) + len(piece) <= LINE_LIMIT:
                line, fresh = line + piece, False
                continue
        parts = render(item, start + len(line), text)
        parts[-1] += suffix
        if len(parts) == 1:
            line, fresh = line + parts[0], False
            continue
        done.append(line + parts[0])
        done.extend(parts[1:-1])
        line, start, fresh = parts[-1], 0, False
    done.append(line)
    return done
