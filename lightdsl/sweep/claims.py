"""The one decision a sweep's workers must not take at the same time: whether the sweep needs
another trial.

Workers share a study (``--jobs K``, or processes on several machines on one ``--storage``).
Each one decides, before each trial, from the trials it reads; two deciding together would
both see the same trial missing and both start one (a sweep of 4 trials ran 5). So a worker
takes the sweep's claim lock, decides, and keeps the lock until Optuna has created its trial
(``study.ask``, which stores it RUNNING, where every worker sees it): the lock is released
when the objective starts, or when the worker stops.

The lock lives where every worker of the study can reach it:

- a PostgreSQL storage: a session-level advisory lock on the study's server, keyed by the
  study's name (the server frees it when a worker's connection dies);
- the journal file or a SQLite database: an OS file lock beside that file (``flock``: the
  kernel frees it when its holder dies, so a killed worker never leaves it taken);
- another database (MySQL, ...): a file lock in the sweep folder, which covers the workers
  of one machine or of a shared folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .study import JOURNAL, driver_url

LOCK_SUFFIX = ".claim.lock"  # hidden files: nothing a user looks for in an `ls`


def claim_lock(folder: Path, storage: str | None, study_name: str):
    """The claim lock of the study ``study_name`` (held by nobody yet)."""
    if storage and storage.startswith(("postgresql://", "postgres://", "postgresql+")):
        return AdvisoryLock(storage, study_name)
    return FileClaim(_lock_path(folder, storage, study_name))


def _lock_path(folder: Path, storage: str | None, study_name: str) -> Path:
    if not storage:
        return Path(folder) / f".{JOURNAL}{LOCK_SUFFIX}"
    if storage.startswith("sqlite:///") and storage != "sqlite:///:memory:":
        database = Path(storage[len("sqlite:///"):])
        return database.with_name(f".{database.name}.{study_name}{LOCK_SUFFIX}")
    return Path(folder) / f".{study_name}{LOCK_SUFFIX}"


class _Claim:
    """A lock taken once and released once per decision; ``release`` when not held does
    nothing (the objective releases what the decision before it took, if any)."""

    held = False

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.release()
        self.close()

    def take(self) -> None:
        if not self.held:
            self._acquire()
            self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._release()

    def close(self) -> None:
        pass


class FileClaim(_Claim):
    """An OS file lock (``filelock``: ``flock`` on Unix, ``msvcrt`` on Windows)."""

    def __init__(self, path: Path):
        from filelock import FileLock

        self.path = path
        self._lock = FileLock(str(path))

    def _acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()

    def _release(self) -> None:
        self._lock.release()


class AdvisoryLock(_Claim):
    """``pg_advisory_lock`` on a connection of its own, kept for the sweep's length."""

    def __init__(self, url: str, study_name: str):
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.key = advisory_key(study_name)
        self._engine = create_engine(driver_url(url), poolclass=NullPool)
        self._connection = None

    def _acquire(self) -> None:
        if self._connection is None:
            self._connection = self._engine.connect()
        self._execute("SELECT pg_advisory_lock(:key)")

    def _release(self) -> None:
        self._execute("SELECT pg_advisory_unlock(:key)")

    def _execute(self, query: str) -> None:
        from sqlalchemy import text

        self._connection.execute(text(query), {"key": self.key})
        self._connection.commit()  # the lock is the session's: no transaction left open

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()


def advisory_key(study_name: str) -> int:
    """A signed 64-bit key for ``pg_advisory_lock``, the same in every worker."""
    digest = hashlib.blake2b(f"lightdsl sweep {study_name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
