"""Pruning: a trial reports its monitored value each validation epoch; a trial Optuna's pruner
calls hopeless stops there (it is recorded as pruned, with the epochs it trained)."""

from __future__ import annotations

from ..trainer.callbacks import Callback


class PruningCallback(Callback):
    """``trial.report(value, epoch)`` after each validation (after each epoch without
    validation data); on ``trial.should_prune()`` the run stops after this epoch."""

    stateful = False

    def __init__(self, trial, monitor: str):
        self.trial, self.monitor = trial, monitor
        self.pruned = False
        self.pruned_at: int | None = None

    def on_validation_end(self, trainer, module) -> None:
        self._report(trainer)

    def on_train_epoch_end(self, trainer, module) -> None:
        if not trainer.has_val_data:
            self._report(trainer)

    def _report(self, trainer) -> None:
        value = trainer.callback_metrics.get(self.monitor)
        if value is None or self.pruned:
            return
        epoch = trainer.current_epoch
        self.trial.report(float(value), step=epoch)
        if self.trial.should_prune():
            self.pruned, self.pruned_at = True, epoch
            trainer.should_stop = True
