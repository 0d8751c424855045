"""What ``Trainer.fit`` returns: how far training got, its metrics and where its files are."""

from __future__ import annotations

from dataclasses import dataclass, field

from .callbacks import EarlyStopping, ModelCheckpoint


@dataclass
class FitResult:
    """The outcome of ``Trainer.fit``.

    ``epochs`` counts completed epochs (over the whole run, resumes included); ``best_metrics``
    are the epoch metrics where ``monitor`` was best; ``history`` has one dict per epoch;
    ``learning_rate`` is the (first parameter group's) base learning rate the optimizer
    trained with: the checkpoint's when resuming.
    """

    epochs: int
    global_step: int
    last_metrics: dict[str, float]
    best_metrics: dict[str, float]
    best_epoch: int | None
    monitor: str | None
    log_dir: str | None
    checkpoint_dir: str | None
    last_checkpoint: str | None
    best_checkpoint: str | None
    interrupted: bool
    stop_reason: str | None
    elapsed_s: float
    history: list[dict] = field(default_factory=list)
    learning_rate: float | None = None


def _monitor(trainer) -> tuple[str | None, str]:
    """The metric that defines "best": the checkpoint's, early stopping's, else a loss."""
    for cb in trainer.callbacks.callbacks:
        if isinstance(cb, (ModelCheckpoint, EarlyStopping)) and cb.monitor:
            return cb.monitor, cb.mode
    for name in ("val_loss", "train_loss_epoch"):
        if any(name in entry for entry in trainer.state.history):
            return name, "min"
    return None, "min"


def _best(history: list[dict], monitor: str | None, mode: str) -> dict:
    scored = [entry for entry in history if monitor in entry]
    if not scored:
        return {}
    pick = min if mode == "min" else max
    return pick(scored, key=lambda entry: entry[monitor])


def build_result(trainer, elapsed_s: float) -> FitResult:
    """The :class:`FitResult` for the run the trainer just finished."""
    monitor, mode, state = *_monitor(trainer), trainer.state
    best = dict(_best(state.history, monitor, mode))
    best_epoch = best.pop("epoch", None)
    saver = trainer.saver()
    # no folder at all when a resume had nothing left to do
    folder = saver.directory(trainer) if saver else None
    done = state.epoch + (1 if state.epoch_finished else 0)
    return FitResult(
        epochs=done,
        global_step=state.global_step,
        last_metrics=dict(state.callback_metrics),
        best_metrics=best,
        best_epoch=best_epoch,
        monitor=monitor,
        log_dir=str(trainer.run_dir) if trainer.logger is not None else None,
        checkpoint_dir=str(folder) if folder else None,
        last_checkpoint=(saver.last_model_path or None) if saver else None,
        best_checkpoint=(saver.best_model_path or None) if saver and saver.monitor else None,
        interrupted=state.interrupted,
        stop_reason=state.stop_reason,
        elapsed_s=elapsed_s,
        history=list(state.history),
        learning_rate=trainer.base_lr,
    )
