"""Hints that are right, not noisy: each is printed at most once per trainer, to stderr.

Every hint is based on what this run actually does or measures, not on a rule of thumb: the
data-loading hint, for instance, fires only when the time spent waiting for batches was measured
to dominate an epoch, not merely because ``num_workers`` is 0.
"""

from __future__ import annotations

import sys

from lightdsl.errors import TrainingError

from .callbacks import BuiltinCallback
from .data import is_shuffled

# Waiting for data counts as the bottleneck when it takes at least half of an epoch's time,
# and long enough (in seconds) that setting up worker processes would pay off.
WAIT_FRACTION = 0.5
MIN_WAIT_S = 0.5


class Hints:
    """Prints each distinct hint once."""

    def __init__(self, stream=None) -> None:
        self.stream = stream
        self.shown: set[str] = set()
        self.enabled = True  # False on DDP ranks other than 0

    def once(self, key: str, message: str, kind: str = "hint") -> None:
        """Print ``kind: message`` unless the hint (or warning) ``key`` was already shown."""
        if key in self.shown or not self.enabled:
            return
        self.shown.add(key)
        print(f"{kind}: {message}", file=self.stream or sys.stderr, flush=True)

    def check_val_shuffle(self, loader) -> None:
        """Validation data that is shuffled: costs time, changes no aggregated metric."""
        if loader is not None and is_shuffled(loader):
            self.once(
                "val-shuffle",
                "the validation data is shuffled; shuffling cannot change the epoch's "
                "aggregated metrics, it only costs time and reorders per-batch results. "
                "Set shuffle=False for validation data.",
            )

    def check_data_wait(self, loader, wait_s: float, epoch_s: float) -> None:
        """Measured: waiting for batches dominated the epoch while loading in the main process."""
        if getattr(loader, "num_workers", None) != 0 or epoch_s <= 0:
            return
        if wait_s < MIN_WAIT_S or wait_s < WAIT_FRACTION * epoch_s:
            return
        self.once(
            "data-wait",
            f"waiting for batches took {wait_s:.1f} s of this {epoch_s:.1f} s epoch "
            f"({wait_s / epoch_s:.0%}) with num_workers=0: data loading is the bottleneck. "
            "Give the DataLoader num_workers > 0 (and pin_memory=True for a GPU), or use "
            "InMemoryLoader if the data fits in memory.",
        )

    def fast_dev_run(self, batches: int) -> None:
        """fast_dev_run only checks that the code runs: say so, and that nothing is kept."""
        plural = "es" if batches > 1 else ""
        self.once(
            "fast-dev-run",
            f"fast_dev_run: running {batches} training and {batches} validation batch{plural} "
            "to check the code path; nothing is logged and no checkpoint is saved.",
        )


class HintsCallback(BuiltinCallback):
    """The hints a fit gives, on the callback list: at the start, what the settings and the
    data say; after each epoch (after the checkpoints), what the epoch measured."""

    order = 2

    def __init__(self, hints: Hints) -> None:
        self.hints = hints

    def on_fit_start(self, trainer, module) -> None:
        if trainer.run_config.fast_dev_run:
            self.hints.fast_dev_run(trainer.run_config.fast_dev_run)
        self.hints.check_val_shuffle(trainer.val_loader)

    def on_train_epoch_end(self, trainer, module) -> None:
        state = trainer.state
        self.hints.check_data_wait(trainer.train_loader, state.data_wait_s, state.epoch_s)


def nonfinite_loss_error(loss, epoch: int, step: int, batch_idx: int, kept: str | None):
    """The TrainingError for a NaN or infinite loss, saying where and which checkpoint is kept."""
    value = "nan" if loss.isnan().any() else "inf"
    where = f"epoch {epoch}, batch {batch_idx} (after {step} optimizer steps)"
    kept_text = (
        f"the last good checkpoint is kept: {kept}"
        if kept
        else "no checkpoint had been saved yet, so none is kept"
    )
    return TrainingError(
        f"the training loss is {value} at {where}; training stopped and the weights were not "
        f"updated with it; {kept_text}",
        hint="lower the learning rate, set gradient_clip_val, or check the data for nan/inf",
    )
