"""A run whose SIGINT is ignored (a background job: ``nohup``, ``&`` in a non-interactive
shell, which start it with SIG_IGN) keeps it ignored: the loop installs no Ctrl-C handler, so a
Ctrl-C meant for the shell neither stops nor checkpoints the run."""

from __future__ import annotations

import signal

import pytest
from trainer_modules import Regression, fast_trainer_kwargs

from lightdsl.trainer import Callback, Trainer


class PressCtrlC(Callback):
    """Records SIGINT's handler during training and presses Ctrl-C after the second batch."""

    def __init__(self) -> None:
        self.handlers = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        self.handlers.append(signal.getsignal(signal.SIGINT))
        if trainer.global_step == 2:
            signal.raise_signal(signal.SIGINT)


@pytest.fixture
def sigint(request):
    previous = signal.signal(signal.SIGINT, request.param)
    yield request.param
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("sigint", [signal.SIG_IGN], indirect=True)
def test_an_ignored_sigint_stays_ignored_and_the_run_completes(tmp_path, sigint):
    press = PressCtrlC()
    result = Trainer(max_steps=5, callbacks=[press], **fast_trainer_kwargs(tmp_path)).fit(
        Regression())
    assert press.handlers == [signal.SIG_IGN] * 5  # no handler was installed
    assert not result.interrupted and result.global_step == 5
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


@pytest.mark.parametrize("sigint", [signal.default_int_handler], indirect=True)
def test_in_a_terminal_ctrl_c_stops_after_the_step(tmp_path, sigint):
    press = PressCtrlC()
    result = Trainer(max_steps=5, callbacks=[press], **fast_trainer_kwargs(tmp_path)).fit(
        Regression())
    assert press.handlers[0] not in (signal.SIG_IGN, signal.default_int_handler)
    assert result.interrupted and result.global_step == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
