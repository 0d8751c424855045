"""Source text and spans: where in a spec something is, for diagnostics and code maps."""

from __future__ import annotations

import errno
import io

from .files import ReadLimit, read_head
from .records import Record, _set

BOM = "\ufeff"
SPEC_LIMIT = 16 * 2**20  # bytes: the largest spec read (real ones are a few kB)


class Span(Record):
    """A region of a spec: 1-based lines and columns, end column exclusive, plus offsets.

    ``origin`` is the :class:`SourceFile` the span points into when that is not the spec being
    checked (a ``--set`` override's text); None means the spec itself.
    """

    __slots__ = ("column", "end_column", "end_line", "end_pos", "line", "origin", "start_pos")
    _hidden = frozenset({"origin"})

    def __init__(self, line: int, column: int, end_line: int, end_column: int,
                 start_pos: int = 0, end_pos: int = 0, origin: SourceFile | None = None):
        _set(self, "line", line)
        _set(self, "column", column)
        _set(self, "end_line", end_line)
        _set(self, "end_column", end_column)
        _set(self, "start_pos", start_pos)
        _set(self, "end_pos", end_pos)
        _set(self, "origin", origin)

    @classmethod
    def point(cls, line: int, column: int, pos: int = 0, width: int = 1) -> Span:
        """A span of ``width`` characters starting at one position."""
        return cls(line, column, line, column + width, pos, pos + width)

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


class SourceFile:
    """A spec's text with its file name; knows its lines for printing carets."""

    def __init__(self, text: str, path: str = "<string>"):
        # A UTF-8 byte-order mark is an encoding artefact, not text: without it, columns and
        # offsets of the first line count from the first real character.
        self.text = text.removeprefix(BOM)
        self.path = path
        self._lines: list[str] | None = None

    @classmethod
    def read(cls, path: str) -> SourceFile:
        """Read a spec file as UTF-8, with or without a byte-order mark (invalid bytes are
        replaced, never a crash)."""
        data = read_head(path, SPEC_LIMIT + 1)  # a FIFO or a device is refused, not read
        if len(data) > SPEC_LIMIT:
            raise ReadLimit(errno.EFBIG, f"larger than {SPEC_LIMIT // 2**20} MiB: not a spec",
                            path)
        with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace") as text:
            return cls(text.read(), path)  # newlines translated as a text-mode read does

    @property
    def lines(self) -> list[str]:
        """The lines as the parser counts them: split at "\\n" only (a form feed or a lone
        "\\r" does not start a line for lark), without a trailing "\\r"."""
        if self._lines is None:
            lines = self.text.split("\n")
            if len(lines) > 1 and lines[-1] == "":
                lines.pop()
            self._lines = [line.removesuffix("\r") for line in lines]
        return self._lines

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, or '' past the end."""
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""

    def end_span(self) -> Span:
        """A one-character span just after the last character, for 'unexpected end of file'."""
        line = len(self.lines)
        column = len(self.line_text(line)) + 1
        return Span.point(line, column, len(self.text))
