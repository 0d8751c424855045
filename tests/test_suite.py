"""The suite's own setting (tests/conftest.py): it behaves the same started in the background."""

from __future__ import annotations

import signal

from tests.helpers.runner import run_code


def test_this_process_and_its_children_handle_ctrl_c_as_in_a_terminal():
    """Holds under ``make test &`` too, where the shell hands pytest an ignored SIGINT."""
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
    done = run_code("import signal; print(signal.getsignal(signal.SIGINT) is "
                    "signal.default_int_handler)")
    assert done.stdout.split() == ["True"], done.stderr
