"""Settings for the whole suite."""

from __future__ import annotations

import signal


def pytest_configure(config):
    """Run with Ctrl-C handled as in a terminal, however the suite was started.

    A shell starts background jobs (``make test &``, nohup, some CI runners) with SIGINT
    ignored, and every child inherits that: the tests that press Ctrl-C in a child (or in this
    process, twice) would then see their presses swallowed. A Python handler, unlike SIG_IGN,
    is not inherited: children start with the default, as a user's ``lightdsl train`` does.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
