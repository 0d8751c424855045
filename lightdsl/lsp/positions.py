"""LSP positions (0-based line, character in the client's code units) <-> text offsets."""

from __future__ import annotations

import bisect
import re

from ..frontend.source import Span


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


UNITS = {"utf-16": _utf16, "utf-8": _utf8, "utf-32": len}


class Lines:
    """A text's line starts, and conversions in one position encoding (UTF-16 by default)."""

    def __init__(self, text: str, encoding: str = "utf-16"):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.units = UNITS.get(encoding, _utf16)

    def line_text(self, line: int) -> str:
        """The text of a 0-based line, without its newline."""
        if not 0 <= line < len(self.starts):
            return ""
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[line]:end].removesuffix("\r")

    def offset(self, line: int, character: int) -> int:
        """The offset of an LSP position (clamped to the text)."""
        if line >= len(self.starts):
            return len(self.text)
        text = self.line_text(line)
        count = 0
        for index, char in enumerate(text):
            if count >= character:
                return self.starts[line] + index
            count += self.units(char)
        return self.starts[line] + len(text)

    def position(self, offset: int) -> tuple[int, int]:
        """(line, character) of an offset, in client units."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, self.units(self.text[self.starts[line]:offset])

    def span_range(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        """The (start, end) positions of a checker span (1-based lines and columns)."""
        return (self._point(span.line, span.column), self._point(span.end_line,
                                                                  span.end_column))

    def _point(self, line: int, column: int) -> tuple[int, int]:
        text = self.line_text(line - 1)
        return line - 1, self.units(text[:max(column - 1, 0)])
