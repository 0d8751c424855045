"""Source text and spans: where in a spec something is, for diagnostics and code maps."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A region of a spec: 1-based lines and columns, end column exclusive, plus offsets."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    line: int
    column: int
    end_line: int
    end_column: int
    start_pos: int = 0
    end_pos: int = 0

    @classmethod
    def point(cls, line: int, column: int, pos: int = 0, width: int = 1) -> Span:
        """A span of ``width`` characters starting at one position."""
        return cls.model_construct(line=line, column=column, end_line=line, end_column=column + width,
                   start_pos=pos, end_pos=pos + width)

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


class SourceFile:
    """A spec's text with its file name; knows its lines for printing carets."""

    def __init__(self, text: str, path: str = "<string>"):
        self.text = text
        self.path = path
        self._lines: list[str] | None = None

    @classmethod
    def read(cls, path: str) -> SourceFile:
        """Read a spec file as UTF-8 (invalid bytes are replaced, never a crash)."""
        with open(path, encoding="utf-8", errors="replace") as handle:
            return cls(handle.read(), path)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines() or [""]
        return self._lines

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, or '' past the end."""
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""

    def end_span(self) -> Span:
        """A one-character span just after the last character, for 'unexpected end of file'."""
        line = len(self.lines)
        column = len(self.line_text(line)) + 1
        return Span.point(line, column, len(self.text))
