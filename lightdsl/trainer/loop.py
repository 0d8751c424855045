"""The training loop: one explicit loop, meant to be read top to bottom.

``fit_loop`` runs epochs; ``train_epoch`` runs batches; ``train_step`` and ``optimizer_step`` are
one batch and one update. Every stage is introduced by a short comment. The trainer object
carries what the run is made of (module, optimizer, loaders, callbacks); where the loop is and
what it has seen is one :class:`LoopState` (``trainer.state``), defined here and changed only by
this module and the trainer's validation and logging; callbacks are called at the marked points.

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
from dataclasses import dataclass, field
from itertools import count

import torch

from .checkpoint import capture_rng, restore_rng, to_safe
from .data import InMemoryLoader, batch_size_of, set_epoch
from .evaluation import MeanMetrics, materialized, split_training_output, step_values
from .hints import nonfinite_loss_error


@dataclass
class LoopState:
    """Where a fit is, what it has seen, and whether it should stop: the loop's only state.

    The trainer creates one per run (``trainer.state``); Lightning's public attributes
    (``trainer.current_epoch``, ``global_step``, ``should_stop``, ``callback_metrics``,
    ``sanity_checking``, ``interrupted``) are properties that read it. A checkpoint stores it under
    the keys of :meth:`checkpoint_entries` (the ``lightdsl-checkpoint/1`` layout).
    """

    epoch: int = 0
    """The current epoch (0-based): Lightning's ``current_epoch``."""
    global_step: int = 0
    """Optimizer steps taken so far, over the whole run (resumes included)."""
    batches_done: int = 0
    """Training batches of the current epoch done (the next batch's index)."""
    total_batches: int = 0
    """Training batches done over the whole run (resumes included): Lightning's batch counter
    in the checkpoint's Lightning layout."""
    pending_batches: int = 0
    """Batches backpropagated since the last optimizer step (an open accumulation window)."""
    epoch_finished: bool = False
    """Whether the current epoch ran all its batches (the next position is the next epoch)."""
    should_stop: bool = False
    """Set by a callback (early stopping) or the loop: stop at the next optimizer-step boundary."""
    stop_reason: str | None = None
    """Why ``should_stop`` was set, in words, for the run's summary (None: not stopped early)."""
    interrupt_requested: bool = False
    """A first Ctrl-C arrived: finish the step in progress, save ``last.ckpt``, stop."""
    interrupted: bool = False
    """The interrupt checkpoint was saved (or there was nowhere to save it): the fit is over."""
    sanity_checking: bool = False
    """True while the sanity-check validation batches run, before training."""
    val_interval: int | None = None
    """Validate every this many training batches (None: at each epoch's end only)."""
    has_validated: bool = False
    """Whether any validation has run (so ``val_*`` metrics can be looked up)."""
    validated_at: tuple[int, int] | None = None
    """(epoch, batches_done) of the last validation: an epoch end does not validate twice."""
    callback_metrics: dict[str, float] = field(default_factory=dict)
    """The latest value of every logged metric, as floats (what callbacks monitor)."""
    epoch_val_metrics: dict[str, float] = field(default_factory=dict)
    """The current epoch's latest validation metrics (shown and kept in its history entry)."""
    history: list[dict] = field(default_factory=list)
    """One dict per logged epoch: ``{"epoch": E, "train_loss_epoch": ..., "val_loss": ...}``."""
    train_means: MeanMetrics = field(default_factory=MeanMetrics)
    """The current epoch's batch-size-weighted sums of the training loss and metrics."""
    last_outputs: dict = field(default_factory=dict)
    """The last batch's detached outputs (logged by a step that closes an accumulation)."""
    epoch_start_rng: dict | None = None
    """The random generators' state at the epoch's start (a mid-epoch resume replays it)."""
    resume_rng: dict | None = None
    """The resumed checkpoint's random states, until the first epoch after the resume applies
    them (``{"now": ..., "epoch_start": ...}``)."""

    def next_position(self) -> tuple[int, int]:
        """The epoch and batch index training continues from."""
        if self.epoch_finished:
            return self.epoch + 1, 0
        return self.epoch, self.batches_done

    def take_resume_rng(self) -> dict | None:
        """The resumed run's RNG states, once (the first epoch after a resume applies them)."""
        state, self.resume_rng = self.resume_rng, None
        return state

    def start_epoch(self, epoch: int, skip: int) -> None:
        """Position at batch ``skip`` of ``epoch``; a fresh epoch starts its sums afresh."""
        self.epoch, self.batches_done, self.epoch_finished = epoch, skip, False
        self.epoch_val_metrics = {}
        if not skip:
            self.train_means = MeanMetrics()

    def checkpoint_entries(self, train_means: dict) -> dict:
        """This state's part of a checkpoint: ``loop`` (less the trainer's ``data_seed`` and
        ``world_size``), ``rng``, ``epoch_start_rng``, ``callback_metrics``, ``history``.
        ``train_means`` is :attr:`train_means`' state, summed over ranks by the caller."""
        return {
            "loop": {
                "epoch": self.epoch,
                "global_step": self.global_step,
                "batches_done": self.batches_done,
                "total_batches": self.total_batches,
                "epoch_finished": self.epoch_finished,
                "train_means": train_means,
            },
            "rng": capture_rng(),
            "epoch_start_rng": self.epoch_start_rng,
            "callback_metrics": dict(self.callback_metrics),
            "history": to_safe(self.history),
        }

    def restore(self, ckpt: dict, device: torch.device, with_means: bool) -> None:
        """Take the position, metrics and random states of a checkpoint (the running epoch
        sums only ``with_means``: they cover every rank's samples, so one rank counts them)."""
        loop = ckpt["loop"]
        self.epoch, self.global_step = loop["epoch"], loop["global_step"]
        self.batches_done, self.epoch_finished = loop["batches_done"], loop["epoch_finished"]
        # absent before it was counted: a lower bound (only Lightning's layout reads it)
        self.total_batches = loop.get("total_batches", self.batches_done)
        if with_means:
            self.train_means.load_state_dict(loop["train_means"], device)
        self.callback_metrics, self.history = dict(ckpt["callback_metrics"]), ckpt["history"]
        self.has_validated = any(name.startswith("val_") for name in self.callback_metrics)
        # applied by the loop after the sanity check, which may itself draw random numbers
        self.resume_rng = {"now": ckpt["rng"], "epoch_start": ckpt["epoch_start_rng"]}


def fit_loop(trainer) -> None:
    """Train epoch after epoch until max_epochs, max_steps, a stop request or Ctrl-C."""
    with stop_on_ctrl_c(trainer):
        while not _fit_done(trainer):
            epoch, skip = trainer.state.next_position()
            train_epoch(trainer, epoch, skip)
            _agree_on_stop(trainer)
            if trainer.state.interrupt_requested and not trainer.state.interrupted:
                trainer.save_interrupt_checkpoint()  # Ctrl-C during the epoch's last steps


def _fit_done(t) -> bool:
    state, cfg = t.state, t.run_config
    epoch, _ = state.next_position()
    return (
        state.should_stop
        or state.interrupted
        or t.num_train_batches == 0
        or (cfg.max_steps != -1 and state.global_step >= cfg.max_steps)
        or (cfg.max_epochs != -1 and epoch >= cfg.max_epochs)
    )


def train_epoch(t, epoch: int, skip: int) -> None:
    """One pass over the training data; ``skip`` > 0 resumes in the middle of the epoch."""
    batches, state = _start_epoch(t, epoch, skip), t.state
    wait_s, started = 0.0, time.perf_counter()
    for batch_idx in range(skip, t.num_train_batches) if t.num_train_batches else count(skip):
        # fetch batch: waiting for data here is what the data-loading hint measures
        fetch_started = time.perf_counter()
        batch = next(batches, None)
        if batch is None:
            break
        batch = t.to_device(batch, t.train_loader)
        wait_s += time.perf_counter() - fetch_started
        outputs = state.last_outputs = train_step(t, batch, batch_idx)
        state.batches_done = batch_idx + 1
        state.total_batches += 1
        t.progress.update(outputs["loss"])
        t.callbacks.call("on_train_batch_end", t, t.module, _callback_outputs(t, outputs), batch,
                         batch_idx)
        # validate in the middle of the epoch (val_check_interval < one epoch)
        if t.validation_due(state.batches_done, epoch_end=False):
            t.run_validation()
        # stop between optimizer steps: at max_steps, when a callback asks, or after a Ctrl-C
        _agree_on_stop(t)
        stop = state.interrupt_requested or state.should_stop or t.max_steps_reached()
        if stop and state.pending_batches == 0:
            break
    _agree_on_stop(t)
    if state.interrupt_requested and state.pending_batches == 0:
        t.save_interrupt_checkpoint()
        return
    _end_epoch(t, wait_s, time.perf_counter() - started)


def _callback_outputs(t, outputs: dict) -> dict:
    """What ``on_train_batch_end`` receives: as in Lightning, ``"loss"`` is the loss that was
    backpropagated, i.e. divided by ``accumulate_grad_batches``; other values are as returned
    (and the progress bar and the logged ``train_loss_step`` show the undivided loss)."""
    if t.callbacks.overrides("on_train_batch_end"):
        outputs = materialized(outputs)  # the metrics' batch values, for callbacks that read them
    accumulate = t.run_config.accumulate_grad_batches
    return outputs if accumulate == 1 else {**outputs, "loss": outputs["loss"] / accumulate}


def _agree_on_stop(t) -> None:
    """Under DDP, a stop one rank asks for (Ctrl-C, a callback) stops every rank at this step."""
    state = t.state
    state.interrupt_requested, state.should_stop = t.dist.any(state.interrupt_requested,
                                                              state.should_stop)


def _start_epoch(t, epoch: int, skip: int):
    """Set the counters and return the batch iterator, positioned at batch ``skip``."""
    state = t.state
    state.start_epoch(epoch, skip)
    t.module.train()
    t.callbacks.call("on_train_epoch_start", t, t.module)
    t.progress.start_epoch(epoch, t.run_config.max_epochs, t.num_train_batches, skip)
    resume = state.take_resume_rng()
    if resume:
        # mid-epoch: replay the epoch's start, so that a DataLoader draws the same order
        replay = skip and resume["epoch_start"] is not None
        restore_rng(resume["epoch_start"] if replay else resume["now"])
    # an in-memory loader's order depends only on seed and epoch: nothing to replay for it
    in_memory = isinstance(t.train_loader, InMemoryLoader)
    state.epoch_start_rng = None if in_memory else capture_rng()
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
    state = t.state
    # a nan/inf loss stops training here, before it can reach the weights
    if not _finite(loss, state.global_step, t.run_config.log_every_n_steps):
        raise nonfinite_loss_error(loss, state.epoch, state.global_step, batch_idx,
                                   t.kept_ckpt())
    # scale + backward; dividing by N makes N accumulated batches average like one large batch
    accumulate = t.run_config.accumulate_grad_batches
    scaled = loss / accumulate if accumulate > 1 else loss
    (t.scaler.scale(scaled) if t.scaler else scaled).backward()
    state.pending_batches += 1
    state.train_means.add({"loss": loss, **metrics}, batch_size_of(batch))
    outputs = {"loss": loss.detach(), **step_values(metrics)}
    # accumulate: step once every accumulate_grad_batches batches (and at the epoch's end)
    if state.pending_batches == t.run_config.accumulate_grad_batches:
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
    state = t.state
    state.global_step += 1
    state.pending_batches = 0
    # scheduler step, for schedulers that follow optimizer steps
    t.opt.step_schedulers("step", state.global_step, t)
    # log the step's loss and metrics every log_every_n_steps
    if state.global_step % cfg.log_every_n_steps == 0:
        t.log_step(outputs)


def _end_epoch(t, wait_s: float, epoch_s: float) -> None:
    """Finish the epoch: last partial accumulation, validation, epoch schedulers, epoch logs."""
    state = t.state
    finished = t.num_train_batches is None or state.batches_done >= t.num_train_batches
    # apply gradients still pending from an incomplete accumulation at the epoch's end
    if state.pending_batches and finished:
        optimizer_step(t, state.last_outputs)
    state.epoch_finished = finished
    # validate at the end of the epoch (or where max_steps stopped it)
    if t.validation_due(state.batches_done, epoch_end=True):
        t.run_validation()
    # scheduler step, for schedulers that follow epochs
    if finished:
        t.opt.step_schedulers("epoch", state.epoch + 1, t)
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
        trainer.state.interrupt_requested = True
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
