"""Settings for the whole suite."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Run with Ctrl-C handled as in a terminal, however the suite was started.

    A shell starts background jobs (``make test &``, nohup, some CI runners) with SIGINT
    ignored, and every child inherits that: the tests that press Ctrl-C in a child (or in this
    process, twice) would then see their presses swallowed. A Python handler, unlike SIG_IGN,
    is not inherited: children start with the default, as a user's ``lightdsl train`` does.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def lightdsl_wheel(tmp_path_factory) -> Path:
    """A wheel of this checkout, built once per test run as ``pip wheel`` builds it (in an
    isolated build environment), for every test that installs lightdsl."""
    wheels = tmp_path_factory.mktemp("wheels")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "--disable-pip-version-check", "-w", str(wheels), str(ROOT)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    (wheel,) = wheels.glob("lightdsl-*.whl")
    return wheel
