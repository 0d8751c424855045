"""``lightdsl check FILE...``: validate specs in CI, fast and without importing torch."""

from __future__ import annotations

import glob
import os
import sys

from ..analysis import Analysis, analyze_file
from ..errors import UsageError
from ..frontend.diagnostics import render_github, render_json, render_text

RENDERERS = {"text": None, "json": render_json, "github": render_github}


def register(commands) -> None:
    parser = commands.add_parser("check", help="validate specs: syntax, names, types, shapes",
                                 description="Check .lit specs and report every problem as "
                                 "file:line:col. Exit code 0: no errors; 1: errors; 2: usage "
                                 "or I/O problem.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="spec files or glob patterns")
    parser.add_argument("--format", choices=list(RENDERERS), default="text",
                        help="text (default), json (one object per line) or github "
                        "(workflow annotations)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    parser.set_defaults(run=run)


def expand(patterns: list[str]) -> list[str]:
    """Expand globs (also on shells that do not); a pattern matching nothing is an error."""
    files: list[str] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) \
            else [pattern]
        if not matches:
            raise UsageError(f"no files match {pattern!r}")
        files.extend(matches)
    return files


def _analyze(path: str) -> Analysis:
    if os.path.isdir(path):
        raise UsageError(f"{path} is a directory; pass files or a glob such as {path}/*.lit")
    try:
        return analyze_file(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror}") from None


def run(args) -> int:
    analyses = [_analyze(path) for path in expand(args.files)]
    render = RENDERERS[args.format]
    for analysis in analyses:
        for diagnostic in analysis.diagnostics:
            print(render(diagnostic) if render else render_text(diagnostic, analysis.source))
    if args.format == "text" and not args.quiet:
        sys.stdout.flush()  # the diagnostics first, also when both streams go to one pipe
        print(summary(analyses), file=sys.stderr if _has_errors(analyses) else sys.stdout)
    return 1 if _has_errors(analyses) else 0


def _has_errors(analyses: list[Analysis]) -> bool:
    return any(not a.ok for a in analyses)


def summary(analyses: list[Analysis]) -> str:
    """mypy-style closing line: 'Found 3 errors in 1 file (checked 4 files)'."""
    checked = f"{len(analyses)} file{'s' if len(analyses) != 1 else ''}"
    errors = sum(len(a.errors) for a in analyses)
    warnings = sum(len(a.diagnostics) - len(a.errors) for a in analyses)
    bad = sum(1 for a in analyses if not a.ok)
    tail = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    if errors:
        return (f"Found {errors} error{'s' if errors != 1 else ''}{tail} in {bad} "
                f"file{'s' if bad != 1 else ''} (checked {checked})")
    return f"Success: no errors in {checked}{tail}"
