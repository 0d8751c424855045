"""Where a fit is and what it has seen: :class:`LoopState`, the loop's only state."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .checkpoint import capture_rng, to_safe
from .evaluation import MeanMetrics


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
    should_log: bool = False
    """Whether the batch just done ended with an optimizer step at a ``log_every_n_steps``
    step: its metrics are logged. Set once per batch by the loop, before the batch's
    ``on_train_batch_end``; what a metric or callback that only works on logged steps reads."""
    epoch_metrics: dict[str, float] = field(default_factory=dict)
    """The finished epoch's logged training means (``train_loss_epoch``, ...)."""
    data_wait_s: float = 0.0
    """Seconds the current epoch waited for its batches (what the data-loading hint reads)."""
    epoch_s: float = 0.0
    """Seconds the current epoch's batches took, waits included."""

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
