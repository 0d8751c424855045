"""MLflow stores for the tracking tests: a migrated SQLite database copied per test, and a real
``mlflow server`` on a free localhost port.

Creating an MLflow SQLite database runs all of MLflow's schema migrations (about 8 s here);
the template is made once per MLflow version (kept in pytest's cache, else once per test run)
and each test gets a copy, which MLflow opens as it would its own.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from .runner import child_env
from .shared import made_once, run_root

SERVER_DEADLINE_S = 120  # the shared machine can be slow; a server that never answers fails


def template_db(request, tmp_path_factory) -> Path:
    """A fresh MLflow database at the current schema, to copy: made once per MLflow version in
    pytest's cache (kept between runs), else once per test run (shared by its xdist workers)."""
    import mlflow

    try:
        folder = request.config.cache.mkdir(f"mlflow-{mlflow.__version__}")
    except (AttributeError, OSError):  # -p no:cacheprovider
        folder = run_root(tmp_path_factory) / "mlflow-db"
    return made_once(folder, _migrate) / "mlflow.db"


def _migrate(folder: Path) -> None:
    import mlflow

    partial = folder / f"mlflow-{os.getpid()}.db"
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{partial}").search_experiments()
    os.replace(partial, folder / "mlflow.db")  # whole, or not at all


def local_store(template: Path, root: Path) -> Path:
    """The store lightdsl uses for the log root ``root``: ``mlruns/`` beside it, with a copy
    of the template database in it."""
    store = root.parent / "mlruns"
    store.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, store / "mlflow.db")
    return store


def free_port() -> int:
    """A port nothing listens on now (the OS's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(template: Path, folder: Path):
    """A real ``mlflow server`` (SQLite store, artifacts served through it) on a free port;
    yields its URL once ``/health`` answers, and stops it (and its workers) at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, folder / "server.db")
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1",
               "--backend-store-uri", f"sqlite:///{folder / 'server.db'}",
               "--artifacts-destination", str(folder / "artifacts")]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=child_env(), start_new_session=True)
    output: list[str] = []
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, output)
        drain = threading.Thread(target=lambda: output.extend(server.stdout), daemon=True)
        drain.start()  # a full pipe would stall the server
        yield url
    finally:
        _stop(server)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def _wait_healthy(url: str, server: subprocess.Popen, output: list[str]) -> None:
    """Wait for the server's output (each line, or a second without one) and ask ``/health``
    after it, until it answers OK; fail with the output if the server exits or the deadline
    passes."""
    deadline = time.monotonic() + SERVER_DEADLINE_S
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=min(1.0, deadline - time.monotonic())):
                line = server.stdout.readline()
                output.append(line)
                if not line and server.poll() is not None:
                    raise AssertionError(f"mlflow server exited ({server.returncode}):\n"
                                         + "".join(output))
            if _healthy(url):
                return
    raise AssertionError(f"mlflow server not healthy after {SERVER_DEADLINE_S} s:\n"
                         + "".join(output))


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # the group this test started, by its id
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
