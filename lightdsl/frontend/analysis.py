"""The front end as one call: text -> parse -> check, torch-free.

``analyze`` is what ``lightdsl check`` runs for each file and what ``lightdsl.load`` runs before
building; it never raises for anything in the text.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass

from ..checker import Program, check
from .diagnostics import Diagnostic, Reporter
from .parser import parse
from .source import SourceFile


@dataclass
class Analysis:
    """The outcome for one file: its source, diagnostics in order, and the checked program
    (None when the text did not parse)."""

    source: SourceFile
    diagnostics: list[Diagnostic]
    program: Program | None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def analyze(source: SourceFile) -> Analysis:
    """Parse and check one source; syntax errors stop before the semantic checks."""
    reporter = Reporter(source)
    with _no_gc():
        spec = parse(source, reporter)
        program = None if reporter.has_errors else check(spec, reporter)
    return Analysis(source, reporter.sorted(), program)


@contextmanager
def _no_gc():
    """The AST is many small objects and holds no cycles worth collecting while it is built;
    the cyclic collector re-scanning it makes large specs grow faster than linearly."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyze_text(text: str, path: str = "<string>") -> Analysis:
    return analyze(SourceFile(text, path))


def analyze_file(path: str) -> Analysis:
    """Read and analyze a file; raises OSError if it cannot be read."""
    return analyze(SourceFile.read(path))
