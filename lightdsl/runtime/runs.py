"""A script's run: its folder, the weights file it saves and the summary it prints at the end.

A generated torch script writes into ``<root>/<run>/version_N`` as lightdsl's trainer does (or
into the folder its ``--out`` names), saves the trained weights as a file ``lightdsl evaluate
spec.lit --ckpt FILE`` loads (lightdsl's checkpoint format: the format tag, the ``state_dict``,
the loop position and the metrics; ``torch.load(FILE)["state_dict"]`` reads it without
lightdsl) and ends with the lines ``lightdsl train`` ends with: how far it got, the last and best
metrics, where its files are, and for a small model every parameter's value.
``metrics_text`` and ``parameter_lines`` are what ``lightdsl train`` prints them with. Under
``fast_dev_run`` a script's run is a :class:`FastDevRun`, which writes nothing.
"""

import os
import time
from pathlib import Path

import torch

from .versions import claim_version_dir  # noqa: F401 (the scripts' run folder)


def save_weights(model, path, epoch, step, metrics):
    """Save ``model``'s weights at ``path`` in lightdsl's checkpoint format (what its
    ``--ckpt`` loads: ``format`` is ``lightdsl.trainer.checkpoint.FORMAT``), written to a
    temporary file first so that ``path`` never holds half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": "lightdsl-checkpoint/1",
        "state_dict": model.state_dict(),
        "loop": {"epoch": epoch, "global_step": step, "epoch_finished": True},
        "callback_metrics": {k: float(v) for k, v in metrics.items()},
    }
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def metrics_text(metrics):
    """``name=value, ...`` with 6 significant digits, or ``none``."""
    return ", ".join(f"{k}={v:.6g}" for k, v in metrics.items()) or "none"


def parameter_lines(model, limit=20):
    """``  name = v1, v2 (frozen)`` for each parameter of a model of at most ``limit``
    numbers; nothing for a bigger one."""
    params = dict(model.named_parameters())
    if sum(p.numel() for p in params.values()) > limit:
        return []
    lines = []
    for name, param in params.items():
        values = param.detach().cpu().flatten().tolist()
        state = "" if param.requires_grad else " (frozen)"
        lines.append(f"  {name} = {', '.join(f'{v:.4f}' for v in values)}{state}")
    return lines


class RunFolder:
    """Where a script's run writes, the metrics of its epochs, and its end: ``finish`` saves
    the weights as ``weights.ckpt`` and prints the summary. The best epoch is the one where
    ``monitor`` (None: val_loss, else train_loss_epoch, as lightdsl picks) was best."""

    def __init__(self, directory, monitor=None, mode="min"):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.checkpoints = self.directory / "checkpoints"
        self.monitor, self.mode = monitor, mode
        self.history, self.started = [], time.perf_counter()

    def end_epoch(self, epoch, metrics):
        self.history.append({"epoch": epoch, **metrics})

    def best(self):
        """(monitor, the epoch's metrics) where the monitored metric was best, or (None, {})."""
        candidates = (
            [self.monitor] if self.monitor else ["val_loss", "train_loss_epoch"]
        )
        for monitor in candidates:
            scored = [entry for entry in self.history if monitor in entry]
            if scored:
                pick = min if self.mode == "min" else max
                return monitor, pick(scored, key=lambda entry: entry[monitor])
        return None, {}

    def save(self, model, epoch, step, metrics):
        """Save the trained weights; the summary's lines that say where they are."""
        weights = self.directory / "weights.ckpt"
        save_weights(model, weights, epoch, step, metrics)
        return [
            f"  run folder: {self.directory}",
            f"  weights: {weights} (lightdsl's --ckpt loads them)",
        ]

    def finish(self, model, optimizer, step, how=None):
        """Save the trained weights and print what ``lightdsl train`` prints at its end;
        ``how``: why training ended (early stopping's reason), None where it just finished."""
        last = dict(self.history[-1]) if self.history else {"epoch": 0}
        epoch = last.pop("epoch")
        written = self.save(model, epoch, step, last)
        seconds = time.perf_counter() - self.started
        epochs = len(self.history)
        print(
            f"Training {how or 'finished'}: {epochs} epoch{'' if epochs == 1 else 's'}, "
            f"{step} step{'' if step == 1 else 's'} in {seconds:.1f} s"
        )
        print(f"  last metrics: {metrics_text(last)}")
        monitor, best = self.best()
        if best:
            best = dict(best)
            print(
                f"  best ({monitor}, epoch {best.pop('epoch')}): {metrics_text(best)}"
            )
        for line in written:
            print(line)
        group = optimizer.param_groups[0]
        print(f"  learning rate: {group.get('initial_lr', group['lr'])}")
        for line in parameter_lines(model):
            print(line)


class FastDevRun(RunFolder):
    """A fast_dev_run's run, which writes nothing, as ``lightdsl train --fast-dev-run``: no
    folder, no weights; the summary says so where it would say where they are."""

    def __init__(self, monitor=None, mode="min"):
        self.directory = self.checkpoints = None
        self.monitor, self.mode = monitor, mode
        self.history, self.started = [], time.perf_counter()

    def save(self, model, epoch, step, metrics):
        return ["  fast_dev_run: nothing written"]
