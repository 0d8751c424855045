"""The loop's state as one ``LoopState``: checkpoints written before it still resume exactly, the
checkpoint layout is unchanged, and Lightning's trainer attributes read (and ``should_stop``
writes) that state."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import torch
from trainer_modules import fast_trainer_kwargs

from lightdsl.trainer import Callback, Trainer, load_checkpoint
from lightdsl.trainer.loop import LoopState

DATA = Path(__file__).parent / "data"
OLD_CKPT = DATA / "loop_v1_mid_epoch.ckpt"  # see data/make_loop_v1_checkpoint.py


def _frozen_run_module():
    """The module the old checkpoint was trained with, from the script that wrote it."""
    spec = importlib.util.spec_from_file_location("make_v1", DATA / "make_loop_v1_checkpoint.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script.frozen_run_module(), script.STEP


class Losses(Callback):
    def __init__(self):
        self.losses = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.losses.append(outputs["loss"].item())


def _fit(tmp_path, module, ckpt_path=None):
    recorder = Losses()
    settings = fast_trainer_kwargs(tmp_path, enable_checkpointing=True, seed=7)
    result = Trainer(max_epochs=3, callbacks=[recorder], **settings).fit(module,
                                                                          ckpt_path=ckpt_path)
    return result, recorder.losses


def test_a_checkpoint_written_before_loop_state_resumes_bit_for_bit(tmp_path):
    full, step = _frozen_run_module()
    full_result, full_losses = _fit(tmp_path / "full", full)

    ckpt = tmp_path / "old.ckpt"
    shutil.copyfile(OLD_CKPT, ckpt)  # the resumed run may rewrite files next to it
    resumed, _ = _frozen_run_module()
    result, losses = _fit(tmp_path / "resumed", resumed, ckpt_path=ckpt)

    assert losses == full_losses[step:]  # every step after the checkpoint, exactly
    for (name, p), q in zip(resumed.named_parameters(), full.parameters()):
        assert torch.equal(p, q), name
    assert (result.epochs, result.global_step) == (3, 24)
    assert result.history == full_result.history  # epoch 0's entry came from the old file
    assert result.last_metrics == full_result.last_metrics


class StopAt(Callback):
    """Checks the Lightning attributes against ``trainer.state`` and stops at step 5."""

    def __init__(self):
        self.seen = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        state = trainer.state
        assert isinstance(state, LoopState)
        assert (trainer.current_epoch, trainer.global_step) == (state.epoch, state.global_step)
        assert trainer.callback_metrics is state.callback_metrics
        assert not trainer.sanity_checking and not trainer.interrupted
        self.seen.append((trainer.current_epoch, state.batches_done, trainer.global_step))
        if trainer.global_step == 5:
            trainer.should_stop = True
            assert state.should_stop


def test_lightning_attributes_read_the_loop_state_and_should_stop_writes_it(tmp_path):
    module, _ = _frozen_run_module()
    stopper = StopAt()
    settings = fast_trainer_kwargs(tmp_path, enable_checkpointing=True, seed=7)
    trainer = Trainer(max_epochs=3, callbacks=[stopper], **settings)
    result = trainer.fit(module)
    assert stopper.seen == [(0, i, i) for i in range(1, 6)]
    assert result.global_step == trainer.global_step == 5 and trainer.should_stop

    saved = load_checkpoint(result.last_checkpoint)
    old = load_checkpoint(OLD_CKPT)
    # the lightdsl-checkpoint/1 layout, key for key, plus what Lightning reads beside it (keys
    # an older lightdsl ignores): so the format tag stays, and older lightdsl still reads it
    lightning = {"epoch", "global_step", "pytorch-lightning_version", "loops",
                 "optimizer_states", "lr_schedulers", "hyper_parameters"}
    assert set(saved) == set(old) | lightning
    assert set(saved["loop"]) == set(old["loop"]) | {"total_batches"}
    loop = saved["loop"]
    assert (loop["epoch"], loop["global_step"], loop["batches_done"]) == (0, 5, 5)
    assert loop["epoch_finished"] is False and loop["total_batches"] == 5
