"""The finders applied to a spec's :class:`~lightdsl.api.Experiment`: what ``lightdsl train``,
``lightdsl lr-find`` and ``lightdsl tune-batch-size`` run, with their printed reports."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import LightdslError
from ..runtime.lr_find import SUGGESTIONS
from .batch_size import get_batch_size, scale_batch_size, set_batch_size
from .lr_find import LRFinderResult, lr_find


def _say(text: str) -> None:
    """Print on rank 0 only (under DDP every rank runs the same search)."""
    from ..trainer.distributed import is_rank_zero

    if is_rank_zero():
        print(text, flush=True)


def run_lr_find(experiment) -> LRFinderResult:
    """Run the spec's ``lr_find(...)`` (its defaults when the spec has none) on the module."""
    bound = experiment.run.lr_find
    values = dict(bound.values) if bound is not None else {}
    options = {k: values[k] for k in ("min_lr", "max_lr", "num_training", "mode",
                                      "early_stop_threshold", "suggestion") if k in values}
    shown = ", ".join(f"{k}={v}" for k, v in options.items())
    _say("lr_find: learning-rate range test" + (f" ({shown})" if shown else ""))
    return lr_find(experiment.module, experiment.trainer_kwargs(), **options)


def report_suggestion(result: LRFinderResult, spec_lr) -> float | None:
    """Print why the search ended and its suggestion (or why there is none); return it."""
    suggestion = result.suggestion()
    _say(f"lr_find: the search {result.describe_stop()}")
    if suggestion is None:
        _say(f"lr_find: could not suggest a learning rate: {result.why_no_suggestion()}"
             f"{_HINTS[result.stop_reason]}; keeping the spec's lr = {spec_lr}")
    else:
        rule = "" if result.rule == "steepest" else f" ({result.rule} rule)"
        _say(f"lr_find: suggested learning rate {suggestion:.6g}{rule}")
        _warn_if_flat(result, suggestion)
    return suggestion


def _warn_if_flat(result: LRFinderResult, suggestion: float) -> None:
    """Say so when the suggestion sits where the loss has not started to fall, and what the
    other rules suggest where they do not."""
    flat = result.flat_at_suggestion()
    if flat is None:
        return
    here, start = flat
    others = [f'suggestion = "{rule}" gives {lr:.3g}' for rule in SUGGESTIONS
              if rule != result.rule and (lr := result.suggestion(rule=rule)) is not None
              and result.flat_at_suggestion(rule) is None]
    result.suggestion()  # optimal_index: the run's own rule again (the curve marks it)
    _say(f"lr_find: warning: at lr {suggestion:.3g} the smoothed loss ({here:.4g}) has not yet "
         f"fallen below its start ({start:.4g}): the loss is still flat there, and training "
         "with this lr may change little"
         + (f"; in lr_find(...), {' and '.join(others)}" if others else
            "; look at the curve and set the optimizer's lr yourself"))


# what to change when a search ended without a suggestion, by why it ended
_HINTS = {"finished": "; raise num_training",
          "diverged": "; lower max_lr, or raise early_stop_threshold (none disables it)",
          "out_of_data": "; check the training data and limit_train_batches",
          "interrupted": ""}


def apply_lr_find(experiment) -> LRFinderResult:
    """Run the finder on ``experiment.module`` with the run's trainer settings, print the
    suggestion and make it the module's learning rate (or keep the spec's lr if there is none).

    The curve is drawn by :func:`save_lr_find` (``Experiment.fit`` calls it with the run's log
    directory once training has started). Returns the finder's result. A Ctrl-C during the
    search raises KeyboardInterrupt (the command exits 130) instead of training.
    """
    module = experiment.module
    result = run_lr_find(experiment)
    if result.stop_reason == "interrupted":  # Ctrl-C during the search: do not start training
        _say(f"lr_find: the search {result.describe_stop()}; training not started")
        raise KeyboardInterrupt
    suggestion = report_suggestion(result, module.learning_rate)
    if suggestion is not None:
        module.learning_rate = suggestion
    experiment.lr_finder = result
    return result


def save_lr_find(result: LRFinderResult, directory, name: str = "lr_find") -> list[str]:
    """Write the curve as ``<directory>/lr_find.png`` (and the points into the directory's
    TensorBoard events, if it has any) and print the path. Never raises: a missing matplotlib
    is reported as a note."""
    from ..trainer.distributed import is_rank_zero

    directory = Path(directory)
    written: list[str] = []
    if not is_rank_zero():
        return written
    try:
        written = result.plot(str(directory / name))
    except LightdslError as error:
        _say(f"lr_find: curve not drawn: {error}")
    for path in written:
        _say(f"lr_find: curve written to {path}")
    if any(directory.glob("events.out.tfevents.*")):
        from ..plots.tensorboard import add_lr_curve

        add_lr_curve(directory, result)
    return written


def apply_batch_size(experiment, checkpoint: dict | None = None, fast_dev_run=False) -> int:
    """Resolve ``batch_size = auto``: the resumed run's size, or the batch-size finder's."""
    module = experiment.module
    saved = (checkpoint or {}).get("hparams", {}).get("batch_size")
    if isinstance(saved, int):
        set_batch_size(module, saved)
        _say(f"batch_size = auto: {saved}, as in the checkpoint")
        return saved
    if fast_dev_run:
        set_batch_size(module, 2)
        _say("batch_size = auto: 2 for fast_dev_run (the batch-size finder is skipped)")
        return 2
    _say("batch_size = auto: searching (doubling until out of memory or the dataset size)")
    size = scale_batch_size(module, experiment.trainer_kwargs(), log=_say)
    _say(f"batch_size = auto: using {size}")
    sys.stdout.flush()
    return size


def needs_batch_size(experiment) -> bool:
    """Whether the run's data says ``batch_size = auto`` and no size is chosen yet."""
    return get_batch_size(experiment.module) == "auto"
