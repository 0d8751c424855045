"""A Ctrl-C that reaches lightdsl is never lost, even where Python code swallows it.

Outside a fit's training loop (where the trainer's own handler turns the first Ctrl-C into
"stop after this step") a Ctrl-C is a KeyboardInterrupt, raised wherever the main thread is.
Code can swallow it: a ``__del__`` run by the garbage collector (CPython prints "Exception
ignored" and goes on), a library's ``except BaseException: pass``, a user's python(...) layer or
callback. Then ``lightdsl train`` would go on to train, and a sweep to its last trial. So while
:meth:`CtrlC.remembered` is active (``train``, ``lr-find``, ``sweep``), each Ctrl-C is also
noted, and :func:`raise_if_pressed` raises it again where it is safe to stop: the trainer
calls it as its training loop starts, the sweep after each trial.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading

_active: list[CtrlC] = []  # the remembering contexts now open, innermost last


class CtrlC:
    """Whether a Ctrl-C came while :meth:`remembered` was active."""

    def __init__(self):
        self.pressed = False

    @contextlib.contextmanager
    def remembered(self):
        """Around a command: each Ctrl-C is noted, then handled as before (a
        KeyboardInterrupt). Nothing is installed off the main thread or where SIGINT is
        ignored (a background run, which a Ctrl-C meant for the shell must not stop)."""
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
        _active.append(self)
        try:
            yield self
        finally:  # None: a handler set outside Python, which cannot be put back
            _active.remove(self)
            signal.signal(signal.SIGINT, previous if previous is not None
                          else signal.default_int_handler)


def raise_if_pressed() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C came while a :class:`CtrlC` remembers (the
    raised one was swallowed: code went on as if it had not come)."""
    if any(ctrl_c.pressed for ctrl_c in _active):
        raise KeyboardInterrupt


def remembering(command):
    """``command`` (a CLI command's ``run(args)``) with Ctrl-C remembered while it runs."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        with CtrlC().remembered():
            return command(*args, **kwargs)
    return run
