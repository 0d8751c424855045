"""Early stopping and checkpointing: the decisions both lightdsl's trainer and scripts make.

``is_better`` and ``patience_check`` are the whole of what "improved" and "stop now" mean; the
trainer's callbacks (:mod:`lightdsl.trainer.callbacks`) and the script classes below call them.
The trainer's ModelCheckpoint stays its own class: it writes resumable ``.ckpt`` files (optimizer,
loop position, callback states) atomically and keeps the top k, while a script saves the weights
as ``last.pt``/``best.pt`` in its run folder, in the format ``lightdsl evaluate --ckpt`` loads
(:func:`lightdsl.runtime.runs.save_weights`; ``torch.load(path)["state_dict"]`` without lightdsl).
"""

import math
from pathlib import Path

from .runs import save_weights


def is_better(value, best, mode="min", min_delta=0.0):
    """Whether ``value`` improves on ``best`` by more than ``min_delta`` (NaN never does)."""
    if math.isnan(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def patience_check(value, best, wait, patience, mode="min", min_delta=0.0):
    """One early-stopping check: the new ``(best, wait)`` and whether to stop (no improvement
    for ``patience`` checks, or a value that is not finite)."""
    if is_better(value, best, mode, min_delta):
        return value, 0, False
    wait += 1
    return best, wait, wait >= patience or not math.isfinite(value)


class EarlyStopping:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``."""

    def __init__(self, monitor="val_loss", patience=3, mode="min", min_delta=0.0):
        self.monitor, self.patience, self.mode = monitor, patience, mode
        self.min_delta, self.best, self.wait = min_delta, None, 0
        self.reason = None  # why it stopped, worded as lightdsl's trainer words it

    def should_stop(self, metrics):
        value = metrics.get(self.monitor)
        if value is None:
            return False
        self.best, self.wait, stop = patience_check(
            value, self.best, self.wait, self.patience, self.mode, self.min_delta
        )
        if stop:
            best = "none" if self.best is None else f"{self.best:.6g}"
            self.reason = (
                f"early stopping: {self.monitor} did not improve for {self.wait} "
                f"checks (best {best})"
            )
        return stop


class ModelCheckpoint:
    """Save the weights as last.pt, and as best.pt when ``monitor`` improves."""

    def __init__(self, monitor=None, mode="min", save_top_k=1, save_last=True):
        self.monitor, self.mode, self.save_last = monitor, mode, save_last
        self.save_best, self.best = save_top_k != 0, None

    def save(self, directory, model, epoch, step, metrics):
        """Save into ``directory`` (the run folder's ``checkpoints``) after epoch ``epoch``."""
        directory = Path(directory)
        if self.save_last:
            save_weights(model, directory / "last.pt", epoch, step, metrics)
        value = metrics.get(self.monitor) if self.monitor else None
        if (
            value is None
            or not self.save_best
            or not is_better(value, self.best, self.mode)
        ):
            return
        self.best = value
        save_weights(model, directory / "best.pt", epoch, step, metrics)
