"""Things the suite makes once per test run, however many pytest-xdist workers run it.

Each xdist worker is its own pytest session, so a session-scoped fixture runs once per worker.
What is costly to make (a wheel, a migrated database) is made in a folder all the workers of
one run share, under a file lock: the first worker makes it, the others wait and reuse it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from filelock import FileLock


def run_root(tmp_path_factory) -> Path:
    """The folder this whole test run shares: pytest's base temp, or with xdist the parent of
    every worker's (``.../pytest-N/gw0`` -> ``.../pytest-N``)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if base.name.startswith("gw") else base


def made_once(folder: Path, make: Callable[[Path], None]) -> Path:
    """``folder``, made by ``make(folder)`` in the first worker that asks; the others wait for
    it. A folder whose ``make`` failed is made again by the next worker that asks."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    done = folder / ".made"
    with FileLock(str(folder) + ".lock"):
        if not done.is_file():
            folder.mkdir(exist_ok=True)
            make(folder)
            done.touch()
    return folder
