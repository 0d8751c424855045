"""Run ``lightdsl train SPEC --default-root-dir ROOT`` and press Ctrl-C twice: once at optimizer
step FIRST_STEP, then again while the interrupt checkpoint is written (at the WHEN-th write of
torch.save, or "after" the file is in place). Prints the SHA-256 of last.ckpt just before the
interrupt save ("before <hash>"), then exits with the CLI's exit code.

Both presses are events of the child itself, not of a clock: each is ``signal.raise_signal``,
which delivers SIGINT to this thread before it returns, at the exact write or step, however
busy the machine is. The script starts from Ctrl-C's default handling whatever its parent did:
a shell starts background jobs (``make test &``, nohup, CI runners) with SIGINT ignored, and
an ignored SIGINT would silently swallow the second press."""

from __future__ import annotations

import hashlib
import signal
import sys
from pathlib import Path

import torch

from lightdsl.cli import main
from lightdsl.trainer import loop, records

spec, root, first_step, when = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def ctrl_c() -> None:
    signal.raise_signal(signal.SIGINT)  # what pressing Ctrl-C does, delivered before it returns


class CtrlCOnWrite:
    """A file whose ``n``-th write presses Ctrl-C first (torch.save writes through it)."""

    def __init__(self, file, n: int) -> None:
        self.file, self.n, self.writes = file, n, 0

    def write(self, data):
        self.writes += 1
        if self.writes == self.n:
            ctrl_c()
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


real_step = loop.optimizer_step
real_interrupt_save = loop.save_interrupt_checkpoint
real_torch_save, real_atomic_save = torch.save, records.atomic_save


def optimizer_step(run, state, outputs):
    real_step(run, state, outputs)
    if state.global_step == first_step:
        ctrl_c()


def save_interrupt_checkpoint(run, state):
    last = run.saver().directory(run.trainer) / "last.ckpt"
    digest = hashlib.sha256(last.read_bytes()).hexdigest() if last.is_file() else "none"
    print("before", digest, flush=True)
    if when == "after":
        def atomic_save(obj, path):
            real_atomic_save(obj, path)
            ctrl_c()
        records.atomic_save = atomic_save
    else:
        torch.save = lambda obj, f: real_torch_save(obj, CtrlCOnWrite(f, int(when)))
    real_interrupt_save(run, state)


signal.signal(signal.SIGINT, signal.default_int_handler)  # as in an interactive terminal
loop.optimizer_step = optimizer_step
loop.save_interrupt_checkpoint = save_interrupt_checkpoint
sys.exit(main(["train", spec, "--default-root-dir", str(Path(root))]))
