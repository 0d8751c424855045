"""Early stopping and checkpointing."""

import math
from pathlib import Path

import torch


class EarlyStopping:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``."""

    def __init__(self, monitor="val_loss", patience=3, mode="min", min_delta=0.0):
        self.monitor, self.patience, self.mode = monitor, patience, mode
        self.min_delta, self.best, self.wait = min_delta, None, 0

    def should_stop(self, metrics):
        value = metrics.get(self.monitor)
        if value is None:
            return False
        if math.isnan(value):
            better = False
        elif self.best is None:
            better = True
        elif self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best, self.wait = value, 0
            return False
        self.wait += 1
        return self.wait >= self.patience or not math.isfinite(value)


class ModelCheckpoint:
    """Save the weights as last.pt, and as best.pt when ``monitor`` improves."""

    def __init__(self, monitor=None, mode="min", save_top_k=1, save_last=True):
        self.monitor, self.mode, self.save_last = monitor, mode, save_last
        self.save_best, self.best = save_top_k != 0, None
        self.directory = Path("checkpoints")

    def save(self, model, metrics):
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.save_last:
            torch.save(model.state_dict(), self.directory / "last.pt")
        value = metrics.get(self.monitor) if self.monitor else None
        if value is None or not self.save_best:
            return
        if self.best is not None:
            improved = value < self.best if self.mode == "min" else value > self.best
            if not improved:
                return
        self.best = value
        torch.save(model.state_dict(), self.directory / "best.pt")
