"""Writing Python source: lines with indentation, ruff-style line splitting, spec references.

A :class:`CodeWriter` is jinja2's CodeGenerator idea in small: ``line`` writes one line at the
current indentation, ``indent()`` nests, ``ref(span)`` writes a ``# spec.lit:12`` comment and
records which generated line came from which spec line (:attr:`CodeWriter.line_map`).

Expressions that may be too long are documents: a string, or :class:`Group` (a bracketed,
comma-separated list) inside :class:`Concat`. :func:`layout` renders them as ``ruff format``
does: on one line if it fits, else the last bracket opened on the line breaks, with its contents
on one indented line if they fit there (a call's arguments; a list or dict display always goes
one item per line), else a sole item split in place, several one per line with a trailing
comma. An operator chain splits before its operators, in parentheses of its own
unless a bracket already holds it (``torch.relu(a + b)``, not ``torch.relu((a + b),)``).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

WIDTH = 88  # ruff format's default line length
INDENT = "    "


@dataclass(frozen=True)
class Group:
    """``open item, item, ... close``; ``one`` marks a one-element tuple (it keeps its comma)."""

    open: str
    items: tuple
    close: str
    one: bool = False


@dataclass(frozen=True)
class Concat:
    """Documents written one after the other."""

    parts: tuple


@dataclass(frozen=True)
class Chain:
    """Operands joined by binary operators of one precedence: ``a + b - c``; too long for a
    line, it is wrapped in parentheses with one operand per line, as ruff format does."""

    operands: tuple
    ops: tuple


@dataclass(frozen=True)
class Comprehension:
    """``open element clause close``, e.g. ``*[Block() for _ in range(4)]``; too long for a
    line, the element and the clause each go on lines of their own, as ruff format does."""

    open: str
    element: Doc
    clause: str
    close: str


Doc = str | Group | Concat | Chain | Comprehension


def concat(*parts: Doc) -> Doc:
    """Join documents; adjacent strings are merged."""
    merged: list = []
    expanded = [p for part in parts for p in (part.parts if isinstance(part, Concat) else (part,))]
    for part in expanded:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    return merged[0] if len(merged) == 1 else Concat(tuple(merged))


def flat(doc: Doc) -> str:
    """A document on one line."""
    if isinstance(doc, str):
        return doc
    if isinstance(doc, Concat):
        return "".join(flat(p) for p in doc.parts)
    if isinstance(doc, Chain):
        rest = "".join(f" {op} {flat(o)}" for op, o in zip(doc.ops, doc.operands[1:]))
        return flat(doc.operands[0]) + rest
    if isinstance(doc, Comprehension):
        return f"{doc.open}{flat(doc.element)} {doc.clause}{doc.close}"
    inner = ", ".join(flat(i) for i in doc.items)
    return f"{doc.open}{inner}{',' if doc.one else ''}{doc.close}"


def layout(doc: Doc, column: int, suffix: str = "", bracketed: bool = False) -> list[str]:
    """``doc`` + ``suffix`` as lines; the first starts at ``column``, later ones carry their
    own indentation relative to that column's indentation. ``bracketed``: ``doc`` is an item
    directly inside a bracket (a chain there needs no parentheses to continue a line)."""
    text = flat(doc) + suffix
    if column + len(text) <= WIDTH:
        return [text]
    if isinstance(doc, Comprehension):
        body = [*layout(doc.element, column + len(INDENT)), doc.clause]
        return [doc.open, *[INDENT + line for line in body], doc.close + suffix]
    if isinstance(doc, Chain) and bracketed:
        return _operands(doc, column, suffix)
    chain = doc if isinstance(doc, Chain) else \
        doc.parts[-1] if isinstance(doc, Concat) and isinstance(doc.parts[-1], Chain) else None
    if chain is not None:
        head = flat(Concat(doc.parts[:-1])) if isinstance(doc, Concat) else ""
        body = _operands(chain, column + len(INDENT))
        return [head + "(", *[INDENT + line for line in body], ")" + suffix]
    last = _last_group(doc)
    if last is None:
        return [text]
    head, group, tail = last
    inner = column + len(INDENT)
    items = ", ".join(flat(i) for i in group.items) + ("," if group.one else "")
    # a display ([...], {...}) that breaks has one item per line, as ruff (and black) do;
    # a call's arguments may stay together on one indented line
    if inner + len(items) <= WIDTH and not group.one and group.open not in ("[", "{"):
        body = [INDENT + items]
    elif len(group.items) == 1 and not group.one:  # ruff adds no comma after a sole item
        body = [INDENT + line for line in layout(group.items[0], inner, bracketed=True)]
    else:
        body = []
        for item in group.items:
            body += [INDENT + line for line in layout(item, inner, ",", bracketed=True)]
    return [head + group.open, *body, group.close + flat(tail) + suffix]


def _operands(chain: Chain, column: int, suffix: str = "") -> list[str]:
    """A chain one operand per line, each after its operator, all starting at ``column``."""
    lines = layout(chain.operands[0], column)
    last = len(chain.operands) - 1
    for index, (op, operand) in enumerate(zip(chain.ops, chain.operands[1:]), 1):
        lines += layout(concat(f"{op} ", operand), column, suffix if index == last else "")
    return lines


def _last_group(doc: Doc):
    """(text before, the group, what follows) for the last top-level group, or None."""
    if isinstance(doc, Group):
        return "", doc, ""
    if isinstance(doc, Concat):
        for i in range(len(doc.parts) - 1, -1, -1):
            if isinstance(doc.parts[i], Group):
                head = "".join(flat(p) for p in doc.parts[:i])
                return head, doc.parts[i], Concat(doc.parts[i + 1 :])
    return None


def comment_text(text: str) -> str:
    """Text safe inside a ``#`` comment: anything that is not printable is escaped."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def safe_file_name(path: str) -> str:
    """A spec file's base name with only letters, digits, ``_ . -`` (for comments)."""
    base = re.split(r"[\\/]", path)[-1] or "spec.lit"
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", base)


@dataclass
class CodeWriter:
    """Lines of Python at an indentation level, with a map back to spec lines."""

    spec_name: str = "spec.lit"
    lines: list[str] = field(default_factory=list)
    line_map: dict[int, int] = field(default_factory=dict)  # generated line -> spec line
    level: int = 0

    def line(self, text: str = "") -> None:
        """Write one line at the current indentation (an empty line has none)."""
        self.lines.append(INDENT * self.level + text if text else "")

    def statement(self, doc: Doc, prefix: str = "", suffix: str = "", span=None,
                  pragma: str = "") -> None:
        """Write ``prefix + doc + suffix``, split over lines as ruff format would; with a
        ``span``, a ``# spec.lit:LINE`` comment at its end if it fits, else on a line above.
        ``pragma`` (``# noqa: ...``) goes at the end and, as in ruff, does not count."""
        column = len(INDENT) * self.level
        doc = concat(prefix, doc)
        if span is not None:
            where = f"  # {self.spec_name}:{span.line}"
            lines = layout(doc, column, suffix + where)
            if len(lines) > 1 or pragma:
                self.ref(span)
                lines = layout(doc, column, suffix)
            else:
                self.line_map[len(self.lines) + 1] = span.line
        else:
            lines = layout(doc, column, suffix)
        lines[-1] += pragma
        for text in lines:
            self.line(text)

    def comment(self, text: str) -> None:
        self.line("# " + comment_text(text))

    def ref(self, span, what: str = "") -> None:
        """A ``# spec.lit:LINE what`` comment, and the line map entry of the next line."""
        self.comment(f"{self.spec_name}:{span.line}" + (f" {what}" if what else ""))
        self.line_map[len(self.lines) + 1] = span.line

    def docstring(self, text: str) -> None:
        """A one-line docstring; ``text`` must be plain (the callers build it from names)."""
        plain = comment_text(text).replace("\\", "/").replace('"', "'")
        self.line(f'"""{plain}"""')

    def blank(self, count: int = 1) -> None:
        """End the lines so far with exactly ``count`` empty lines (none at the start)."""
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        if self.lines:
            self.lines.extend([""] * count)

    @contextlib.contextmanager
    def indent(self):
        self.level += 1
        try:
            yield
        finally:
            self.level -= 1

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"
