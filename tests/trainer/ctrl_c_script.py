"""``lightdsl ARGS...`` (as ``python -m lightdsl``) that presses Ctrl-C right after optimizer
step STEP: ``python ctrl_c_script.py STEP ARGS...``. The press comes from the training loop
itself, so where it lands never depends on timing."""

from __future__ import annotations

import os
import signal
import sys

from lightdsl.cli import main
from lightdsl.trainer import loop

step, args = int(sys.argv[1]), sys.argv[2:]
real_step = loop.optimizer_step


def optimizer_step(run, state, outputs):
    real_step(run, state, outputs)
    if state.global_step == step:
        os.kill(os.getpid(), signal.SIGINT)


loop.optimizer_step = optimizer_step
sys.exit(main(args))
