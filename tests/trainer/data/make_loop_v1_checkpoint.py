"""Writes ``loop_v1_mid_epoch.ckpt``: a checkpoint saved by Ctrl-C in the middle of epoch 1
(step 11 of 8 batches per epoch), by the trainer as it was before the loop state became one
``LoopState`` (commit 338d4a8). ``test_trainer_loop_state.py`` resumes it with today's trainer
(it resumes at its position and trains to the end), and takes its keys and structure as the v1
layout: the same run, interrupted here the same way and rewritten in that layout, must resume bit
for bit. The file itself cannot: its floats were rounded by another CPU's kernels.

Run from the repository root, with the code of the commit being frozen on PYTHONPATH::

    PYTHONPATH=$PWD:$PWD/tests/trainer python tests/trainer/data/make_loop_v1_checkpoint.py
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from trainer_modules import Regression, fast_trainer_kwargs

from lightdsl.trainer import Callback, Trainer

HERE = Path(__file__).parent
STEP = 11  # epoch 1, batch 3: a mid-epoch position, with epoch 0's history and val metrics


def frozen_run_module() -> Regression:
    """Dropout, shuffled DataLoader, validation, Adam, an epoch scheduler: every kind of state."""
    return Regression(val_size=10, dropout=0.3, shuffle=True, loader="dataloader",
                      optimizer="adam", scheduler="epoch")


class CtrlC(Callback):
    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if trainer.global_step == STEP:
            os.kill(os.getpid(), signal.SIGINT)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        settings = fast_trainer_kwargs(tmp, enable_checkpointing=True, seed=7)
        result = Trainer(max_epochs=3, callbacks=[CtrlC()], **settings).fit(frozen_run_module())
        assert result.interrupted and result.global_step == STEP
        shutil.copyfile(result.last_checkpoint, HERE / "loop_v1_mid_epoch.ckpt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
