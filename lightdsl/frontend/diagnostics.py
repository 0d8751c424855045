"""Diagnostics: errors and warnings as values, collected and printed like a compiler's.

Every problem found in a spec becomes a :class:`Diagnostic` with a span; nothing is raised at
the first problem. Output formats: ``text`` (mypy style, with the source line and a caret),
``json`` (one object per line) and ``github`` (workflow annotations).
"""

from __future__ import annotations

import json
import unicodedata
from typing import Literal

from .records import Record, _set
from .source import SourceFile, Span

Severity = Literal["error", "warning", "note"]


class Note(Record):
    """A second place a finding concerns (inside a used model), printed as a ``note:`` line."""

    __slots__ = ("file", "message", "span")

    def __init__(self, *, file: str, span: Span, message: str):
        _set(self, "file", file)
        _set(self, "span", span)
        _set(self, "message", message)

    def header(self) -> str:
        return (f"{escape_controls(self.file)}:{self.span.line}:{self.span.column}: "
                f"note: {escape_controls(self.message)}")


class Diagnostic(Record):
    """One finding: where it is, how bad, a short code and a message in words; ``notes``
    point at further places (the line inside a used model that a use-site error comes from)."""

    __slots__ = ("code", "file", "hint", "message", "notes", "severity", "span")

    def __init__(self, *, file: str, span: Span, severity: Severity, code: str, message: str,
                 hint: str | None = None, notes: list[Note] | None = None):
        _set(self, "file", file)
        _set(self, "span", span)
        _set(self, "severity", severity)
        _set(self, "code", code)
        _set(self, "message", message)
        _set(self, "hint", hint)
        _set(self, "notes", [] if notes is None else notes)

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def header(self) -> str:
        """``file:line:col: severity: message`` on one line, whatever the spec's strings hold."""
        return (f"{escape_controls(self.file)}:{self.span.line}:{self.span.column}: "
                f"{self.severity}: {escape_controls(self.message)}")


# Characters that a terminal or a CI log reader may act on: C0/C1 controls (newlines, escape
# sequences), line and paragraph separators, and lone surrogates (which cannot be printed).
_UNSAFE_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def escape_controls(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``), so that a
    message from a spec's string stays one line and cannot forge output lines."""
    if text.isprintable():
        return text
    return "".join(_escape_char(c) if _unsafe(c) else c for c in text)


def _escape_char(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _visible_line(text: str) -> str:
    """A source line for printing: each control character becomes one "?" (tabs stay), so
    the caret below still lines up."""
    if text.isprintable():
        return text
    return "".join("?" if c != "\t" and _unsafe(c) else c for c in text)


class Reporter:
    """Collects diagnostics for one source file, dropping exact repeats."""

    def __init__(self, source: SourceFile):
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[tuple] = set()

    def report(self, severity: Severity, code: str, span: Span, message: str,
               hint: str | None = None, notes: list[Note] = ()) -> None:
        key = (severity, code, id(span.origin), span.start_pos, span.end_pos, message,
               tuple((note.span.start_pos, note.message) for note in notes))
        if key in self._seen:
            return
        self._seen.add(key)
        self.diagnostics.append(Diagnostic(file=self.file_of(span), span=span,
                                           severity=severity, code=code, message=message,
                                           hint=hint, notes=list(notes)))

    def file_of(self, span: Span) -> str:
        """The path of the file ``span`` is in (a ``--set`` override has its own)."""
        return span.origin.path if span.origin is not None else self.source.path

    def seen(self, severity: Severity, code: str, span: Span, message: str) -> bool:
        """Whether exactly this finding (without notes) was reported already."""
        return (severity, code, id(span.origin), span.start_pos, span.end_pos, message,
                ()) in self._seen

    def error(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self.report("error", code, span, message, hint)

    def warning(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self.report("warning", code, span, message, hint)

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.diagnostics, key=lambda d: (d.span.start_pos, d.span.end_pos))


def render_text(diagnostic: Diagnostic, source: SourceFile) -> str:
    """The mypy-style header, the source line and a caret/underline under the span.

    The span's own source is used when it has one (a ``--set`` override). Control characters
    from the spec are escaped, so each part is exactly one line.
    """
    lines = [diagnostic.header() + f"  [{diagnostic.code}]"]
    lines += _quoted(diagnostic.span, source)
    if diagnostic.hint:
        lines.append(f"    hint: {escape_controls(diagnostic.hint)}")
    for note in diagnostic.notes:
        lines += [note.header(), *_quoted(note.span, source)]
    return "\n".join(lines)


def _quoted(span: Span, source: SourceFile) -> list[str]:
    """The source line of ``span`` and a caret/underline under it (nothing for a blank line)."""
    text = _visible_line((span.origin or source).line_text(span.line))
    if not text.strip():
        return []
    start = span.column
    end = span.end_column if span.end_line == span.line else len(text) + 1
    width = max(1, end - start)
    prefix = "".join(ch if ch == "\t" else " " for ch in text[: start - 1])
    return [f"    {text}", f"    {prefix}^{'~' * (width - 1)}"]


def render_json(diagnostic: Diagnostic) -> str:
    """One JSON object with file, line, column, end, severity, code and message."""
    span = diagnostic.span
    found = {
        "file": diagnostic.file, "line": span.line, "column": span.column,
        "end_line": span.end_line, "end_column": span.end_column,
        "severity": diagnostic.severity, "code": diagnostic.code,
        "message": diagnostic.message, "hint": diagnostic.hint,
    }
    if diagnostic.notes:  # only then, so findings without notes print as before
        found["notes"] = [{"file": note.file, "line": note.span.line,
                           "column": note.span.column, "message": note.message}
                          for note in diagnostic.notes]
    return json.dumps(found)


def render_github(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command, so the finding shows on the pull request's diff.

    The hint follows the message on a second line of the annotation (an escaped newline).
    One line whatever the spec holds: control characters are escaped first, then the
    workflow-command escapes apply (``%``, CR, LF in the message; also ``:`` and ``,`` in
    properties), so no text from a spec can end the command or start another one.
    """
    span = diagnostic.span
    level = "error" if diagnostic.severity == "error" else "warning"
    text = escape_controls(diagnostic.message + "".join(
        f" ({note.message}, line {note.span.line})" for note in diagnostic.notes))
    if diagnostic.hint:  # on its own line of the annotation, as the text format prints it
        text += "\nhint: " + escape_controls(diagnostic.hint)
    message = _github_data(text)
    file = _github_property(escape_controls(diagnostic.file))
    return (f"::{level} file={file},line={span.line},col={span.column},"
            f"endLine={span.end_line},endColumn={span.end_column},"
            f"title={_github_property(f'lightdsl {diagnostic.code}')}::{message}")


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")
