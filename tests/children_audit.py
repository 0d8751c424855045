"""A pytest plugin for the stress run (tests/stress.sh): which tests start a child process or
send a signal. Those are the tests that can race a child or a signal on a busy machine.

    python -m pytest -p tests.children_audit        # writes tests/stress_selection.txt
    python -m pytest -p tests.children_audit -n 2   # the same, with pytest-xdist workers

It records the running test's node id whenever ``subprocess.Popen`` starts a program (every
``subprocess.run``, pty and DDP launch goes through it; not the linters and renderers in
QUICK, which a test runs and waits for) or a signal is sent (``os.kill``, ``os.killpg``,
``signal.raise_signal``, ``signal.pthread_kill``).
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
from pathlib import Path

import pytest

OUT = Path(__file__).with_name("stress_selection.txt")
QUICK = {"ruff", "dot"}
found: set[str] = set()


def _record() -> None:
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    if current:
        found.add(current.rsplit(" (", 1)[0])  # "path::test[id] (call)" -> the node id


def _spying(function):
    @functools.wraps(function)
    def spy(*args, **kwargs):
        _record()
        return function(*args, **kwargs)
    return spy


def _popen_spy(init):
    @functools.wraps(init)
    def spy(self, args, *rest, **kwargs):
        program = args if isinstance(args, (str, bytes, os.PathLike)) else args[0]
        if os.path.basename(os.fsdecode(program)).split()[0] not in QUICK:
            _record()
        return init(self, args, *rest, **kwargs)
    return spy


def pytest_configure(config):
    subprocess.Popen.__init__ = _popen_spy(subprocess.Popen.__init__)
    for module, name in ((os, "kill"), (os, "killpg"), (signal, "raise_signal"),
                         (signal, "pthread_kill")):
        setattr(module, name, _spying(getattr(module, name)))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """With pytest-xdist: what a worker found, gathered in the controller."""
    found.update(node.workeroutput.get("children_audit", ()))


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which sends workeroutput
def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # an xdist worker: hand its finds over
        session.config.workeroutput["children_audit"] = sorted(found)


def pytest_unconfigure(config):
    if not hasattr(config, "workeroutput"):
        OUT.write_text("".join(f"{node}\n" for node in sorted(found)), encoding="utf-8")
