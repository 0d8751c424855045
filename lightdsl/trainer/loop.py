"""The training loop: one explicit loop, meant to be read top to bottom.

``fit_loop`` runs epochs; ``train_epoch`` runs batches; ``train_step`` and ``optimizer_step`` are
one batch and one update. Every stage is introduced by a short comment. Each function takes the
run (a :class:`~lightdsl.trainer.run.FitRun`: module, optimizer, loaders, callbacks, prepared
once) and the loop's state (a :class:`~lightdsl.trainer.state.LoopState`: where the loop is and
what it has seen, changed only here and in :mod:`~lightdsl.trainer.records`). Everything else
listens on the one callback list: the logger, the progress bar and the hints are callbacks.

Ctrl-C: the first press sets a flag; the loop finishes the optimizer step in progress, saves
``last.ckpt`` with the exact position inside the epoch (batch index, RNG states, running epoch
sums) and returns. Resuming from it continues bit for bit. A second press aborts at once.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
from itertools import count

import torch

from .checkpoint import capture_rng, restore_rng
from .data import InMemoryLoader, batch_size_of, set_epoch
from .evaluation import materialized, split_training_output, step_values
from .hints import nonfinite_loss_error
from .records import log_epoch, log_step, run_validation, save_interrupt_checkpoint, validation_due
from .state import LoopState  # noqa: F401 - the loop's state, defined beside it


def fit_loop(run, state) -> None:
    """Train epoch after epoch until max_epochs, max_steps, a stop request or Ctrl-C."""
    with stop_on_ctrl_c(run, state):
        run.module.train()  # validation restores it; an epoch sets it again only if it is off
        while not _fit_done(run, state):
            epoch, skip = state.next_position()
            train_epoch(run, state, epoch, skip)
            if run.dist.enabled:
                _agree_on_stop(run, state)
            if state.interrupt_requested and not state.interrupted:
                save_interrupt_checkpoint(run, state)  # Ctrl-C during the epoch's last steps


def _fit_done(run, state) -> bool:
    cfg = run.config
    epoch, _ = state.next_position()
    return (
        state.should_stop
        or state.interrupted
        or run.loaders.num_train_batches == 0
        or max_steps_reached(run, state)
        or (cfg.max_epochs != -1 and epoch >= cfg.max_epochs)
    )


def max_steps_reached(run, state) -> bool:
    """Whether the optimizer-step budget (``max_steps``) is used up."""
    max_steps = run.config.max_steps
    return max_steps != -1 and state.global_step >= max_steps


def train_epoch(run, state, epoch: int, skip: int) -> None:
    """One pass over the training data; ``skip`` > 0 resumes in the middle of the epoch."""
    batches = _start_epoch(run, state, epoch, skip)
    trainer, module, loader = run.trainer, run.module, run.loaders.train_loader
    total, callbacks = run.loaders.num_train_batches, run.callbacks
    # decided once per epoch, not per batch (a step of a small model is a few microseconds)
    on_device = isinstance(loader, InMemoryLoader)  # in-memory batches already live there
    validates, distributed = run.loaders.has_val_data, run.dist.enabled
    max_steps = run.config.max_steps if run.config.max_steps != -1 else math.inf
    # the outputs as returned, unless a callback reads them or accumulation divides the loss
    plain_outputs = (run.config.accumulate_grad_batches == 1
                     and not callbacks.reads_outputs("on_train_batch_end"))
    batch_end_hooks = callbacks.methods("on_train_batch_end")
    wait_s, started = 0.0, time.perf_counter()
    for batch_idx in range(skip, total) if total else count(skip):
        # fetch batch: waiting for data here is what the data-loading hint measures
        fetch_started = time.perf_counter()
        batch = next(batches, None)
        if batch is None:
            break
        if not on_device:
            batch = run.to_device(batch, loader)
        wait_s += time.perf_counter() - fetch_started
        # forward, backward, and an optimizer step when the accumulation window closes
        outputs = state.last_outputs = train_step(run, state, batch, batch_idx)
        state.batches_done = batch_idx + 1
        state.total_batches += 1
        # callbacks (the progress bar first) see the batch
        if batch_end_hooks:
            seen = outputs if plain_outputs else _callback_outputs(run, outputs)
            for hook in batch_end_hooks:
                hook(trainer, module, seen, batch, batch_idx)
        # validate in the middle of the epoch (val_check_interval < one epoch)
        if validates and validation_due(run, state, state.batches_done, epoch_end=False):
            run_validation(run, state)
        # stop between optimizer steps: at max_steps, when a callback asks, or after a Ctrl-C
        if distributed:
            _agree_on_stop(run, state)
        stop = state.interrupt_requested or state.should_stop or state.global_step >= max_steps
        if stop and state.pending_batches == 0:
            break
    if distributed:
        _agree_on_stop(run, state)
    if state.interrupt_requested and state.pending_batches == 0:
        save_interrupt_checkpoint(run, state)
        return
    state.data_wait_s, state.epoch_s = wait_s, time.perf_counter() - started
    _end_epoch(run, state)


def _callback_outputs(run, outputs: dict) -> dict:
    """What ``on_train_batch_end`` receives: as in Lightning, ``"loss"`` is the loss that was
    backpropagated, i.e. divided by ``accumulate_grad_batches``; other values are as returned
    (and the progress bar and the logged ``train_loss_step`` show the undivided loss)."""
    if run.callbacks.reads_outputs("on_train_batch_end"):
        outputs = materialized(outputs)  # the metrics' batch values, for callbacks that read them
    accumulate = run.config.accumulate_grad_batches
    return outputs if accumulate == 1 else {**outputs, "loss": outputs["loss"] / accumulate}


def _agree_on_stop(run, state) -> None:
    """Under DDP, a stop one rank asks for (Ctrl-C, a callback) stops every rank at this step."""
    if run.dist.enabled:
        state.interrupt_requested, state.should_stop = run.dist.any(state.interrupt_requested,
                                                                    state.should_stop)


def _start_epoch(run, state, epoch: int, skip: int):
    """Set the counters and return the batch iterator, positioned at batch ``skip``."""
    loader = run.loaders.train_loader
    state.start_epoch(epoch, skip)
    if not run.module.training:  # a callback switched it off (train() walks every submodule)
        run.module.train()
    run.callbacks.call("on_train_epoch_start", run.trainer, run.module)
    resume = state.take_resume_rng()
    if resume:
        # mid-epoch: replay the epoch's start, so that a DataLoader draws the same order
        replay = skip and resume["epoch_start"] is not None
        restore_rng(resume["epoch_start"] if replay else resume["now"])
    # an in-memory loader's order depends only on seed and epoch: nothing to replay for it
    state.epoch_start_rng = None if isinstance(loader, InMemoryLoader) else capture_rng()
    set_epoch(loader, epoch)
    batches = iter(loader)
    for _ in range(skip):
        next(batches)
    if resume and skip:
        restore_rng(resume["now"])
    return batches


def train_step(run, state, batch, batch_idx: int) -> dict:
    """Forward, backward and (every accumulate_grad_batches batches) an optimizer step."""
    cfg, scaler = run.config, run.scaler
    # forward under autocast (none for the *-true precisions: no context to enter); under DDP
    # this runs inside DistributedDataParallel, whose backward averages the gradients
    if run.precision.autocast_dtype is None:
        output = run.training_step(batch, batch_idx)
    else:
        with run.precision.autocast():
            output = run.training_step(batch, batch_idx)
    loss, metrics = split_training_output(output)
    # a nan/inf loss stops training here, before it can reach the weights (on the CPU every
    # step: reading a number is cheap, and the epoch's sum reuses it; on an accelerator at
    # logging steps, see _finite)
    value = loss.item() if loss.device.type == "cpu" else None
    if not (math.isfinite(value) if value is not None else _finite(loss, state.global_step,
                                                                   cfg.log_every_n_steps)):
        raise nonfinite_loss_error(loss, state.epoch, state.global_step, batch_idx,
                                   run.kept_ckpt())
    # scale + backward; dividing by N makes N accumulated batches average like one large batch
    accumulate = cfg.accumulate_grad_batches
    scaled = loss / accumulate if accumulate > 1 else loss
    (scaler.scale(scaled) if scaler else scaled).backward()
    state.pending_batches += 1
    state.train_means.add({"loss": loss, **metrics}, batch_size_of(batch), loss_value=value)
    outputs = {"loss": loss.detach()}
    if metrics:
        outputs.update(step_values(metrics))
    # accumulate: step once every accumulate_grad_batches batches (and at the epoch's end)
    state.should_log = False
    if state.pending_batches == accumulate:
        optimizer_step(run, state, outputs)
    return outputs


def _finite(loss: torch.Tensor, step: int, every: int) -> bool:
    """Whether an accelerator's loss is finite, as far as is checked: reading it would wait for
    the device at every step, so the check runs at logging steps, where the loss is read
    anyway."""
    return step % every != 0 or bool(torch.isfinite(loss.detach()))


def optimizer_step(run, state, outputs: dict) -> None:
    """Clip, step, zero the gradients, step per-step schedulers, log."""
    optimizer, cfg, scaler = run.opt.optimizer, run.config, run.scaler
    # unscale first, so that the clipping threshold applies to the true gradients
    if scaler:
        scaler.unscale_(optimizer)
    # clip gradients (by total norm or by value)
    if cfg.gradient_clip_val:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if cfg.gradient_clip_algorithm == "norm":
            torch.nn.utils.clip_grad_norm_(params, cfg.gradient_clip_val)
        else:
            torch.nn.utils.clip_grad_value_(params, cfg.gradient_clip_val)
    # optimizer step (the scaler skips it when float16 gradients overflowed)
    if scaler:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    state.global_step += 1
    state.pending_batches = 0
    # scheduler step, for schedulers that follow optimizer steps
    if run.opt.schedulers:
        run.opt.step_schedulers("step", state.global_step, run.trainer)
    # log the step's loss and metrics every log_every_n_steps
    state.should_log = state.global_step % cfg.log_every_n_steps == 0
    if state.should_log:
        log_step(run, state, outputs)


def _end_epoch(run, state) -> None:
    """Finish the epoch: last partial accumulation, validation, epoch schedulers, epoch logs."""
    total = run.loaders.num_train_batches
    finished = total is None or state.batches_done >= total
    # apply gradients still pending from an incomplete accumulation at the epoch's end
    if state.pending_batches and finished:
        optimizer_step(run, state, state.last_outputs)
    state.epoch_finished = finished
    # validate at the end of the epoch (or where max_steps stopped it)
    if run.loaders.has_val_data and validation_due(run, state, state.batches_done, True):
        run_validation(run, state)
    # scheduler step, for schedulers that follow epochs
    if finished and run.opt.schedulers:
        run.opt.step_schedulers("epoch", state.epoch + 1, run.trainer)
    # log the epoch's training means; callbacks (logger and progress first, checkpoints and
    # hints last) see the finished epoch
    log_epoch(run, state)
    run.callbacks.call("on_train_epoch_end", run.trainer, run.module)


@contextlib.contextmanager
def stop_on_ctrl_c(run, state):
    """First Ctrl-C: finish the current optimizer step, save, stop. Second: KeyboardInterrupt.

    Nothing is installed off the main thread (signal handlers can only be set there), or when
    SIGINT is ignored: a background run (``nohup``, ``&`` in a non-interactive shell) inherits
    SIG_IGN, and a Ctrl-C meant for the shell must not stop it."""
    on_main = threading.current_thread() is threading.main_thread()
    if not on_main or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def request_stop(signum, frame):
        state.interrupt_requested = True
        signal.signal(signal.SIGINT, previous)  # so that a second Ctrl-C aborts at once
        if not run.dist.is_main:  # under DDP every rank gets the signal; rank 0 says so
            return
        print(
            "\nCtrl-C: stopping after the current step and saving last.ckpt "
            "(press Ctrl-C again to abort without saving)",
            file=sys.stderr,
            flush=True,
        )

    signal.signal(signal.SIGINT, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
