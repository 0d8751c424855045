"""One open document: its text, its analysis, and the last text that parsed.

Users type incomplete code. When the text does not parse, the diagnostics are the syntax
errors (as ``lightdsl check`` reports them), and hover and navigation use two fallbacks: the
blocks that still parse, checked on their own (their offsets are the current text's), and the
last good analysis, reached through a line map from the current text to that one.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..analysis import Analysis, analyze
from ..checker import Program, check
from ..frontend.diagnostics import Reporter
from ..frontend.source import SourceFile
from .positions import Lines


@dataclass
class View:
    """An analysed text: its source, lines, AST (possibly partial) and checked program."""

    source: SourceFile
    lines: Lines
    spec: object | None
    program: Program | None

    @property
    def text(self) -> str:
        return self.source.text


@dataclass
class Document:
    uri: str
    path: str
    text: str
    version: int | None = None
    encoding: str = "utf-16"
    analysis: Analysis | None = None
    current: View | None = None  # this text's (partial) program
    good: View | None = None  # the last text that parsed
    _line_map: dict[int, int] | None = field(default=None, repr=False)

    def update(self, text: str, version: int | None) -> None:
        if text != self.text:
            self.analysis, self.current, self._line_map = None, None, None
        self.text, self.version = text, version

    def analyse(self) -> Analysis:
        """Parse and check the current text once (cached until it changes)."""
        if self.analysis is None:
            source = SourceFile(self.text, self.path)
            self.analysis = analyze(source)
            lines = Lines(source.text, self.encoding)
            if self.analysis.program is not None:
                self.current = View(source, lines, self.analysis.program.spec,
                                    self.analysis.program)
                self.good = self.current
            else:
                self.current = _partial(source, lines)
        return self.analysis

    def view(self) -> View:
        self.analyse()
        return self.current

    def to_good(self, line: int) -> int | None:
        """The line (0-based) of the last good text that is the same as ``line`` of the
        current text, or None when that line changed."""
        if self.good is None:
            return None
        if self.good is self.current:
            return line
        if self._line_map is None:
            old, new = self.good.text.split("\n"), self.view().text.split("\n")
            matcher = difflib.SequenceMatcher(None, new, old, autojunk=False)
            self._line_map = {}
            for tag, i1, i2, j1, _ in matcher.get_opcodes():
                if tag == "equal":
                    self._line_map.update((i, j1 + i - i1) for i in range(i1, i2))
        return self._line_map.get(line)


def _partial(source: SourceFile, lines: Lines) -> View:
    """The definitions that parse, checked alone (their findings dropped: the user sees the
    syntax errors); never raises."""
    from ..frontend.parser import parse

    reporter = Reporter(source)
    try:
        spec = parse(source, reporter)
        program = check(spec, Reporter(source))
    except Exception:  # noqa: BLE001 (a half-typed text must never stop the server)
        return View(source, lines, None, None)
    return View(source, lines, spec, program)
