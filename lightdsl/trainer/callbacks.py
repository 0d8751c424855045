"""A small, Keras-like callback list, early stopping and checkpointing.

Hooks (all optional; each receives the trainer and the module):

- ``on_fit_start``, ``on_train_epoch_start``, ``on_train_epoch_end``, ``on_fit_end``
- ``on_train_batch_end(trainer, module, outputs, batch, batch_idx)``: ``outputs`` is the dict
  of detached values ``training_step`` returned, with ``outputs["loss"]`` the loss that was
  backpropagated: under ``accumulate_grad_batches = N`` that is the batch's loss divided by N,
  as in Lightning (the progress bar and the logged ``train_loss_step`` show it undivided)
- ``on_validation_end`` (not called for the sanity check)
- ``on_log_metrics(trainer, metrics, step)`` / ``on_log_matrices(trainer, matrices, step)``:
  what the run logs (the logger is the built-in callback that writes them)
- ``on_exception(trainer, module, exception)`` (Ctrl-C included) and
  ``teardown(trainer, module, stage)``: the fit is over, however it ended
- ``state_dict()`` / ``load_state_dict(state)`` to survive a resume.

The progress bar, the hints and the logger are callbacks on the same list (as Keras's and
Lightning's are): built-ins with an ``order`` below 0 run first, checkpointing ones last.

Callbacks read ``trainer.callback_metrics`` (latest value of every logged metric, as floats),
``trainer.current_epoch``, ``trainer.global_step`` and set ``trainer.should_stop``; the rest of
the loop's state is ``trainer.state`` (a :class:`~lightdsl.trainer.loop.LoopState`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lightdsl.errors import ConfigError
from lightdsl.runtime.callbacks import is_better, patience_check
from lightdsl.suggest import did_you_mean

from .config import check_choice, check_int

MODES = ("min", "max")


class Callback:
    """Base class: every hook does nothing; override the ones you need."""

    #: whether ``on_train_batch_end`` reads the metrics' values in ``outputs``: when no callback
    #: does, a step does not compute them (they are computed where they are logged)
    reads_outputs = True

    def on_fit_start(self, trainer, module) -> None: ...
    def on_train_epoch_start(self, trainer, module) -> None: ...
    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        """After each training batch; ``outputs["loss"]`` is divided by accumulate_grad_batches
        (the loss that was backpropagated, as in Lightning)."""

    def on_validation_end(self, trainer, module) -> None: ...
    def on_train_epoch_end(self, trainer, module) -> None: ...
    def on_fit_end(self, trainer, module) -> None: ...

    def state_dict(self) -> dict:
        """What this callback must remember across a resume (plain values only)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""

    @property
    def state_key(self) -> str:
        """The name this callback's state is stored under in a checkpoint."""
        return type(self).__name__


class BuiltinCallback(Callback):
    """A part of the trainer that listens on the callback list (the logger, the progress bar,
    the hints): called in ``order`` (below 0: before the user's callbacks), no checkpoint
    state."""

    order = -1
    stateful = False
    reads_outputs = False  # the bar shows the loss, the hints read the trainer's state


def _order(callback: Any) -> int:
    return getattr(callback, "order", 1 if isinstance(callback, ModelCheckpoint) else 0)


class CallbackList:
    """Calls a hook on every callback in order: built-ins first, the user's, checkpointing ones
    last (so that the state they save includes what the other callbacks, e.g. early stopping,
    decided at the same moment)."""

    def __init__(self, callbacks: list) -> None:
        self.callbacks = sorted(callbacks, key=_order)
        self._hooks: dict[str, list] = {}  # hook -> the methods that do something
        self._reads: dict[str, bool] = {}  # hook -> whether one of them reads the outputs

    def call(self, hook: str, *args) -> None:
        """Run ``hook(*args)`` on each callback that defines it."""
        for method in self.methods(hook):
            method(*args)

    def methods(self, hook: str) -> list:
        """The callbacks' ``hook`` methods that do something (the loop takes the per-batch
        ones once an epoch and calls them itself: most runs have none)."""
        methods = self._hooks.get(hook)
        if methods is None:
            methods = self._hooks[hook] = self._methods(hook)
        return methods

    def _methods(self, hook: str) -> list:
        """The callbacks' ``hook`` methods, less :class:`Callback`'s empty defaults (one
        look-up per hook and run, not one per call: a step is short)."""
        empty = getattr(Callback, hook, None)
        return [getattr(cb, hook) for cb in self.callbacks
                if callable(getattr(cb, hook, None))
                and getattr(getattr(cb, hook), "__func__", None) is not empty]

    def reads_outputs(self, hook: str) -> bool:
        """Whether a callback that reads the batch's outputs does something at ``hook``
        (Callback's own hooks do nothing; built-ins read only the loss)."""
        reads = self._reads.get(hook)
        if reads is None:
            reads = self._reads[hook] = self._any_reads_outputs(hook)
        return reads

    def _any_reads_outputs(self, hook: str) -> bool:
        base = getattr(Callback, hook, None)
        return any(getattr(cb, "reads_outputs", True) and callable(getattr(cb, hook, None))
                   and getattr(type(cb), hook, None) is not base for cb in self.callbacks)

    def _keys(self) -> list[str]:
        keys, seen = [], {}
        for cb in self.callbacks:
            key = getattr(cb, "state_key", type(cb).__name__)
            seen[key] = seen.get(key, -1) + 1
            keys.append(key if not seen[key] else f"{key}#{seen[key]}")
        return keys

    def state_dict(self) -> dict:
        """Every callback's state, keyed by its ``state_key``."""
        states = {}
        for key, cb in zip(self._keys(), self.callbacks):
            if callable(getattr(cb, "state_dict", None)) and getattr(cb, "stateful", True):
                states[key] = cb.state_dict()
        return states

    def load_state_dict(self, states: dict) -> None:
        """Give each callback its saved state back (callbacks new since the save start fresh)."""
        for key, cb in zip(self._keys(), self.callbacks):
            if key in states and callable(getattr(cb, "load_state_dict", None)):
                cb.load_state_dict(states[key])


def monitored_value(trainer, monitor: str, owner: str) -> float | None:
    """The latest value of ``monitor``, or None while it cannot exist yet (a ``val_`` metric
    before the first validation). A name that never appears is a ConfigError listing the
    names that do."""
    metrics = trainer.callback_metrics
    if monitor in metrics:
        return metrics[monitor]
    if monitor.startswith("val_") and not trainer.state.has_validated:
        return None
    names = sorted(metrics)
    raise ConfigError(
        f"{owner} monitors {monitor!r}, but no metric of that name was logged; "
        f"logged metrics are: {', '.join(names) or 'none'}",
        hint=did_you_mean(monitor, names, lead="") or None,
    )


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` checks.

    It checks after each validation, or at each epoch end when there is no validation data (so a
    training metric such as ``train_loss_epoch`` can be monitored).
    """

    def __init__(self, monitor="val_loss", patience=3, mode="min", min_delta=0.0) -> None:
        self.monitor = monitor
        self.patience = check_int("early_stopping patience", patience, 1)
        self.mode = check_choice("early_stopping mode", mode, MODES)
        if not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise ConfigError(f"early_stopping min_delta={min_delta!r} must be a number >= 0")
        self.min_delta = float(min_delta)
        self.wait_count, self.best_score, self.stopped_epoch = 0, None, -1

    @property
    def state_key(self) -> str:
        return f"EarlyStopping[{self.monitor}]"

    def on_validation_end(self, trainer, module) -> None:
        self._check(trainer)

    def on_train_epoch_end(self, trainer, module) -> None:
        if not trainer.has_val_data:
            self._check(trainer)

    def _check(self, trainer) -> None:
        value = monitored_value(trainer, self.monitor, "early_stopping")
        if value is None:
            return
        self.best_score, self.wait_count, stop = patience_check(
            value, self.best_score, self.wait_count, self.patience, self.mode, self.min_delta
        )
        if stop:
            trainer.should_stop = True
            self.stopped_epoch = trainer.current_epoch
            trainer.state.stop_reason = (
                f"early stopping: {self.monitor} did not improve for {self.wait_count} "
                f"checks (best {self.best_score:.6g})"
            )

    def state_dict(self) -> dict:
        return {
            "wait_count": self.wait_count,
            "best_score": self.best_score,
            "stopped_epoch": self.stopped_epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        self.wait_count = state["wait_count"]
        self.best_score = state["best_score"]
        self.stopped_epoch = state["stopped_epoch"]


class ModelCheckpoint(Callback):
    """Save ``last.ckpt`` and the best ``save_top_k`` checkpoints by ``monitor``.

    Best files are named ``epoch=E-step=S.ckpt``; without a monitor the most recent ones are
    kept. Files are written atomically (see :func:`lightdsl.trainer.checkpoint.atomic_save`).
    Saving happens at each epoch end, and after a validation in the middle of an epoch.
    ``dirpath`` defaults to ``<run dir>/checkpoints``.

    Pruning to the best ``save_top_k`` only ever deletes files this callback wrote during the
    current ``fit``: after a resume, the best checkpoints of the earlier run still compete (a
    new file must beat them), but their files are never removed. A top-k name that is already
    taken by a file from before this run gets a ``-v1``, ``-v2``, ... suffix, as in Lightning.
    """

    def __init__(self, monitor=None, mode="min", save_top_k=1, save_last=True, dirpath=None):
        self.monitor = monitor
        self.mode = check_choice("checkpoint mode", mode, MODES)
        self.save_top_k = check_int("checkpoint save_top_k", save_top_k, 0, extra=(-1,))
        self.save_last = bool(save_last)
        self.dirpath = None if dirpath is None else str(dirpath)
        self.best_k_models: dict[str, float] = {}
        self.best_model_path = ""
        self.best_model_score: float | None = None
        self.last_model_path = ""
        self._last_saved_at = float("-inf")
        self._last_saved_step: tuple[int, int] | None = None
        self._written: set[str] = set()  # files written by this fit: the only ones pruned

    LAST_INTERVAL_S = 1.0

    @property
    def state_key(self) -> str:
        return f"ModelCheckpoint[{self.monitor}]"

    def directory(self, trainer) -> Path:
        """Where this callback writes its files."""
        return Path(self.dirpath) if self.dirpath else trainer.checkpoint_dir

    def on_fit_start(self, trainer, module) -> None:
        self._written = set()

    def on_validation_end(self, trainer, module) -> None:
        if not trainer.state.epoch_finished:  # the epoch-end save follows in on_train_epoch_end
            self.save(trainer)

    def on_train_epoch_end(self, trainer, module) -> None:
        self.save(trainer, at_epoch_end=True)

    def on_fit_end(self, trainer, module) -> None:
        # epochs shorter than LAST_INTERVAL_S skip some last.ckpt writes: the end writes it
        if self.save_last and self._last_saved_step != (trainer.current_epoch,
                                                        trainer.global_step):
            self._save_last(trainer)

    def save(self, trainer, at_epoch_end: bool = False) -> None:
        """Save the top-k candidate (if it qualifies) and ``last.ckpt``.

        At epoch ends ``last.ckpt`` is rewritten at most every ``LAST_INTERVAL_S`` seconds, so
        that runs of many tiny epochs do not spend their time writing checkpoints; the end of
        ``fit`` and a Ctrl-C always write it.
        """
        self._save_top_k(trainer)
        due = time.monotonic() - self._last_saved_at >= self.LAST_INTERVAL_S
        if self.save_last and (due or not at_epoch_end):
            self._save_last(trainer)

    def _save_last(self, trainer) -> None:
        path = self.directory(trainer) / "last.ckpt"
        self.last_model_path = str(path)
        trainer.save_checkpoint(path)
        self._last_saved_at = time.monotonic()
        self._last_saved_step = (trainer.current_epoch, trainer.global_step)

    def _score(self, trainer) -> float | None:
        if self.monitor is None:
            return float(trainer.global_step)  # newest is "best": keeps the latest k
        return monitored_value(trainer, self.monitor, "checkpoint")

    def _save_top_k(self, trainer) -> None:
        score = self._score(trainer) if self.save_top_k else None
        if score is None:
            return
        mode = "max" if self.monitor is None else self.mode
        name = f"epoch={trainer.current_epoch}-step={trainer.global_step}"
        path = self._unused_path(self.directory(trainer), name)
        if path in self._written:
            return  # this position is already saved (e.g. mid-epoch validation, then epoch end)
        worst = self._worst()
        full = 0 <= self.save_top_k <= len(self.best_k_models)
        if full and not is_better(score, self.best_k_models[worst], mode):
            return
        self.best_k_models[path] = score
        if full:
            del self.best_k_models[worst]
        self._update_best(mode)
        # The state saved inside the file already lists the file itself and drops the evicted one.
        trainer.save_checkpoint(path)
        self._written.add(path)
        if full and worst in self._written:  # never a file of an earlier run
            Path(worst).unlink(missing_ok=True)
            self._written.discard(worst)

    def _unused_path(self, directory: Path, name: str) -> str:
        """``directory/name.ckpt``, or ``name-vN.ckpt`` if a file from before this run has
        that name (overwriting it would lose it)."""
        path, version = directory / f"{name}.ckpt", 0
        while path.exists() and str(path) not in self._written:
            version += 1
            path = directory / f"{name}-v{version}.ckpt"
        return str(path)

    def _worst(self) -> str | None:
        if not self.best_k_models:
            return None
        mode = "max" if self.monitor is None else self.mode
        pick = min if mode == "max" else max
        return pick(self.best_k_models, key=self.best_k_models.get)

    def _update_best(self, mode: str) -> None:
        pick = max if mode == "max" else min
        self.best_model_path = pick(self.best_k_models, key=self.best_k_models.get)
        self.best_model_score = self.best_k_models[self.best_model_path]

    def state_dict(self) -> dict:
        return {
            "best_k_models": dict(self.best_k_models),
            "best_model_path": self.best_model_path,
            "best_model_score": self.best_model_score,
            "last_model_path": self.last_model_path,
        }

    def load_state_dict(self, state: dict) -> None:
        self.best_k_models = dict(state["best_k_models"])
        self.best_model_path = state["best_model_path"]
        self.best_model_score = state["best_model_score"]
        self.last_model_path = state["last_model_path"]
