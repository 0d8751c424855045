"""The :class:`Trainer`: Lightning's arguments, attributes and methods, over lightdsl's loop.

``fit`` prepares the run once (:func:`~lightdsl.trainer.run.prepare_fit`: device, precision,
data, optimizer, callbacks, logger, run folder, the checkpoint to resume from) into a
:class:`~lightdsl.trainer.run.FitRun`, ``trainer.run``, then hands over to
:func:`lightdsl.trainer.loop.fit_loop`. The loop's state (position, counters, metrics, stop
requests) is one :class:`~lightdsl.trainer.state.LoopState`, ``trainer.state``. Lightning's
attributes (``current_epoch``, ``global_step``, ``should_stop``, ``callback_metrics``, ...) are
properties over the state; those of the run (``device``, ``precision``, ``train_loader``,
``logger``, ...) are properties over the run. What the methods do around the loop (the
summary printed first, the sanity check, the abort report, the result) is
:mod:`lightdsl.trainer.fitting`: this module holds Lightning's names only.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from lightdsl.errors import ConfigError
from lightdsl.interrupts import raise_if_pressed
from lightdsl.run_settings import SETTING, TRAINER_SETTINGS
from lightdsl.suggest import did_you_mean

from .checkpoint import load_checkpoint
from .compiling import compile_for_fit, unwrap_compiled
from .config import TrainerConfig
from .data import prepare_loader
from .devices import deterministic_mode
from .distributed import Ranks, plan
from .evaluation import evaluate
from .fitting import (
    announce,
    describe_settings,
    evaluate_once,
    finish,
    guarded,
    predict_batches,
    sanity_check,
)
from .hints import Hints
from .loop import fit_loop
from .records import checkpoint_state, save_checkpoint
from .result import FitResult
from .run import FitRun, prepare_fit, run_config, start_run
from .setup import _call, stepping_batches
from .state import LoopState


class Trainer:
    """Trains any LightningModule-style ``torch.nn.Module``; see the package docs for the hooks.

    The arguments are Lightning's (``max_epochs``, ``precision``, ``callbacks``, ...), plus
    ``seed`` (seeds Python, NumPy and torch at the start of each run) and ``run_name`` (the log
    directory is ``<default_root_dir or lightning_logs>/<run_name>/version_N``; the run name
    defaults to the module's class name). Every value is checked here, with a clear
    :class:`~lightdsl.errors.ConfigError`.

    ``devices > 1`` (or ``strategy="ddp"`` with several devices, or ``num_nodes > 1``) trains
    with DistributedDataParallel; see :mod:`lightdsl.trainer.distributed` for how the ranks are
    started and how the data is sharded. Only rank 0 prints, logs and writes checkpoints.
    """

    def __init__(self, **settings) -> None:
        # the arguments are lightdsl.run_settings.TRAINER_SETTINGS (see __signature__ below)
        if settings.get("callbacks", ()) is None:
            del settings["callbacks"]
        unknown = [name for name in settings if name not in SETTING or not SETTING[name].trainer]
        if unknown:
            hint = did_you_mean(unknown[0], [s.name for s in TRAINER_SETTINGS])
            raise TypeError(f"Trainer() got an unexpected keyword argument {unknown[0]!r}{hint}")
        self.config = TrainerConfig(**settings)
        self.hints = Hints()
        self.result: FitResult | None = None
        self.state = LoopState()
        self.run = FitRun(trainer=self, config=run_config(self.config))
        """What the current (or last) run is made of; see :class:`~lightdsl.trainer.run.FitRun`."""

    # ----------------------------------------------------------------- Lightning's attributes

    @property
    def current_epoch(self) -> int:
        """The current epoch, 0-based (``state.epoch``)."""
        return self.state.epoch

    @property
    def global_step(self) -> int:
        """Optimizer steps taken so far, resumes included."""
        return self.state.global_step

    @property
    def should_stop(self) -> bool:
        """Set it to True (from a callback) to stop at the next optimizer-step boundary."""
        return self.state.should_stop

    @should_stop.setter
    def should_stop(self, value: bool) -> None:
        self.state.should_stop = bool(value)

    @property
    def callback_metrics(self) -> dict[str, float]:
        """The latest value of every logged metric, as floats."""
        return self.state.callback_metrics

    @property
    def sanity_checking(self) -> bool:
        """True while the sanity-check validation batches run."""
        return self.state.sanity_checking

    @property
    def interrupted(self) -> bool:
        """Whether the fit was stopped by Ctrl-C."""
        return self.state.interrupted

    @property
    def run_config(self) -> TrainerConfig:
        """The settings for this run: ``fast_dev_run`` turns limits down and output off."""
        return self.run.config

    @property
    def estimated_stepping_batches(self) -> float:
        """How many optimizer steps this run makes (as Lightning's property of that name): with
        ``limit_train_batches``, ``accumulate_grad_batches``, ``max_epochs`` and ``max_steps``
        applied; ``inf`` when nothing bounds it. Known once the run's data is set up."""
        cfg = self.run.config
        return stepping_batches(self.num_train_batches, cfg.accumulate_grad_batches,
                                cfg.max_epochs, cfg.max_steps)

    # ----------------------------------------------------------------- public API

    def fit(self, module: torch.nn.Module, ckpt_path: str | Path | None = None, *,
            resume_command: str | None = None) -> FitResult:
        """Train ``module``; with ``ckpt_path``, continue exactly where that checkpoint stopped.

        Returns a :class:`FitResult` (also kept as ``trainer.result``) and prints its summary
        (unless both the progress bar and the model summary are off). Ctrl-C stops after the
        current optimizer step and saves ``last.ckpt``; the result then has ``interrupted=True``.
        ``resume_command`` is how the interrupt message says to continue (the CLI's
        ``lightdsl train ... --resume last``); by default ``fit(module, ckpt_path=...)``.
        """
        ckpt = load_checkpoint(ckpt_path) if ckpt_path is not None else None
        module, wrapper = unwrap_compiled(module)  # torch.compile(module): train the module
        ranks = plan(run_config(self.config))  # with devices > 1, may start the other ranks
        run = self.run = start_run(self, module, ckpt, ranks)
        run.resume_command = resume_command
        # compile = true: checked and set up before any folder is written; undone after fit
        run.compiled = compile_for_fit(run.module, run.config.compile, wrapper, run.device)
        started = time.perf_counter()
        with deterministic_mode(run.config.deterministic), run.dist.running(), guarded(run):
            state = prepare_fit(run, ckpt)
            if not run.nothing_left:
                announce(self, ckpt_path, ckpt)
                run.callbacks.call("on_fit_start", self, run.module)
                raise_if_pressed()  # a Ctrl-C that set-up code swallowed: stop before training
                sanity_check(self)
                fit_loop(run, state)
                run.callbacks.call("on_fit_end", self, run.module)
        return finish(self, ckpt_path, time.perf_counter() - started)

    def validate(self, module: torch.nn.Module) -> dict[str, float]:
        """Run the validation loop once; returns ``{"val_loss": ..., "val_<metric>": ...}``."""
        return evaluate_once(self, module, "val_dataloader", "validation_step", "val")

    def test(self, module: torch.nn.Module) -> dict[str, float]:
        """Run ``test_step`` over ``test_dataloader()``; returns ``{"test_<metric>": ...}``."""
        return evaluate_once(self, module, "test_dataloader", "test_step", "test")

    def evaluate(self, module: torch.nn.Module, loader, prefix: str = "val") -> dict[str, float]:
        """``validation_step`` over any ``loader``; returns ``{"<prefix>_<metric>": ...}``."""
        run = self.run = start_run(self, module, None, Ranks())
        if not callable(getattr(module, "validation_step", None)):
            raise ConfigError("evaluate() needs module.validation_step()")
        loader = prepare_loader(loader, run.device, run.precision.input_dtype, run.data_seed)
        return evaluate(run, loader, "validation_step", run.config.fast_dev_run or None, prefix)

    def predict(self, module: torch.nn.Module, loader=None) -> list[torch.Tensor]:
        """``predict_step`` (or ``module(inputs)``) on each batch; outputs moved to the CPU."""
        run = self.run = start_run(self, module, None, Ranks())
        loader = loader if loader is not None else _call(module, "predict_dataloader")
        if loader is None:
            raise ConfigError("predict() needs a loader (or module.predict_dataloader())")
        return predict_batches(run, module, loader)

    def save_checkpoint(self, path: str | Path) -> Path:
        """Write a checkpoint of the run's current state to ``path`` atomically (under DDP every
        rank calls this, as the state includes metrics reduced over ranks; rank 0 writes)."""
        return save_checkpoint(self.run, self.state, path)

    def checkpoint_state(self) -> dict:
        """Everything a resume needs, in types ``torch.load(weights_only=True)`` accepts."""
        return checkpoint_state(self.run, self.state)

    def to_device(self, batch, loader):
        """``batch`` on the training device (in-memory loaders already live there)."""
        return self.run.to_device(batch, loader)

    def saver(self):
        """The first checkpoint callback of this run, if checkpointing is on."""
        return self.run.saver()

    def kept_ckpt(self) -> str | None:
        """The newest checkpoint file on disk (what a NaN stop leaves to resume from)."""
        return self.run.kept_ckpt()


def _run_property(name: str, doc: str) -> property:
    return property(lambda self: getattr(self.run, name), doc=doc)


def _loaders_property(name: str, doc: str) -> property:
    def get(self):
        loaders = self.run.loaders
        return getattr(loaders, name) if loaders is not None else None

    return property(get, doc=doc)


# The run's parts, as Trainer attributes (what callbacks and users read).
for _name, _doc in {
    "module": "The module being trained (moved to the device).",
    "device": "The torch device this rank trains on.",
    "precision": "The resolved precision (dtypes, autocast).",
    "dist": "The process group (one process: a no-op).",
    "data_seed": "The seed of the data order.",
    "opt": "The optimizer and its schedulers.",
    "training_step": "``module.training_step`` (under DDP, through DistributedDataParallel).",
    "scaler": "The gradient scaler (16-mixed on CUDA), else None.",
    "callbacks": "The callback list: the logger, the progress bar, the hints and the user's.",
    "logger": "The first logger object, or None.",
    "loggers": "Every logger object of the run, in order (Lightning's ``trainer.loggers``).",
    "progress": "The progress display.",
    "run_dir": "The run's ``version_N`` folder (None when nothing is written).",
    "checkpoint_dir": "``run_dir/checkpoints``.",
    "configured_lrs": "The learning rates configure_optimizers() set.",
    "base_lr": "The first parameter group's base learning rate the run trains with.",
    "nothing_left": "A resumed run already at max_epochs / max_steps.",
    "resume_command": "How the interrupt message says to continue (a fit argument).",
    "compiled": "How torch.compile compiled the forward for this fit (None: not compiled).",
}.items():
    setattr(Trainer, _name, _run_property(_name, _doc))
for _name in ("train_loader", "num_train_batches", "val_loader", "num_val_batches",
              "has_val_data"):
    setattr(Trainer, _name, _loaders_property(_name, f"The run's ``{_name}``."))


describe_settings(Trainer)
