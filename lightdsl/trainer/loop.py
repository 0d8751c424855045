"""The training loop: one explicit loop, meant to be read top to bottom.

``fit_loop`` runs epochs; ``train_epoch`` runs batches; ``train_step`` and ``optimizer_step`` are
one batch and one update. Every stage is introduced by a short comment. The trainer object
carries the state (module, optimizer, counters); callbacks are called at the marked points.

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
from .evaluation import MeanMetrics, split_training_output, step_values
from .hints import nonfinite_loss_error


def fit_loop(trainer) -> None:
    """Train epoch after epoch until max_epochs, max_steps, a stop request or Ctrl-C."""
    with stop_on_ctrl_c(trainer):
        while not _fit_done(trainer):
            epoch, skip = trainer.next_position()
            train_epoch(trainer, epoch, skip)
            _agree_on_stop(trainer)
            if trainer.interrupt_requested and not trainer.interrupted:
                trainer.save_interrupt_checkpoint()  # Ctrl-C during the epoch's last steps


def _fit_done(t) -> bool:
    epoch, _ = t.next_position()
    cfg = t.run_config
    return (
        t.should_stop
        or t.interrupted
        or t.num_train_batches == 0
        or (cfg.max_steps != -1 and t.global_step >= cfg.max_steps)
        or (cfg.max_epochs != -1 and epoch >= cfg.max_epochs)
    )


def train_epoch(t, epoch: int, skip: int) -> None:
    """One pass over the training data; ``skip`` > 0 resumes in the middle of the epoch."""
    batches = _start_epoch(t, epoch, skip)
    wait_s, started = 0.0, time.perf_counter()
    for batch_idx in range(skip, t.num_train_batches) if t.num_train_batches else count(skip):
        # fetch batch: waiting for data here is what the data-loading hint measures
        fetch_started = time.perf_counter()
        batch = next(batches, None)
        if batch is None:
            break
        batch = t.to_device(batch, t.train_loader)
        wait_s += time.perf_counter() - fetch_started
        outputs = t.last_outputs = train_step(t, batch, batch_idx)
        t.batches_done = batch_idx + 1
        t.progress.update(outputs["loss"])
        t.callbacks.call("on_train_batch_end", t, t.module, _callback_outputs(t, outputs), batch,
                         batch_idx)
        # validate in the middle of the epoch (val_check_interval < one epoch)
        if t.validation_due(t.batches_done, epoch_end=False):
            t.run_validation()
        # stop between optimizer steps: at max_steps, when a callback asks, or after a Ctrl-C
        _agree_on_stop(t)
        stop = t.interrupt_requested or t.should_stop or t.max_steps_reached()
        if stop and t.pending_batches == 0:
            break
    _agree_on_stop(t)
    if t.interrupt_requested and t.pending_batches == 0:
        t.save_interrupt_checkpoint()
        return
    _end_epoch(t, wait_s, time.perf_counter() - started)


def _callback_outputs(t, outputs: dict) -> dict:
    """What ``on_train_batch_end`` receives: as in Lightning, ``"loss"`` is the loss that was
    backpropagated, i.e. divided by ``accumulate_grad_batches``; other values are as returned
    (and the progress bar and the logged ``train_loss`` show the undivided loss)."""
    accumulate = t.run_config.accumulate_grad_batches
    return outputs if accumulate == 1 else {**outputs, "loss": outputs["loss"] / accumulate}


def _agree_on_stop(t) -> None:
    """Under DDP, a stop one rank asks for (Ctrl-C, a callback) stops every rank at this step."""
    t.interrupt_requested, t.should_stop = t.dist.any(t.interrupt_requested, t.should_stop)


def _start_epoch(t, epoch: int, skip: int):
    """Set the counters and return the batch iterator, positioned at batch ``skip``."""
    t.current_epoch, t.batches_done, t.epoch_finished = epoch, skip, False
    t.epoch_val_metrics = {}
    t.module.train()
    t.callbacks.call("on_train_epoch_start", t, t.module)
    t.progress.start_epoch(epoch, t.run_config.max_epochs, t.num_train_batches)
    resume = t.take_resume_rng()
    if resume:
        # mid-epoch: replay the epoch's start, so that a DataLoader draws the same order
        replay = skip and resume["epoch_start"] is not None
        restore_rng(resume["epoch_start"] if replay else resume["now"])
    if not skip:
        t.train_means = MeanMetrics()
    # an in-memory loader's order depends only on seed and epoch: nothing to replay for it
    in_memory = isinstance(t.train_loader, InMemoryLoader)
    t.epoch_start_rng = None if in_memory else capture_rng()
    set_epoch(t.train_loader, epoch)
    batches = iter(t.train_loader)
    for _ in range(skip):
        next(batches)
    if resume and skip:
        restore_rng(resume["now"])
    return batches


def train_step(t, batch, batch_idx: int) -> dict:
    """Forward, backward and (every accumulate_grad_batches batches) an optimizer step."""
    # forward under autocast (a no-op context for the *-true precisions); under DDP this runs
    # inside DistributedDataParallel, whose backward averages the gradients over the ranks
    with t.precision.autocast():
        output = t.training_step(batch, batch_idx)
    loss, metrics = split_training_output(output)
    # a nan/inf loss stops training here, before it can reach the weights
    if not _finite(loss, t.global_step, t.run_config.log_every_n_steps):
        raise nonfinite_loss_error(loss, t.current_epoch, t.global_step, batch_idx, t.kept_ckpt())
    # scale + backward; dividing by N makes N accumulated batches average like one large batch
    accumulate = t.run_config.accumulate_grad_batches
    scaled = loss / accumulate if accumulate > 1 else loss
    (t.scaler.scale(scaled) if t.scaler else scaled).backward()
    t.pending_batches += 1
    t.train_means.add({"loss": loss, **metrics}, batch_size_of(batch))
    outputs = {"loss": loss.detach(), **step_values(metrics)}
    # accumulate: step once every accumulate_grad_batches batches (and at the epoch's end)
    if t.pending_batches == t.run_config.accumulate_grad_batches:
        optimizer_step(t, outputs)
    return outputs


def _finite(loss: torch.Tensor, step: int, every: int) -> bool:
    """Whether the loss is finite. On the CPU every step is checked (reading a number is cheap);
    on an accelerator, reading it would wait for the device at every step, so the check runs
    at logging steps, where the loss is read anyway."""
    if loss.device.type == "cpu":
        return math.isfinite(loss.item())
    return step % every != 0 or bool(torch.isfinite(loss.detach()))


def optimizer_step(t, outputs: dict) -> None:
    """Clip, step, zero the gradients, step per-step schedulers, log."""
    optimizer, cfg = t.opt.optimizer, t.run_config
    # unscale first, so that the clipping threshold applies to the true gradients
    if t.scaler:
        t.scaler.unscale_(optimizer)
    # clip gradients (by total norm or by value)
    if cfg.gradient_clip_val:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if cfg.gradient_clip_algorithm == "norm":
            torch.nn.utils.clip_grad_norm_(params, cfg.gradient_clip_val)
        else:
            torch.nn.utils.clip_grad_value_(params, cfg.gradient_clip_val)
    # optimizer step (the scaler skips it when float16 gradients overflowed)
    if t.scaler:
        t.scaler.step(optimizer)
        t.scaler.update()
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    t.global_step += 1
    t.pending_batches = 0
    # scheduler step, for schedulers that follow optimizer steps
    t.opt.step_schedulers("step", t.global_step, t)
    # log the step's loss and metrics every log_every_n_steps
    if t.global_step % cfg.log_every_n_steps == 0:
        t.log_step(outputs)


def _end_epoch(t, wait_s: float, epoch_s: float) -> None:
    """Finish the epoch: last partial accumulation, validation, epoch schedulers, epoch logs."""
    finished = t.num_train_batches is None or t.batches_done >= t.num_train_batches
    # apply gradients still pending from an incomplete accumulation at the epoch's end
    if t.pending_batches and finished:
        optimizer_step(t, t.last_outputs)
    t.epoch_finished = finished
    # validate at the end of the epoch (or where max_steps stopped it)
    if t.validation_due(t.batches_done, epoch_end=True):
        t.run_validation()
    # scheduler step, for schedulers that follow epochs
    if finished:
        t.opt.step_schedulers("epoch", t.current_epoch + 1, t)
    # log the epoch's training means; callbacks (checkpoints last) see the finished epoch
    t.log_epoch()
    t.callbacks.call("on_train_epoch_end", t, t.module)
    t.hints.check_data_wait(t.train_loader, wait_s, epoch_s)


@contextlib.contextmanager
def stop_on_ctrl_c(trainer):
    """First Ctrl-C: finish the current optimizer step, save, stop. Second: KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.getsignal(signal.SIGINT)

    def request_stop(signum, frame):
        trainer.interrupt_requested = True
        signal.signal(signal.SIGINT, previous)  # so that a second Ctrl-C aborts at once
        if not trainer.dist.is_main:  # under DDP every rank gets the signal; rank 0 says so
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
