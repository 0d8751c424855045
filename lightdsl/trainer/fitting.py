"""What :class:`~lightdsl.trainer.trainer.Trainer`'s methods do around the loop, so that
``trainer.py`` holds only Lightning's names: the model summary and resume lines printed before
training (:func:`announce`), the sanity check, the guard that reports an abort or a lost rank
(:func:`guarded`), the result and its summary (:func:`finish`), one-off evaluation
(:func:`evaluate_once`, :func:`predict_batches`) and ``Trainer``'s signature, read from the
settings table (:func:`describe_settings`).
"""

from __future__ import annotations

import contextlib
import inspect
import sys

import torch

from lightdsl.display import plural
from lightdsl.errors import ConfigError
from lightdsl.run_settings import TRAINER_SETTINGS

from .checkpoint import SaveInterrupted
from .compiling import compile_failure, release_compiled
from .data import move_batch, prepare_loader
from .distributed import Ranks
from .evaluation import evaluate
from .result import FitResult, build_result
from .run import FitRun, base_lrs, start_run
from .setup import _call, example_input
from .summary import model_summary, run_summary


def announce(trainer, ckpt_path, ckpt: dict | None) -> None:
    """Print the model summary and what this run starts from (rank 0 only)."""
    run = trainer.run
    if not run.dist.is_main:
        return
    if run.config.enable_model_summary:
        compiled = run.compiled.how if run.compiled else None
        print(model_summary(run.module, example_input(run), compiled=compiled), flush=True)
    if ckpt is not None:
        epoch, skip = trainer.state.next_position()
        print(
            f"Resuming from {ckpt_path}: epoch {epoch}, batch {skip}, "
            f"step {trainer.state.global_step}",
            flush=True,
        )
        _announce_lr(run)


def _announce_lr(run: FitRun) -> None:
    """Say so when the checkpoint's learning rate differs from the one configured now."""
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


def _lrs(values: list[float]) -> str:
    return f"{values[0]:g}" if len(set(values)) == 1 else ", ".join(f"{v:g}" for v in values)


def sanity_check(trainer) -> None:
    """Run a few validation batches first, so a bug there shows before hours of training."""
    run, n = trainer.run, trainer.run.config.num_sanity_val_steps
    loaders = run.loaders
    if not loaders.has_val_data or n == 0:
        return
    limit = loaders.num_val_batches if n == -1 else min(n, loaders.num_val_batches or n)
    trainer.state.sanity_checking = True
    try:
        evaluate(run, loaders.val_loader, "validation_step", limit, "val")
    finally:
        trainer.state.sanity_checking = False


@contextlib.contextmanager
def guarded(run: FitRun):
    """Around a fit: a second Ctrl-C says what is on disk, a rank lost under DDP becomes its
    clear error, and the callbacks' ``teardown`` and torch.compile's undoing always run."""
    trainer = run.trainer
    try:
        yield
    except KeyboardInterrupt as abort:  # a second Ctrl-C: must not wait for the step
        run.callbacks.call("on_exception", trainer, run.module, abort)  # the bar closes
        if run.dist.is_main:
            print(abort_message(abort, run.kept_ckpt()), file=sys.stderr, flush=True)
        raise
    except RuntimeError as error:  # a rank died or vanished (DDP), or a compiler failed
        failure = run.dist.failure(error) or compile_failure(error, run.compiled)
        if failure is None:
            raise
        raise failure from None
    finally:
        run.callbacks.call("teardown", trainer, run.module, "fit")
        release_compiled(run.module, run.compiled)


def abort_message(abort: KeyboardInterrupt, kept: str | None) -> str:
    """What a second Ctrl-C left on disk (an interrupted save leaves the old file intact)."""
    if isinstance(abort, SaveInterrupted):
        left = (f"{abort.path} is the previous complete checkpoint" if abort.path.is_file()
                else f"{abort.path} was not written")
        return f"Aborted while saving a checkpoint: {left}; nothing else was saved."
    if kept is None:  # e.g. a Ctrl-C during set-up, before the first checkpoint
        return "Aborted: no checkpoint was saved."
    return f"Aborted: nothing saved since the last checkpoint ({kept})."


def finish(trainer, ckpt_path, elapsed_s: float) -> FitResult:
    """The result (also ``trainer.result``), and the run summary (or why nothing was trained)
    printed."""
    run = trainer.run
    trainer.result = build_result(trainer, elapsed_s)
    shown = trainer.config.enable_progress_bar or trainer.config.enable_model_summary
    if run.nothing_left and run.dist.is_main:
        print(nothing_left_message(trainer, ckpt_path), file=sys.stderr, flush=True)
    elif shown and run.dist.is_main:
        print(run_summary(trainer.result), flush=True)
    return trainer.result


def nothing_left_message(trainer, ckpt_path) -> str:
    """What a resume with nothing to train says instead of the run summary."""
    cfg, state = trainer.run.config, trainer.state
    epoch, _ = state.next_position()
    limit = "max_epochs" if cfg.max_epochs != -1 and epoch >= cfg.max_epochs else "max_steps"
    done = f"{plural(epoch, 'epoch')}, {plural(state.global_step, 'step')}"
    return (f"nothing left to do: {ckpt_path} already completed "
            f"{limit}={getattr(cfg, limit)} ({done}); nothing was trained or written. "
            f"Raise {limit} to train further.")


def evaluate_once(trainer, module, loader_hook: str, step_hook: str, prefix: str) -> dict:
    """``step_hook`` over ``module.<loader_hook>()`` once (``validate``, ``test``); the
    metrics printed when the progress bar is on."""
    run = trainer.run = start_run(trainer, module, None, Ranks())
    loader = _call(module, loader_hook)
    if loader is None or not callable(getattr(module, step_hook, None)):
        raise ConfigError(f"{prefix} needs module.{loader_hook}() and module.{step_hook}()")
    loader = prepare_loader(loader, run.device, run.precision.input_dtype, run.data_seed)
    metrics = evaluate(run, loader, step_hook, run.config.fast_dev_run or None, prefix)
    if run.config.enable_progress_bar:
        print("  ".join(f"{k} {v:.6g}" for k, v in metrics.items()), flush=True)
    return metrics


def predict_batches(run: FitRun, module, loader) -> list[torch.Tensor]:
    """``predict_step`` (or ``module(inputs)``) on each batch, in eval mode, without
    gradients; outputs moved to the CPU."""
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


def describe_settings(cls) -> None:
    """Give ``cls.__init__`` the settings table's signature (``Trainer(*, max_epochs=None,
    ...)``, for help() and editors) and list the arguments in the class docstring."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(s.name, inspect.Parameter.KEYWORD_ONLY, default=s.default)
               for s in TRAINER_SETTINGS]
    cls.__init__.__signature__ = inspect.Signature(params)
    cls.__doc__ += "\n    Arguments:\n\n" + "\n".join(
        f"    - ``{s.name}`` (default ``{s.default!r}``): {s.doc}" for s in TRAINER_SETTINGS) + "\n"
