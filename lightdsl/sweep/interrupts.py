"""A Ctrl-C that reaches a sweep is never lost, even where Python code swallows it.

Outside a trial's training (where the trainer's own handler turns the first Ctrl-C into "stop
after this step") a Ctrl-C is a KeyboardInterrupt, raised wherever the main thread is. Code
can swallow it: a ``__del__`` run by the garbage collector (CPython prints "Exception
ignored" and goes on), a library's ``except BaseException: pass``, a user's python(...)
callback. Then the sweep would go on to its last trial. So while a sweep runs, Ctrl-C is
also remembered: the sweep checks after each trial and stops there, keeping that trial.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class CtrlC:
    """Whether a Ctrl-C came while :meth:`remembered` was active."""

    def __init__(self):
        self.pressed = False

    @contextlib.contextmanager
    def remembered(self):
        """Around a sweep: each Ctrl-C is noted, then handled as before (a KeyboardInterrupt).
        Nothing is installed off the main thread or where SIGINT is ignored (a background
        sweep, which a Ctrl-C meant for the shell must not stop)."""
        on_main = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGINT) if on_main else signal.SIG_IGN
        if previous is signal.SIG_IGN:
            yield self
            return

        def note(signum, frame):
            self.pressed = True
            if callable(previous):
                return previous(signum, frame)
            return signal.default_int_handler(signum, frame)

        signal.signal(signal.SIGINT, note)
        try:
            yield self
        finally:  # None: a handler set outside Python, which cannot be put back
            signal.signal(signal.SIGINT, previous if previous is not None
                          else signal.default_int_handler)
