"""A real PostgreSQL server for the tests that share a sweep through ``--storage
postgresql://...``: initdb and pg_ctl in a temporary folder, as an unprivileged user when the
tests run as root (PostgreSQL refuses to run as root), on a unix socket in that folder and a
free localhost port; ready once ``pg_isready`` says so, stopped with ``pg_ctl stop -m
immediate``."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .tracking import free_port

DEADLINE_S = 60
UNPRIVILEGED = "nobody"


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin that has initdb, pg_ctl and pg_isready."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    for folder in reversed(found):
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "pg_isready")):
            return folder
    return None


def missing_reason() -> str | None:
    """Why no server can be started here (None: one can)."""
    if postgres_bin() is None:
        return "PostgreSQL binaries (initdb, pg_ctl, pg_isready) not in /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as another user"
    return None


def _as_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", UNPRIVILEGED, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_user(command), capture_output=True, text=True, timeout=120,
                          check=False)
    if done.returncode:
        raise AssertionError(f"{command[0]} failed ({done.returncode}):\n{done.stdout}"
                             f"{done.stderr}")


@contextlib.contextmanager
def postgres_server():
    """Yields a ``postgresql://`` URL of a fresh server's database ``postgres``."""
    tools = postgres_bin()
    # in /tmp itself: the unprivileged user cannot enter pytest's root-only folders
    folder = Path(tempfile.mkdtemp(prefix="lightdsl-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam(UNPRIVILEGED)
        for path in (folder, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    started = False
    try:
        _run([str(tools / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "-E", "UTF8", "--no-sync"])
        _run([str(tools / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-W",
              "-o", f"-k {sockets} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off",
              "start"])
        started = True
        _wait_ready(tools, port, folder / "server.log")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(_as_user([str(tools / "pg_ctl"), "-D", str(data), "stop", "-m",
                                     "immediate"]), capture_output=True, timeout=60, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(tools: Path, port: int, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        ready = subprocess.run([str(tools / "pg_isready"), "-h", "127.0.0.1", "-p", str(port),
                                "-t", "1"], capture_output=True, timeout=30, check=False)
        if ready.returncode == 0:
            return
        time.sleep(0.05)  # pg_isready's own wait covers a server that is starting
    text = log.read_text() if log.is_file() else "(no log)"
    raise AssertionError(f"PostgreSQL not ready after {DEADLINE_S} s:\n{text}")
