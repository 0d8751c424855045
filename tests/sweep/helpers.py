"""A tiny iris spec with a sweep block, written into a temporary folder with its data."""

from __future__ import annotations

import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "specs" / "data" / "iris_like.csv"

BASE = """
model IrisNet(features = 4, hidden = 16, classes = 3) {
    layers {
        linear(features, hidden)
        relu()
        linear(hidden, classes)
    }
}

data iris {
    source     = csv("iris_like.csv", label = "species")
    val        = split(0.2, seed = 0)
    standardize()
    batch_size = 32
}

train {
    model      = IrisNet()
    data       = iris
    loss       = cross_entropy
    metrics    = [accuracy]
    optimizer  = adam(lr = 0.001)
    max_epochs = 30
    seed       = 0
}
"""


def write_spec(folder: Path, sweep: str, name: str = "iris.lit") -> Path:
    shutil.copy(DATA, folder / "iris_like.csv")
    path = folder / name
    path.write_text(BASE + "\n" + sweep)
    return path


GATE = '''
import signal
import time
from pathlib import Path

WAIT_S = 300  # never for ever: a signal that never comes lets the trial go on (the test fails)


class Gate:
    """A callback that holds still, once, in trial 1 of the sweep in sweep/ (the test's
    cue: the file gate.ready) until the test's signal has come: at fit start, before the
    trainer's own Ctrl-C handler, or after a training step, with it."""

    def __init__(self, hook="fit_start"):
        self.hook = hook

    def on_fit_start(self, trainer, module):
        if self.hook == "fit_start" and self._first_in_trial_1():
            _hold(lambda: False)  # until the Ctrl-C's KeyboardInterrupt (or a SIGKILL)
        if self.hook == "swallow":
            try:  # as a __del__ or a careless library would: the Ctrl-C is lost here (the
                # cue is written inside, as the signal may come the moment it exists)
                if self._first_in_trial_1():
                    _hold(lambda: False)
            except KeyboardInterrupt:
                Path("gate.swallowed").write_text("yes\\n")

    def on_fit_end(self, trainer, module):
        if self.hook == "swallow_end":
            try:  # after training, where the trainer's handler is gone: swallowed again
                if self._first_in_trial_1():
                    _hold(lambda: False)
            except KeyboardInterrupt:
                Path("gate.swallowed").write_text("yes\\n")

    def on_train_batch_end(self, trainer, module, *args):
        # the trainer's handler, which replaces itself on the Ctrl-C: taken before the cue
        # is written, since the signal may come the moment it exists
        handler = signal.getsignal(signal.SIGINT)
        if self.hook == "step" and self._first_in_trial_1():
            _hold(lambda: signal.getsignal(signal.SIGINT) is not handler)

    def _first_in_trial_1(self):
        ready = Path("gate.ready")
        if ready.exists() or not Path("sweep", "trial_1").is_dir():
            return False
        ready.write_text("holding\\n")
        return True


def _hold(released):
    deadline = time.monotonic() + WAIT_S
    while not released() and time.monotonic() < deadline:
        time.sleep(0.01)
'''


def write_gated_spec(folder: Path, sweep: str, hook: str) -> Path:
    """:func:`write_spec` with the :data:`GATE` callback (module ``gate``) in its train
    block, holding at ``hook`` (``fit_start`` or ``step``; ``swallow``: at fit start, then
    swallowing the KeyboardInterrupt; ``swallow_end``: the same at fit end)."""
    (folder / "gate.py").write_text(GATE)
    path = write_spec(folder, sweep)
    text = path.read_text().replace(
        "    seed       = 0\n}", f'    seed       = 0\n    callbacks  = [python("gate:Gate", '
        f'hook = "{hook}")]\n}}')
    assert "gate:Gate" in text
    path.write_text(text)
    return path
