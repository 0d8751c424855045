"""Settings for the whole suite."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from .helpers.runner import run_python
from .helpers.shared import made_once, run_root

ROOT = Path(__file__).resolve().parents[1]

# One intra-op thread, here and in every child (they inherit the environment), unless the
# caller chose: the suite's models are small, and on a busy machine two threads per process
# spinning against each other made runs several times slower (digits: 87 s with two threads,
# 16 s with one, under load). Set before torch is imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_configure(config):
    """Run with Ctrl-C handled as in a terminal, however the suite was started; torch (if a
    plugin imported it already) on OMP_NUM_THREADS threads.

    A shell starts background jobs (``make test &``, nohup, some CI runners) with SIGINT
    ignored, and every child inherits that: the tests that press Ctrl-C in a child (or in this
    process, twice) would then see their presses swallowed. A Python handler, unlike SIG_IGN,
    is not inherited: children start with the default, as a user's ``lightdsl train`` does.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if "torch" in sys.modules:  # a plugin imported it before this file set OMP_NUM_THREADS
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(scope="session")
def lightdsl_wheel(tmp_path_factory) -> Path:
    """A wheel of this checkout, built once per test run (one build for all xdist workers) as
    ``pip wheel`` builds it (in an isolated build environment), for every test that installs
    lightdsl."""
    wheels = made_once(run_root(tmp_path_factory) / "wheels", _build_wheel)
    (wheel,) = wheels.glob("lightdsl-*.whl")
    return wheel


def _build_wheel(folder: Path) -> None:
    # this process's environment as it is: no PYTHONPATH into pip's isolated build
    done = run_python("-m", "pip", "wheel", "--no-deps", "-q", "--disable-pip-version-check",
                      "-w", folder, ROOT, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
