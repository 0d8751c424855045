"""The loop's state as one ``LoopState``: checkpoints written before it still resume exactly, the
checkpoint layout is unchanged, and Lightning's trainer attributes read (and ``should_stop``
writes) that state.

The stored v1 checkpoint was trained on another machine, and float results of the same torch
differ from CPU to CPU (kernels chosen by instruction set: the weights at its step 11 differ
from this machine's in the last bit), so resuming it cannot match a fresh run here bit for bit.
Two tests split what that proved: the stored file resumes where it stopped and trains to the
end (everything that does not depend on rounding); and a file in exactly its layout, written
here by the same run interrupted at the same step, resumes bit for bit.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
from pathlib import Path

import torch
from trainer_modules import fast_trainer_kwargs

from lightdsl.trainer import Callback, Trainer, load_checkpoint
from lightdsl.trainer.loop import LoopState

DATA = Path(__file__).parent / "data"
OLD_CKPT = DATA / "loop_v1_mid_epoch.ckpt"  # see data/make_loop_v1_checkpoint.py


def _make_script():
    """The script that wrote the old checkpoint: its module, its STEP and its Ctrl-C."""
    spec = importlib.util.spec_from_file_location("make_v1", DATA / "make_loop_v1_checkpoint.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def _frozen_run_module():
    """The module the old checkpoint was trained with, from the script that wrote it."""
    script = _make_script()
    return script.frozen_run_module(), script.STEP


class Losses(Callback):
    """Every step's loss, and the first batch this fit trained: (epoch, batch index, global
    step after it)."""

    def __init__(self):
        self.losses = []
        self.first = None

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.losses.append(outputs["loss"].item())
        if self.first is None:
            self.first = (trainer.current_epoch, batch_idx, trainer.global_step)


def _fit(tmp_path, module, ckpt_path=None):
    recorder = Losses()
    settings = fast_trainer_kwargs(tmp_path, enable_checkpointing=True, seed=7)
    result = Trainer(max_epochs=3, callbacks=[recorder], **settings).fit(module,
                                                                          ckpt_path=ckpt_path)
    return result, recorder


ROUNDING = {"rel_tol": 1e-5, "abs_tol": 1e-6}  # last-bit differences between CPUs, grown a little


def test_the_stored_v1_checkpoint_resumes_where_it_stopped_and_trains_to_the_end(tmp_path):
    ckpt = tmp_path / "old.ckpt"
    shutil.copyfile(OLD_CKPT, ckpt)  # the resumed run may rewrite files next to it
    resumed, step = _frozen_run_module()
    result, recorder = _fit(tmp_path / "resumed", resumed, ckpt_path=ckpt)

    assert recorder.first == (1, 3, step + 1)  # epoch 1's batch 3 after step 11: where it stopped
    assert (result.epochs, result.global_step) == (3, 24)
    assert len(recorder.losses) == 24 - step and all(map(math.isfinite, recorder.losses))
    old = load_checkpoint(OLD_CKPT)
    assert result.history[0] == old["history"][0]  # epoch 0's entry, exactly as in the old file
    assert [entry["epoch"] for entry in result.history] == [0, 1, 2]
    # the same trajectory as a fresh run here, up to the other machine's rounding: the data
    # order, dropout masks and learning rate were restored (any of them wrong moves the loss
    # by far more than this)
    full, _ = _frozen_run_module()
    full_result, full_recorder = _fit(tmp_path / "full", full)
    for ours, theirs in zip(recorder.losses, full_recorder.losses[step:], strict=True):
        assert math.isclose(ours, theirs, **ROUNDING), (ours, theirs)
    for ours, theirs in zip(result.history[1:], full_result.history[1:], strict=True):
        assert ours.keys() == theirs.keys()  # epochs 1 and 2: the train means went on from
        for name, value in ours.items():    # the old file's sums
            assert math.isclose(value, theirs[name], **ROUNDING), (ours, theirs)


def _in_v1_layout(ckpt: dict, v1: dict) -> dict:
    """``ckpt`` as the trainer of commit 338d4a8 would have written it: only the keys the v1
    file has, at each level where keys were added since (at the top and in ``loop``: Lightning's
    keys and ``total_batches``; ``train_means.metric_states``; the step-level
    ``callback_metrics`` such as ``train_loss_step``). A missing v1 key is a KeyError."""
    def keep(new: dict, old: dict) -> dict:
        return {key: new[key] for key in old}

    downgraded = keep(ckpt, v1)
    downgraded["loop"] = keep(ckpt["loop"], v1["loop"])
    downgraded["loop"]["train_means"] = keep(ckpt["loop"]["train_means"],
                                             v1["loop"]["train_means"])
    downgraded["callback_metrics"] = keep(ckpt["callback_metrics"], v1["callback_metrics"])
    return downgraded


def _key(key):
    # ModelCheckpoint's best_k_models is keyed by the checkpoints' paths: compare file names
    return Path(key).name if isinstance(key, str) and os.path.isabs(key) else key


def _layout(value):
    """A checkpoint's key tree: dict keys, sequence lengths, leaf types, tensor dtypes and
    shapes."""
    if isinstance(value, dict):
        return {_key(k): _layout(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_layout(v) for v in value])
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), tuple(value.shape))
    return type(value).__name__


def _differences(ours, theirs, where="") -> list[str]:
    """Where two checkpoints of one layout differ by more than float rounding: integers,
    strings, random states and every non-float tensor must be equal; paths by file name."""
    if isinstance(ours, dict):
        theirs = {_key(k): v for k, v in theirs.items()}
        return [d for k, v in ours.items() for d in _differences(v, theirs[_key(k)],
                                                                  f"{where}/{k}")]
    if isinstance(ours, (list, tuple)):
        return [d for i, (a, b) in enumerate(zip(ours, theirs))
                for d in _differences(a, b, f"{where}[{i}]")]
    if isinstance(ours, torch.Tensor) and ours.is_floating_point():
        close = torch.allclose(ours, theirs, rtol=ROUNDING["rel_tol"], atol=ROUNDING["abs_tol"])
    elif isinstance(ours, torch.Tensor):
        close = torch.equal(ours, theirs)
    elif isinstance(ours, float):
        close = math.isclose(ours, theirs, **ROUNDING)
    elif isinstance(ours, str) and os.path.isabs(ours):
        close = Path(ours).name == Path(theirs).name
    else:
        close = ours == theirs
    return [] if close else [where]


def test_a_checkpoint_in_the_v1_layout_resumes_bit_for_bit(tmp_path):
    script = _make_script()
    full = script.frozen_run_module()
    full_result, full_recorder = _fit(tmp_path / "full", full)
    # the make script's run, here: Ctrl-C at step 11, then the file rewritten in the v1 layout
    settings = fast_trainer_kwargs(tmp_path / "stopped", enable_checkpointing=True, seed=7)
    stopped = Trainer(max_epochs=3, callbacks=[script.CtrlC()], **settings).fit(
        script.frozen_run_module())
    assert stopped.interrupted and stopped.global_step == script.STEP
    v1 = load_checkpoint(OLD_CKPT)
    old = _in_v1_layout(load_checkpoint(stopped.last_checkpoint), v1)
    assert _layout(old) == _layout(v1)  # the v1 file's keys and structure, exactly
    assert _differences(old, v1) == []  # and its contents, but for the other CPU's rounding
    ckpt = tmp_path / "v1_here.ckpt"
    torch.save(old, ckpt)

    resumed = script.frozen_run_module()
    result, recorder = _fit(tmp_path / "resumed", resumed, ckpt_path=ckpt)
    assert recorder.first == (1, 3, script.STEP + 1)
    assert recorder.losses == full_recorder.losses[script.STEP:]  # every later step, exactly
    for (name, p), q in zip(resumed.named_parameters(), full.parameters(), strict=True):
        assert torch.equal(p, q), name
    assert (result.epochs, result.global_step) == (3, 24)
    assert result.history == full_result.history  # epoch 0's entry came from the v1 file
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
