"""Where a sweep lives: its folder, its Optuna storage and study, its trials' folders.

The embedded storage is Optuna's journal file (``<sweep folder>/optuna.journal``), not
SQLite: it is an append-only log that several processes may write at once (``--jobs``), with
file locks and no "database is locked" retries, and a process killed mid-write loses nothing
already written. A ``--storage`` URL (``postgresql://...``, ``sqlite:///...``) is any storage
Optuna's RDB backend takes, shared by workers on many machines.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError

JOURNAL = "optuna.journal"
VALUES = "values.json"
DONE_STATES = ("COMPLETE", "PRUNED", "FAIL")
RDB_SCHEMES = ("postgresql", "mysql", "sqlite", "oracle", "mssql")


def optuna_module():
    """Optuna, imported when a sweep runs (the optional extra ``sweep``)."""
    try:
        import optuna
    except ImportError:
        raise UsageError("lightdsl sweep needs Optuna: pip install 'lightdsl[sweep]' "
                         "(or pip install optuna)") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # lightdsl prints how each trial ended (a failed one with its error); Optuna's warning
    # repeats that with a traceback, and after a Ctrl-C the traceback would be all one sees
    logging.getLogger("optuna.study._optimize").setLevel(logging.ERROR)
    return optuna


def storage_for(folder: Path, url: str | None):
    """The storage object (or URL) Optuna is given: the journal file unless ``url``."""
    optuna = optuna_module()
    if url:
        if url.startswith(RDB_SCHEMES):  # a trial whose machine died fails on its heartbeat
            from .stale import GRACE_S, HEARTBEAT_S

            return rdb_storage(optuna, url, HEARTBEAT_S, GRACE_S)
        return url
    from optuna.storages.journal import JournalFileBackend

    folder.mkdir(parents=True, exist_ok=True)
    # absolute: a study outlives a change of the working folder (a test's chdir, a notebook)
    return optuna.storages.JournalStorage(JournalFileBackend(str((folder / JOURNAL).resolve())))


def rdb_storage(optuna, url: str, heartbeat: int, grace: int):
    """Optuna's RDB storage of ``url`` with a heartbeat; a UsageError when its driver is
    missing or the database cannot be reached."""
    import warnings

    with warnings.catch_warnings():  # Optuna calls the heartbeat arguments experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return _created(optuna, driver_url(url), heartbeat, grace)
        except ImportError as error:
            raise UsageError(f"--storage {shown_url(url)}: no database driver ({error})",
                             hint="pip install psycopg2-binary (PostgreSQL)") from None
        except Exception as error:  # noqa: BLE001 (SQLAlchemy's: cannot connect, refused)
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise UsageError(f"--storage {shown_url(url)}: cannot open the database: "
                             f"{first}") from None


def _created(optuna, url: str, heartbeat: int, grace: int, attempts: int = 5):
    """The storage; its tables are created by the first worker to come, and two workers
    starting together on an empty database may both try (one then meets the other's table:
    an IntegrityError or ProgrammingError, SQLite's OperationalError "already exists"), so
    creating it is tried again."""
    import time

    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url, heartbeat_interval=heartbeat,
                                              grace_period=grace)
        except (IntegrityError, ProgrammingError, OperationalError) as error:
            raced = not isinstance(error, OperationalError) or "already exists" in str(error)
            if not raced or attempt + 1 == attempts:
                raise
            time.sleep(0.2 * (attempt + 1))  # the other worker finishes its CREATE TABLEs
    raise AssertionError("unreachable")


def driver_url(url: str) -> str:
    """``postgresql://`` with the driver that is installed: SQLAlchemy 2.1 defaults to
    psycopg (3), many machines have psycopg2 (``psycopg2-binary``)."""
    scheme, sep, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres") or not sep:
        return url
    import importlib.util

    for module, name in (("psycopg2", "psycopg2"), ("psycopg", "psycopg")):
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{name}://{rest}"
    return url  # SQLAlchemy's own ImportError then names what is missing


def shown_url(url: str) -> str:
    """``url`` without its password (as a message shows it)."""
    scheme, sep, rest = url.partition("://")
    auth, at, host = rest.rpartition("@")
    if not at or ":" not in auth:
        return url
    return f"{scheme}{sep}{auth.split(':', 1)[0]}:***@{host}"


def open_study(folder: Path, url: str | None, name: str, direction: str, sampler=None,
               pruner=None):
    """The study ``name`` (created on first use, continued after)."""
    optuna = optuna_module()
    return optuna.create_study(storage=storage_for(folder, url), study_name=name,
                               direction="maximize" if direction == "max" else "minimize",
                               sampler=sampler, pruner=pruner, load_if_exists=True)


def load_study(folder: Path, url: str | None = None):
    """The study a sweep folder holds (its name is in ``sweep.json``)."""
    info = read_info(folder)
    optuna = optuna_module()
    return optuna.load_study(study_name=info["study"],
                             storage=storage_for(folder, url or info.get("storage")))


def write_info(folder: Path, info: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sweep.json").write_text(json.dumps(info, indent=2) + "\n")


def read_info(folder: Path) -> dict[str, Any]:
    path = Path(folder) / "sweep.json"
    if not path.is_file():
        raise UsageError(f"{folder} is not a sweep folder (no sweep.json); "
                         "`lightdsl sweep SPEC` makes one")
    return json.loads(path.read_text())


def trial_folder(folder: Path, number: int) -> Path:
    """``<sweep folder>/trial_N``: a normal run folder (``version_0``, checkpoints, logs)."""
    return Path(folder) / f"trial_{number}"


def write_values(folder: Path, number: int, values: dict[str, Any], extra: dict) -> Path:
    path = trial_folder(folder, number) / VALUES
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"trial": number, "values": values, **extra}, indent=2) + "\n")
    return path


def read_values(folder: Path, number: int) -> dict[str, Any]:
    path = trial_folder(folder, number) / VALUES
    if not path.is_file():
        raise UsageError(f"{folder} has no trial {number} (no {path})")
    return json.loads(path.read_text())["values"]


def counted(trial) -> bool:
    """Whether a trial counts toward ``trials``: finished (complete, pruned or failed with an
    error), not one a Ctrl-C or a killed worker cut short (``interrupted``, ``lost``, or
    failed by Optuna's heartbeat: a FAIL without the ``error`` a failing run records)."""
    state, attrs = trial.state.name, trial.user_attrs
    if state not in DONE_STATES or attrs.get("interrupted") or attrs.get("lost"):
        return False
    return state != "FAIL" or "error" in attrs


def sweep_folder(root: str, stem: str, sweep: str) -> Path:
    """``<log root>/<spec stem>-sweep`` (``-sweep-<name>`` for a named sweep)."""
    return Path(root) / (f"{stem}-sweep" if sweep == "default" else f"{stem}-sweep-{sweep}")


def default_name(path: str, sweep: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem if sweep == "default" else f"{stem}-{sweep}"
