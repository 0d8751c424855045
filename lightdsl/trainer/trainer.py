"""The :class:`Trainer`: Lightning's arguments, attributes and methods, over lightdsl's loop.

``fit`` prepares the run once (:func:`~lightdsl.trainer.run.prepare_fit`: device, precision,
data, optimizer, callbacks, logger, run folder, the checkpoint to resume from) into a
:class:`~lightdsl.trainer.run.FitRun`, ``trainer.run``, then hands over to
:func:`lightdsl.trainer.loop.fit_loop`. The loop's state (position, counters, metrics, stop
requests) is one :class:`~lightdsl.trainer.state.LoopState`, ``trainer.state``. Lightning's
attributes (``current_epoch``, ``global_step``, ``should_stop``, ``callback_metrics``, ...) are
properties over the state; those of the run (``device``, ``precision``, ``train_loader``,
``logger``, ...) are properties over the run.
"""

from __future__ import annotations

import inspect
import sys
import time
from pathlib import Path

import torch

from lightdsl.errors import ConfigError
from lightdsl.run_settings import SETTING, TRAINER_SETTINGS
from lightdsl.suggest import did_you_mean

from .checkpoint import SaveInterrupted, load_checkpoint
from .compiling import compile_for_fit, release_compiled, unwrap_compiled
from .config import TrainerConfig
from .data import move_batch, prepare_loader
from .devices import deterministic_mode
from .distributed import Ranks, plan
from .evaluation import evaluate
from .hints import Hints
from .loop import fit_loop
from .records import checkpoint_state, save_checkpoint
from .result import FitResult, build_result
from .run import FitRun, base_lrs, prepare_fit, run_config, start_run
from .setup import _call, example_input, stepping_batches
from .state import LoopState
from .summary import model_summary, plural, run_summary


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
        with deterministic_mode(run.config.deterministic), run.dist.running():
            try:
                state = prepare_fit(run, ckpt)
                if not run.nothing_left:
                    self._announce(ckpt_path, ckpt)
                    run.callbacks.call("on_fit_start", self, run.module)
                    self._sanity_check()
                    fit_loop(run, state)
                    run.callbacks.call("on_fit_end", self, run.module)
            except KeyboardInterrupt as abort:  # a second Ctrl-C: must not wait for the step
                run.callbacks.call("on_exception", self, run.module, abort)  # the bar closes
                if run.dist.is_main:
                    print(_abort_message(abort, run.kept_ckpt()), file=sys.stderr, flush=True)
                raise
            except RuntimeError as error:  # under DDP: another rank died or vanished
                failure = run.dist.failure(error)
                if failure is None:
                    raise
                raise failure from None
            finally:
                run.callbacks.call("teardown", self, run.module, "fit")
                release_compiled(run.module, run.compiled)
        return self._finish(ckpt_path, time.perf_counter() - started)

    def validate(self, module: torch.nn.Module) -> dict[str, float]:
        """Run the validation loop once; returns ``{"val_loss": ..., "val_<metric>": ...}``."""
        return self._evaluate_once(module, "val_dataloader", "validation_step", "val")

    def test(self, module: torch.nn.Module) -> dict[str, float]:
        """Run ``test_step`` over ``test_dataloader()``; returns ``{"test_<metric>": ...}``."""
        return self._evaluate_once(module, "test_dataloader", "test_step", "test")

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
        loader = prepare_loader(loader, run.device, run.precision.input_dtype, run.data_seed)
        step = getattr(module, "predict_step", None) or (lambda batch, _: module(batch[0]))
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad(), run.precision.autocast():
                return [
                    move_batch(step(run.to_device(batch, loader), i), torch.device("cpu"))
                    for i, batch in enumerate(loader)
                ]
        finally:
            module.train(was_training)

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

    # ----------------------------------------------------------------- around the loop

    def _finish(self, ckpt_path, elapsed_s: float) -> FitResult:
        """The result, and the run summary (or why nothing was trained) printed."""
        run = self.run
        self.result = build_result(self, elapsed_s)
        shown = self.config.enable_progress_bar or self.config.enable_model_summary
        if run.nothing_left and run.dist.is_main:
            print(self._nothing_left_message(ckpt_path), file=sys.stderr, flush=True)
        elif shown and run.dist.is_main:
            print(run_summary(self.result), flush=True)
        return self.result

    def _nothing_left_message(self, ckpt_path) -> str:
        """What a resume with nothing to train says instead of the run summary."""
        cfg, state = self.run.config, self.state
        epoch, _ = state.next_position()
        limit = "max_epochs" if cfg.max_epochs != -1 and epoch >= cfg.max_epochs else "max_steps"
        done = f"{plural(epoch, 'epoch')}, {plural(state.global_step, 'step')}"
        return (f"nothing left to do: {ckpt_path} already completed "
                f"{limit}={getattr(cfg, limit)} ({done}); nothing was trained or written. "
                f"Raise {limit} to train further.")

    def _announce(self, ckpt_path, ckpt: dict | None) -> None:
        """Print the model summary and what this run starts from."""
        run = self.run
        if not run.dist.is_main:
            return
        if run.config.enable_model_summary:
            compiled = run.compiled.how if run.compiled else None
            print(model_summary(run.module, example_input(run), compiled=compiled), flush=True)
        if ckpt is not None:
            epoch, skip = self.state.next_position()
            print(
                f"Resuming from {ckpt_path}: epoch {epoch}, batch {skip}, step {self.global_step}",
                flush=True,
            )
            self._announce_lr()

    def _announce_lr(self) -> None:
        """Say so when the checkpoint's learning rate differs from the one configured now."""
        run = self.run
        resumed = base_lrs(run.opt.optimizer)
        if resumed == run.configured_lrs:
            return
        source = "the spec says" if getattr(run.module, "spec_source", None) \
            else "configure_optimizers() sets"
        print(
            f"Resuming with lr {_lrs(resumed)} from the checkpoint; {source} "
            f"{_lrs(run.configured_lrs)} (a resume continues the checkpoint's optimizer; "
            "train without resuming to use the new lr)",
            flush=True,
        )

    def _sanity_check(self) -> None:
        """Run a few validation batches first, so a bug there shows before hours of training."""
        run, n = self.run, self.run.config.num_sanity_val_steps
        loaders = run.loaders
        if not loaders.has_val_data or n == 0:
            return
        limit = loaders.num_val_batches if n == -1 else min(n, loaders.num_val_batches or n)
        self.state.sanity_checking = True
        try:
            evaluate(run, loaders.val_loader, "validation_step", limit, "val")
        finally:
            self.state.sanity_checking = False

    def _evaluate_once(self, module, loader_hook: str, step_hook: str, prefix: str) -> dict:
        run = self.run = start_run(self, module, None, Ranks())
        loader = _call(module, loader_hook)
        if loader is None or not callable(getattr(module, step_hook, None)):
            raise ConfigError(f"{prefix} needs module.{loader_hook}() and module.{step_hook}()")
        loader = prepare_loader(loader, run.device, run.precision.input_dtype, run.data_seed)
        metrics = evaluate(run, loader, step_hook, run.config.fast_dev_run or None, prefix)
        if run.config.enable_progress_bar:
            print("  ".join(f"{k} {v:.6g}" for k, v in metrics.items()), flush=True)
        return metrics


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


def _lrs(values: list[float]) -> str:
    return f"{values[0]:g}" if len(set(values)) == 1 else ", ".join(f"{v:g}" for v in values)


def _abort_message(abort: KeyboardInterrupt, kept: str | None) -> str:
    """What a second Ctrl-C left on disk (an interrupted save leaves the old file intact)."""
    if isinstance(abort, SaveInterrupted):
        left = (f"{abort.path} is the previous complete checkpoint" if abort.path.is_file()
                else f"{abort.path} was not written")
        return f"Aborted while saving a checkpoint: {left}; nothing else was saved."
    return f"Aborted: nothing saved since the last checkpoint ({kept or 'none'})."


def _signature() -> inspect.Signature:
    """``Trainer(*, max_epochs=None, ...)``: the table's settings, for help() and editors."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(s.name, inspect.Parameter.KEYWORD_ONLY, default=s.default)
               for s in TRAINER_SETTINGS]
    return inspect.Signature(params)


Trainer.__init__.__signature__ = _signature()
Trainer.__doc__ += "\n    Arguments:\n\n" + "\n".join(
    f"    - ``{s.name}`` (default ``{s.default!r}``): {s.doc}" for s in TRAINER_SETTINGS) + "\n"
