"""Starting ranks 1..N-1 of a data-parallel run from rank 0, and watching them.

Started normally with ``devices > 1``, the first ``fit`` re-runs this very program (``python
<script> <args>`` or ``python -m <module> <args>``) once per extra rank, with torchrun's
variables set, and goes on as rank 0. A thread watches the copies: if one dies, the others are
stopped and rank 0 raises a clear error instead of waiting for it forever. Under torchrun none of
this runs.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import torch

from lightdsl.errors import ConfigError

LAUNCHER_PID = "LIGHTDSL_LAUNCHER_PID"  # set in the ranks this module starts (not by torchrun)
STUCK_GRACE_S = 30.0  # after a worker died, how long rank 0 may take to notice before it exits


class LocalRanks:
    """Ranks 1..N-1 started by this process (rank 0), and the thread that watches them."""

    def __init__(self, procs: dict[int, subprocess.Popen]) -> None:
        self.procs = procs
        self.failure: str | None = None
        self.stopping = self.in_fit = False
        threading.Thread(target=self._watch, name="lightdsl-ddp-watch", daemon=True).start()
        atexit.register(self.wait)

    def _watch(self) -> None:
        while not self.stopping:
            codes = {rank: proc.poll() for rank, proc in self.procs.items()}
            for rank, code in codes.items():
                if code not in (None, 0, 130):  # 130: stopped by Ctrl-C, as rank 0 is
                    pid = self.procs[rank].pid
                    self._fail(f"worker rank {rank} (pid {pid}) {_describe(code)}")
                    return
            if None not in codes.values():
                return
            time.sleep(0.1)

    def _fail(self, message: str) -> None:
        self.failure = message
        print(f"lightdsl: {message}; stopping the other ranks", file=sys.stderr, flush=True)
        self.stop()
        # rank 0 notices at its next collective (gloo fails at once); if it does not, exit
        deadline = time.monotonic() + STUCK_GRACE_S
        while self.in_fit and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.in_fit:
            print(f"lightdsl: {message}; rank 0 did not notice, exiting", file=sys.stderr)
            os._exit(1)

    def stop(self) -> None:
        """Terminate every rank still running (SIGTERM, then SIGKILL after 5 s)."""
        self.stopping = True
        alive = [p for p in self.procs.values() if p.poll() is None]
        for proc in alive:
            proc.terminate()
        for proc in alive:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()

    def wait(self) -> None:
        """At exit: wait for the ranks to finish their copy of the program."""
        for proc in self.procs.values():
            with contextlib.suppress(KeyboardInterrupt):
                proc.wait()


_launched: LocalRanks | None = None


def launched() -> LocalRanks | None:
    """The ranks this process started, if it started any."""
    return _launched


def launch_local_ranks(nprocs: int) -> LocalRanks:
    """Start ranks 1..nprocs-1 as copies of this program; this process becomes rank 0."""
    global _launched
    command = rerun_command()
    env = {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
        "WORLD_SIZE": str(nprocs),
        "LOCAL_WORLD_SIZE": str(nprocs),
    }
    if not torch.cuda.is_available() and "OMP_NUM_THREADS" not in os.environ:
        # CPU ranks share the cores instead of each starting a thread per core
        threads = max(1, (os.cpu_count() or 1) // nprocs)
        torch.set_num_threads(threads)
        env["OMP_NUM_THREADS"] = str(threads)
    procs = {}
    for rank in range(1, nprocs):
        rank_env = {**os.environ, **env, "RANK": str(rank), "LOCAL_RANK": str(rank)}
        rank_env[LAUNCHER_PID] = str(os.getpid())
        procs[rank] = subprocess.Popen(command, env=rank_env)
    os.environ.update(env, RANK="0", LOCAL_RANK="0")
    _launched = LocalRanks(procs)
    return _launched


def rerun_command() -> list[str]:
    """The command line that runs this program again (``python -m mod`` or ``python script``)."""
    if os.environ.get("PYTEST_CURRENT_TEST"):
        raise ConfigError(
            "devices > 1 cannot start its ranks from inside a pytest test (they would re-run "
            "pytest)",
            hint="run the training script in a subprocess, or under torchrun",
        )
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    flags = subprocess._args_from_interpreter_flags()
    if spec is not None and spec.name:
        name = spec.name.removesuffix(".__main__")
        return [sys.executable, *flags, "-m", name, *sys.argv[1:]]
    if getattr(main, "__file__", None) and sys.argv and os.path.isfile(sys.argv[0]):
        return [sys.executable, *flags, sys.argv[0], *sys.argv[1:]]
    raise ConfigError(
        "devices > 1 starts its ranks by running this program again, which is not possible "
        "from an interactive session or `python -c`",
        hint="put the code in a script (python train.py), or start it with torchrun",
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def watch_launcher() -> None:
    """In a rank we started: exit if rank 0 (the launching process) disappears."""
    launcher = os.environ.get(LAUNCHER_PID)
    if not launcher or getattr(watch_launcher, "started", False):
        return
    watch_launcher.started = True

    def watch() -> None:
        while os.getppid() == int(launcher):
            time.sleep(0.5)
        print(f"lightdsl: rank {os.environ.get('RANK')}: rank 0 is gone; exiting",
              file=sys.stderr, flush=True)
        os._exit(1)

    threading.Thread(target=watch, name="lightdsl-ddp-parent", daemon=True).start()
