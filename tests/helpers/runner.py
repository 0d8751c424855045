"""Running Python, the ``lightdsl`` command and tools in a child process, as a user would.

Every child process a test starts goes through here, with a timeout. The Python runners use
this interpreter and pass this process's ``sys.path`` on (so the child imports the same
lightdsl, from the worktree under test); all capture text output and, unless ``check=True``,
never raise on a non-zero exit: the test asserts on ``returncode``, ``stdout`` and ``stderr``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 300  # generous: the test machine is shared


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment, with its ``sys.path`` as PYTHONPATH and without pytest's
    and torch.distributed's per-process variables."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "RANK")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **extra}


def run_python(*args, cwd: str | Path | None = None, timeout: float = TIMEOUT_S,
               env: dict[str, str] | None = None, check: bool = False,
               input: str | None = None) -> subprocess.CompletedProcess:
    """``python ARGS...`` (a script path, ``-c CODE``, ``-m MODULE``, ...); ``check``: raise
    CalledProcessError on a non-zero exit; ``input``: the child's stdin."""
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=env or child_env(),
                          capture_output=True, text=True, timeout=timeout, check=check,
                          input=input)


def run_tool(program: str | Path, *args, cwd: str | Path | None = None,
             timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    """``PROGRAM ARGS...`` (a linter such as ruff) in this process's environment."""
    return subprocess.run([str(program), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def run_code(code: str, *args, **kwargs) -> subprocess.CompletedProcess:
    """``python -c CODE ARGS...``: e.g. to see which modules an import pulls in, in a fresh
    process."""
    return run_python("-c", code, *args, **kwargs)


def run_lightdsl(*args, **kwargs) -> subprocess.CompletedProcess:
    """``python -m lightdsl ARGS...``."""
    return run_python("-m", "lightdsl", *args, **kwargs)


def run_in_terminal(*args, columns: int = 80, timeout: float = TIMEOUT_S) -> tuple[int, str]:
    """``python ARGS...`` with a pseudo-terminal of ``columns`` columns as stdout and stderr
    (Linux only): its exit code and everything it wrote, control sequences included."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = child_env(COLUMNS=str(columns), TERM="xterm")
    process = subprocess.Popen([sys.executable, *map(str, args)], stdout=slave, stderr=slave,
                               env=env)
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    code = process.wait(timeout=timeout)
    os.close(master)
    return code, output.decode(errors="replace")


def start_lightdsl(*args, cwd: str | Path | None = None, log: str | Path,
                   env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m lightdsl ARGS...`` started in the background, its stdout and stderr in the
    file ``log`` (a pipe nobody reads would stall it); the test waits for it (with
    :func:`finish`) or kills it."""
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "lightdsl", *map(str, args)], cwd=cwd,
                                env=env or child_env(), stdout=out, stderr=subprocess.STDOUT,
                                text=True)


def finish(process: subprocess.Popen, timeout: float = TIMEOUT_S) -> int:
    """Wait for a child :func:`start_lightdsl` started; kill it if it outlives ``timeout``."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
        raise


def wait_until(condition, what: str, process: subprocess.Popen | None = None,
               timeout: float = TIMEOUT_S, poll_s: float = 0.02) -> None:
    """Return as soon as ``condition()`` holds; fail if ``process`` exits first or after
    ``timeout`` seconds (a poll of the file system, not a fixed sleep)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the child exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(poll_s)
