"""``lightdsl fmt FILE...``: lay specs out in the one canonical layout, comments kept.

Files are rewritten in place, atomically (a temporary file in the same folder, then a rename),
only when they change. ``--check`` rewrites nothing and exits 1 listing the files that would
change (for CI); ``--diff`` prints what would change. ``-`` formats standard input to standard
output (for editors). A file with syntax errors is reported, as ``check`` reports it, and left
alone. Torch-free.
"""

from __future__ import annotations

import difflib
import os
import sys
import tempfile

from ..errors import UsageError
from ..frontend.diagnostics import render_text
from ..frontend.files import ReadLimit, read_head
from ..frontend.formatting import FormatError, format_text, parse_strict, same_tree
from ..frontend.source import BOM, SPEC_LIMIT, SourceFile
from .check import expand


def register(commands) -> None:
    parser = commands.add_parser("fmt", help="format specs in place (--check for CI)",
                                 description="Format .lit specs in place, keeping comments. "
                                 "Exit code 0: done (or nothing to change); 1: --check found "
                                 "files to change, or a file has syntax errors; 2: usage or "
                                 "I/O problem.")
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="spec files or glob patterns; - formats stdin to stdout")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 listing the files that would change")
    parser.add_argument("--diff", action="store_true",
                        help="change nothing; print a unified diff of what would change")
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.files == ["-"]:
        return _stdin()
    if "-" in args.files:
        raise UsageError("- (standard input) cannot be mixed with files")
    changed, failed, files = [], 0, expand(args.files)
    for path in files:
        original = _read(path)
        formatted = _format(path, original)
        if formatted is None:
            failed += 1
        elif formatted != original:
            changed.append(path)
            _report(path, original, formatted, args)
    print(_summary(len(files), changed, failed, args.check or args.diff), file=sys.stderr)
    return 1 if failed or (changed and args.check) else 0


def _stdin() -> int:
    text = sys.stdin.read()
    formatted = _format("<stdin>", text)
    if formatted is None:
        return 1
    sys.stdout.write(formatted)
    return 0


def _read(path: str) -> str:
    """The file's text exactly as stored (no newline translation), strictly UTF-8."""
    if os.path.isdir(path):
        raise UsageError(f"{path} is a directory; pass files or a glob such as {path}/*.lit")
    try:
        data = read_head(path, SPEC_LIMIT + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, ReadLimit) as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > SPEC_LIMIT:
        raise UsageError(f"{path}: larger than {SPEC_LIMIT // 2**20} MiB: not a spec")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: not UTF-8 (byte {error.start}); fmt rewrites only text "
                         "it can read exactly") from None


def _format(path: str, text: str) -> str | None:
    """The formatted text, or None (its syntax errors printed) when it does not parse."""
    try:
        formatted = format_text(text.removeprefix(BOM), path)
    except FormatError as error:
        for diagnostic in error.diagnostics:
            print(render_text(diagnostic, error.source), file=sys.stderr)
        return None
    before = parse_strict(SourceFile(text.removeprefix(BOM).replace("\r\n", "\n"), path))
    if not same_tree(before, parse_strict(SourceFile(formatted, path))):  # never corrupt a spec
        print(f"{path}: error: lightdsl fmt would change what this spec means (a bug in fmt; "
              "the file is left alone, please report it)", file=sys.stderr)
        return None
    return formatted


def _report(path: str, original: str, formatted: str, args) -> None:
    if args.diff:
        sys.stdout.writelines(difflib.unified_diff(
            original.splitlines(keepends=True), formatted.splitlines(keepends=True),
            f"{path} (original)", f"{path} (formatted)"))
    if args.check:
        print(f"would reformat {path}")
    if not (args.check or args.diff):
        write_atomically(path, formatted)
        print(f"reformatted {path}", file=sys.stderr)


def write_atomically(path: str, text: str) -> None:
    """Replace ``path`` by ``text`` in one rename: a reader sees the old file or the new one,
    never half of it; the file's permissions are kept."""
    folder = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".fmt-", suffix=".lit")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise UsageError(f"{path}: cannot write: {error.strerror}") from None


def _summary(checked: int, changed: list[str], failed: int, dry: bool) -> str:
    def files(count: int) -> str:
        return f"{count} file{'s' if count != 1 else ''}"

    verb = "would be reformatted" if dry else "reformatted"
    unchanged = checked - len(changed) - failed
    parts = [f"{files(len(changed))} {verb}", f"{files(unchanged)} left unchanged"]
    if failed:
        parts.append(f"{files(failed)} with syntax errors")
    return ", ".join(parts)
