"""Where commands write: output files and folders made ready, or one clear UsageError.

Every command that writes (train's log folder, graph, codegen, predict, export, plot, lr-find,
evaluate --json) goes through these helpers, so that a path under an existing file, in /proc,
on a read-only file system or without permission is an exit-2 message naming the path and the
reason, never an OSError traceback. Torch-free.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import UsageError
from .runtime import versions
from .runtime.versions import version_numbers

_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EISDIR: "it is a folder",
}


def output_error(path: str | os.PathLike, error: OSError, option: str | None = None,
                 what: str = "write", folder: str | os.PathLike | None = None) -> UsageError:
    """``error`` (raised while writing ``path``) as a UsageError naming the path and why;
    ``folder``: the folder it goes in (default: ``path``'s parent)."""
    label = f"{option} {path}" if option else str(path)
    folder = Path(path).parent if folder is None else Path(folder)
    return UsageError(f"{label}: cannot {what}: {_reason(folder, error)}",
                      hint="choose a folder you can write to")


def _reason(folder: Path, error: OSError) -> str:
    blocker = _file_in_the_way(folder)
    if blocker is not None:
        return f"{blocker} is a file, not a folder"
    if error.errno in _REASONS:
        return _REASONS[error.errno]
    if isinstance(error, FileNotFoundError):  # a parent exists but refuses children (/proc)
        return f"the file system refuses new entries there ({error.strerror})"
    return error.strerror or str(error)


def _file_in_the_way(folder: Path) -> Path | None:
    """The first component of ``folder`` (itself included) that is not a folder, if any."""
    for part in [*reversed(folder.parents), folder]:
        if part.exists() and not part.is_dir():
            return part
    return None


def prepare_file(path: str | os.PathLike, option: str | None = None) -> Path:
    """Make ``path``'s folder (and the folders above it) so the file can be written; a path
    that is a folder, or whose folder cannot be made, is a UsageError."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option + ' ' if option else ''}{path}: cannot write: it is a "
                         "folder", hint="give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise output_error(path, error, option) from None
    return path


def check_file(path: str | os.PathLike, option: str | None = None) -> Path:
    """Check, before a long computation, that the file ``path`` can be written later (its
    folder probed as by :func:`check_folder`; nothing is left behind)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option + ' ' if option else ''}{path}: cannot write: it is a "
                         "folder", hint="give a file name")
    error = _probe(path.parent)
    if error is not None:
        raise output_error(path, error, option)
    return path


def check_folder(path: str | os.PathLike, option: str | None = None) -> Path:
    """Check that files can be written under the folder ``path``, leaving nothing behind:
    the folders it lacks are made, probed with a temporary folder, and removed again (a run
    that writes nothing leaves no trace)."""
    error = _probe(Path(path))
    if error is not None:
        raise output_error(path, error, option, "create files in it", folder=path)
    return Path(path)


PROBES = 20  # tries: other runs probing the same new folder may remove it meanwhile


def _probe(path: Path) -> OSError | None:
    """The error creating an entry in the folder ``path`` gives, or None; leaves nothing.
    Runs started together in one folder each make (and remove) ``lightning_logs``: a folder
    another run made is taken as there, and one it removed under this probe is made again."""
    vanished = None
    for _ in range(PROBES):
        made: list[Path] = []
        try:
            for folder in [*reversed(path.parents), path]:
                with contextlib.suppress(FileExistsError):  # there, or just made by another
                    folder.mkdir()
                    made.append(folder)
            os.rmdir(tempfile.mkdtemp(dir=path, prefix=".lightdsl-probe-"))
            return None
        except FileNotFoundError as error:  # a folder removed under the probe: again
            vanished = error
        except OSError as error:
            return error
        finally:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
    return vanished


def write_text(path: str | os.PathLike, text: str, option: str | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path``, making its folder; errors as :func:`writing`."""
    path = prepare_file(path, option)
    with writing(path, option):
        path.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def writing(path: str | os.PathLike, option: str | None = None) -> Iterator[None]:
    """Turn an OSError raised while writing ``path`` into a UsageError naming it."""
    try:
        yield
    except OSError as error:
        raise output_error(path, error, option) from None


def next_version_dir(root: str | os.PathLike, name: str) -> Path:
    """``<root>/<name>/version_N``, N one past the highest existing version, NOT created: for
    a run that writes nothing (a run that writes must :func:`claim_version_dir` instead)."""
    parent = Path(root) / name
    return parent / f"version_{max(version_numbers(parent), default=-1) + 1}"


def claim_version_dir(root: str | os.PathLike, name: str) -> Path:
    """Create and return a fresh ``<root>/<name>/version_N`` that no other run can also get.

    Listing the folder and taking one past the highest number is not enough: two runs started
    at once both see the same N and then write into one folder (each other's last.ckpt and
    event files). The folder is claimed by ``mkdir``, which fails for all but one of them;
    the others try the next number. An unusable folder is a UsageError naming it.
    """
    parent = Path(root) / name
    try:
        return versions.claim_version_dir(root, name)
    except OSError as error:
        raise output_error(error.filename or parent, error, "default_root_dir",
                           "create files in it", folder=parent) from None
