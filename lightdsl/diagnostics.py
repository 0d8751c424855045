"""Diagnostics: errors and warnings as values, collected and printed like a compiler's.

Every problem found in a spec becomes a :class:`Diagnostic` with a span; nothing is raised at
the first problem. Output formats: ``text`` (mypy style, with the source line and a caret),
``json`` (one object per line) and ``github`` (workflow annotations).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel

from .source import SourceFile, Span

Severity = Literal["error", "warning", "note"]


class Diagnostic(BaseModel):
    """One finding: where it is, how bad, a short code and a message in words."""

    file: str
    span: Span
    severity: Severity
    code: str
    message: str
    hint: str | None = None

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def header(self) -> str:
        return f"{self.file}:{self.span.line}:{self.span.column}: {self.severity}: {self.message}"


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word``, or None when nothing is close."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """'; did you mean "x"?' for the closest candidate, or '' when nothing is close."""
    match = closest(word, candidates)
    return f'; did you mean "{match}"?' if match else ""


class Reporter:
    """Collects diagnostics for one source file, dropping exact repeats."""

    def __init__(self, source: SourceFile):
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[tuple] = set()

    def report(self, severity: Severity, code: str, span: Span, message: str,
               hint: str | None = None) -> None:
        key = (severity, code, span.start_pos, span.end_pos, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.diagnostics.append(Diagnostic(file=self.source.path, span=span, severity=severity,
                                           code=code, message=message, hint=hint))

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
    """The mypy-style header, the source line and a caret/underline under the span."""
    lines = [diagnostic.header() + f"  [{diagnostic.code}]"]
    text = source.line_text(diagnostic.span.line)
    if text.strip():
        start = diagnostic.span.column
        end = diagnostic.span.end_column if diagnostic.span.end_line == diagnostic.span.line \
            else len(text) + 1
        width = max(1, end - start)
        prefix = "".join(ch if ch == "\t" else " " for ch in text[: start - 1])
        lines += [f"    {text}", f"    {prefix}^{'~' * (width - 1)}"]
    if diagnostic.hint:
        lines.append(f"    hint: {diagnostic.hint}")
    return "\n".join(lines)


def render_json(diagnostic: Diagnostic) -> str:
    """One JSON object with file, line, column, end, severity, code and message."""
    span = diagnostic.span
    return json.dumps({
        "file": diagnostic.file, "line": span.line, "column": span.column,
        "end_line": span.end_line, "end_column": span.end_column,
        "severity": diagnostic.severity, "code": diagnostic.code,
        "message": diagnostic.message, "hint": diagnostic.hint,
    })


def render_github(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command, so the finding shows on the pull request's diff."""
    span = diagnostic.span
    level = "error" if diagnostic.severity == "error" else "warning"
    message = diagnostic.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return (f"::{level} file={diagnostic.file},line={span.line},col={span.column},"
            f"endLine={span.end_line},endColumn={span.end_column},"
            f"title=lightdsl {diagnostic.code}::{message}")
