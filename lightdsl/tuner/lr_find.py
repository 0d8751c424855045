"""The learning-rate range test, step for step as PyTorch Lightning's ``Tuner.lr_find``.

One optimizer step per candidate learning rate, from ``min_lr`` to ``max_lr`` over
``num_training`` steps (exponential or linear spacing, with Lightning's schedule: the first
step uses ``min_lr``, step ``k >= 1`` uses ``r = (k + 1) / num_training``); the loss after each
step is smoothed by an exponential moving average (beta 0.98) with Lightning's bias correction
(``1 - beta ** (global_step + 1)``, global_step counted after the step); the search stops early
when the smoothed loss exceeds ``early_stop_threshold`` times the best so far. The suggestion is
the learning rate where the smoothed loss falls fastest *with respect to the learning rate*
(``torch.gradient(losses, spacing=[lrs])``, float32, as Lightning 2.6), skipping the first 10
and the last point. ``suggestion = "valley"`` or ``"minimum/10"`` choose fastai's rules instead
(:func:`lightdsl.runtime.lr_find.suggest`), and :meth:`LRFinderResult.flat_at_suggestion` tells
when a suggestion sits where the loss has not started to fall. The module's weights, buffers and every random generator are restored
afterwards; the training data order is the one a real run with the same trainer settings uses.

Unlike Lightning (whose search also stops at the trainer's ``max_epochs``, its issue #16561),
the search runs ``num_training`` optimizer steps whatever ``max_epochs`` says, going through the
training data as many epochs as it takes; where Lightning is not cut short the two agree point
for point. The result says why the search ended (:attr:`LRFinderResult.stop_reason`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from torch.optim.lr_scheduler import LRScheduler

from ..errors import ConfigError
from ..runtime.lr_find import SUGGESTIONS, divergence_check, range_lr, smoothed_loss, suggest
from ..trainer.callbacks import Callback
from ..trainer.checkpoint import capture_rng, restore_rng
from ..trainer.optim import parse_optimizers

# Trainer settings the search replaces: no logs, no checkpoints, no validation, no bars, and no
# epoch limit (max_steps = num_training ends it).
# The search is short and runs in this process alone: under DDP every rank runs the same seeded
# search, and the fit then copies rank 0's optimizer (and so its learning rate) to every rank.
_SEARCH_SETTINGS = {"logger": None, "enable_checkpointing": False, "enable_progress_bar": False,
                    "enable_model_summary": False, "limit_val_batches": 0,
                    "num_sanity_val_steps": 0, "fast_dev_run": False, "devices": 1,
                    "strategy": "auto", "num_nodes": 1, "max_epochs": -1}

# Why a search ended: every step run, the loss diverged (early_stop_threshold), the training
# data gave no more batches, or Ctrl-C.
STOP_REASONS = ("finished", "diverged", "out_of_data", "interrupted")

SKIP_BEGIN, SKIP_END = 10, 1  # points the suggestion leaves out (Lightning's defaults)
# A suggestion whose loss has fallen below its start by less than this part of the curve's whole
# fall sits on the flat part (the smoothed loss wobbles there by about that much).
FLAT_FALL = 0.02


@dataclass
class LRFinderResult:
    """What a search recorded: ``lrs[i]`` was used for step i, ``losses[i]`` is the smoothed
    loss after it (NaN where a step gave no loss). ``steps`` counts the optimizer steps run
    (under gradient accumulation a step that closes an epoch's incomplete window is run but not
    recorded, as in Lightning); ``stop_reason`` is one of :data:`STOP_REASONS`; ``divergence``
    is (smoothed loss, best loss, threshold) where the search stopped as diverged; ``rule`` is
    the suggestion rule (one of :data:`~lightdsl.runtime.lr_find.SUGGESTIONS`)."""

    lrs: list[float]
    losses: list[float]
    mode: str = "exponential"
    min_lr: float = 1e-8
    max_lr: float = 1.0
    num_training: int = 100
    stop_reason: str = "finished"
    steps: int | None = None
    divergence: tuple[float, float, float] | None = None
    rule: str = "steepest"
    optimal_index: int | None = field(default=None, init=False)

    @property
    def results(self) -> dict[str, list[float]]:
        """Lightning's ``lr_finder.results``: ``{"lr": [...], "loss": [...]}``."""
        return {"lr": self.lrs, "loss": self.losses}

    @property
    def stopped_early(self) -> bool:
        """Whether the search ended before ``num_training`` steps (for any reason)."""
        return self.stop_reason != "finished"

    def describe_stop(self) -> str:
        """Why the search ended, as a verb phrase ("ran all 100 steps", "stopped early after
        ..."): the steps run and, if fewer than ``num_training``, what stopped it."""
        done = len(self.lrs) if self.steps is None else self.steps
        if self.stop_reason == "finished":
            unrecorded = done - len(self.lrs)
            return f"ran all {done} steps" + (
                f" ({unrecorded} not recorded: they closed an epoch's incomplete "
                "accumulate_grad_batches window, as in Lightning)" if unrecorded > 0 else "")
        ran = f"{done} of {self.num_training} steps"
        if self.stop_reason == "diverged" and self.divergence is not None:
            loss, best, threshold = self.divergence
            return (f"stopped early after {ran}: the loss diverged (smoothed loss {loss:.4g} > "
                    f"early_stop_threshold {threshold:g} x best loss {best:.4g})")
        if self.stop_reason == "interrupted":
            return f"was interrupted (Ctrl-C) after {ran}"
        return f"stopped after {ran}: the training data gave no more batches"

    def why_no_suggestion(self, skip_begin: int = SKIP_BEGIN, skip_end: int = SKIP_END) -> str:
        """Why :meth:`suggestion` is None (empty when there is one)."""
        if self.suggestion(skip_begin, skip_end) is not None:
            return ""
        if self.rule != "steepest":
            return (f"too few points for the {self.rule} rule ({len(self.losses)} recorded; it "
                    f"leaves out the first {self.num_training // 10}, the last 5 and any after "
                    "a NaN loss)")
        needed = skip_begin + skip_end + 2
        if len(self.losses) < needed:
            return (f"too few points ({len(self.losses)} recorded, at least "
                    f"{needed} needed: the first {skip_begin} and the last {skip_end} are "
                    "left out)")
        return ("too few finite loss values (fewer than 2 among the points "
                f"after the first {skip_begin} and before the last {skip_end})")

    def suggestion(self, skip_begin: int = SKIP_BEGIN, skip_end: int = SKIP_END,
                   rule: str | None = None) -> float | None:
        """The lr ``rule`` (default: the result's) suggests, or None without enough points.

        "steepest" (Lightning's): the steepest negative slope d(loss)/d(lr) of the smoothed
        loss, with fewer than 2 finite points left after skipping ``skip_begin`` and
        ``skip_end`` giving None. "valley", "minimum/10": fastai's rules on fastai's window.
        ``optimal_index`` is set to the recorded point the suggestion sits at."""
        found = self._found(rule, skip_begin, skip_end)
        self.optimal_index = None if found is None else found[1]
        return None if found is None else found[0]

    def _found(self, rule, skip_begin=SKIP_BEGIN, skip_end=SKIP_END):
        return suggest(rule or self.rule, self.lrs, self.losses, self.num_training,
                       skip_begin, skip_end)

    def flat_at_suggestion(self, rule: str | None = None) -> tuple[float, float] | None:
        """``(loss there, start)`` when the suggestion sits where the smoothed loss has not yet
        fallen below its start, else None. The start is the highest smoothed loss from the
        first point the rule reads up to the suggestion (the smoothed loss can still rise
        there while its average fills up); falling by under :data:`FLAT_FALL` of the curve's
        whole fall below the start counts as not falling."""
        found = self._found(rule)
        if found is None:
            return None
        _, index, begin = found
        here = self.losses[index]
        before = [x for x in self.losses[begin:index + 1] if math.isfinite(x)]
        after = [x for x in self.losses[begin:] if math.isfinite(x)]
        if not before or not math.isfinite(here):
            return None
        start = max(before)
        whole = start - min(after)
        return (here, start) if start - here <= FLAT_FALL * whole else None

    def plot(self, path: str, suggest: bool = True, formats: tuple[str, ...] = ("png",)):
        """Draw the curve (log x for exponential spacing); returns the written paths."""
        from ..plots import plot_lr_curve

        return plot_lr_curve(self, path, suggest=suggest, formats=formats)


class _RangeScheduler(LRScheduler):
    """Lightning's ``_ExponentialLR`` / ``_LinearLR``: the same floats in the same order."""

    def __init__(self, optimizer, end_lr: float, num_iter: int, mode: str) -> None:
        self.end_lr, self.num_iter, self.mode = end_lr, num_iter, mode
        self.history: list[float] = []
        super().__init__(optimizer, -1)

    def get_lr(self) -> list[float]:
        values = [range_lr(self.last_epoch, base, self.end_lr, self.num_iter, self.mode)
                  for base in self.base_lrs]
        self.history.append(values[0])
        return values


class _Recorder(Callback):
    """Lightning's ``_LRCallback``: records (lr, smoothed loss) after every optimizer step."""

    def __init__(self, scheduler_box: list, early_stop_threshold, beta: float = 0.98) -> None:
        self.scheduler_box = scheduler_box
        self.threshold, self.beta = early_stop_threshold, beta
        self.lrs: list[float] = []
        self.losses: list[float] = []
        self.avg_loss = self.best_loss = 0.0
        self.divergence: tuple[float, float, float] | None = None

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if trainer.state.pending_batches:  # inside an accumulation window: no step yet
            return
        step = trainer.global_step
        self.lrs.append(self.scheduler_box[0].history[step - 1])
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:
            self.losses.append(float("nan"))
            return
        current = loss.item()  # already divided by accumulate_grad_batches, as in Lightning
        self.avg_loss, smoothed = smoothed_loss(self.avg_loss, current, step, self.beta)
        best = self.best_loss
        diverged, self.best_loss = divergence_check(smoothed, best, step, self.threshold)
        if diverged:
            trainer.should_stop = True
            self.divergence = (smoothed, best, self.threshold)
        self.losses.append(smoothed)

    def on_train_epoch_end(self, trainer, module) -> None:
        # with no epoch limit, an epoch that gave no batch (an empty iterable) would repeat forever
        if trainer.state.batches_done == 0:
            trainer.should_stop = True

    def stop_reason(self, trainer, interrupted: bool, num_training: int) -> str:
        """Why the fit ended. All steps run is "finished" even if the last one diverged or
        was interrupted: nothing was cut short (Lightning's "stopped early" test too)."""
        if trainer.global_step >= num_training:
            return "finished"
        if interrupted:
            return "interrupted"
        return "diverged" if self.divergence is not None else "out_of_data"


def lr_find(module, trainer_kwargs: dict | None = None, *, min_lr: float = 1e-8,
            max_lr: float = 1.0, num_training: int = 100, mode: str = "exponential",
            early_stop_threshold: float | None = 4.0,
            suggestion: str = "steepest") -> LRFinderResult:
    """Run the range test on ``module`` (a LightningModule-style object) with lightdsl's trainer.

    ``trainer_kwargs`` are the run's Trainer arguments (device, precision, clipping,
    accumulation, data limits, seed); logging, checkpoints, validation and callbacks (but the
    run's ``unfreeze``) are switched off for the search, and ``max_epochs`` and ``max_steps`` are replaced: the search runs
    ``num_training`` optimizer steps, through as many epochs of the training data as that takes.
    The module is left exactly as it was. After a Ctrl-C the result holds the points so far,
    with ``stop_reason == "interrupted"``. ``suggestion`` is the rule the result suggests with:
    "steepest" (Lightning's), "valley" or "minimum/10" (fastai's).
    """
    _check_arguments(min_lr, max_lr, num_training, mode, early_stop_threshold)
    if suggestion not in SUGGESTIONS:
        raise ConfigError(f"lr_find suggestion={suggestion!r} must be one of "
                          + ", ".join(map(repr, SUGGESTIONS)))
    from ..trainer import Trainer

    kwargs = {**(trainer_kwargs or {}), **_SEARCH_SETTINGS, "max_steps": num_training}
    box: list = []
    recorder = _Recorder(box, early_stop_threshold)
    # a part the run unfreezes trains in the search from the same epoch as in the run (as in
    # a generated Lightning script, whose module hook unfreezes it in Lightning's search too)
    kwargs["callbacks"] = [*_unfreezes(trainer_kwargs), recorder]
    saved_state, saved_rng = copy.deepcopy(module.state_dict()), capture_rng()
    saved_freezing = _freezing(module)
    original = module.configure_optimizers

    def configure_optimizers():
        setup = parse_optimizers(original())  # the spec's scheduler is left out, as in Lightning
        for group in setup.optimizer.param_groups:
            group["lr"] = group["initial_lr"] = min_lr
        box[:] = [_RangeScheduler(setup.optimizer, max_lr, num_training, mode)]
        return {"optimizer": setup.optimizer,
                "lr_scheduler": {"scheduler": box[0], "interval": "step"}}

    module.configure_optimizers = configure_optimizers
    trainer = Trainer(**kwargs)
    try:
        interrupted = trainer.fit(module).interrupted
    finally:
        del module.configure_optimizers
        module.load_state_dict(saved_state)
        _restore_freezing(module, saved_freezing)
        restore_rng(saved_rng)
    return LRFinderResult(recorder.lrs, recorder.losses, mode, min_lr, max_lr, num_training,
                          stop_reason=recorder.stop_reason(trainer, interrupted, num_training),
                          steps=trainer.global_step, divergence=recorder.divergence,
                          rule=suggestion)


def _unfreezes(trainer_kwargs: dict | None) -> list:
    """The run's ``unfreeze`` callbacks (the search leaves out every other callback)."""
    from ..trainer.finetuning import Unfreeze

    callbacks = (trainer_kwargs or {}).get("callbacks") or []
    return [c for c in callbacks if isinstance(c, Unfreeze)]


def _freezing(module) -> tuple[list[bool], dict[str, dict]]:
    """Which parameters train, and each part's record of its frozen parts: what an unfreeze
    during the search changes, and the search puts back."""
    parts = {name: dict(inner.frozen_parts) for name, inner in module.named_modules()
             if isinstance(getattr(inner, "frozen_parts", None), dict)}
    return [p.requires_grad for p in module.parameters()], parts


def _restore_freezing(module, saved: tuple[list[bool], dict[str, dict]]) -> None:
    flags, parts = saved
    for param, flag in zip(module.parameters(), flags):
        param.requires_grad_(flag)
    for name, frozen in parts.items():
        inner = module.get_submodule(name)
        inner.frozen_parts.clear()
        inner.frozen_parts.update(frozen)
    module.train(module.training)


def _check_arguments(min_lr, max_lr, num_training, mode, threshold) -> None:
    if mode not in ("exponential", "linear"):
        raise ConfigError(f"lr_find mode={mode!r} must be 'exponential' or 'linear'")
    if not (isinstance(min_lr, (int, float)) and min_lr > 0 and math.isfinite(min_lr)):
        raise ConfigError(f"lr_find min_lr={min_lr!r} must be a positive number")
    if not (isinstance(max_lr, (int, float)) and max_lr > min_lr):
        raise ConfigError(f"lr_find max_lr={max_lr!r} must be larger than min_lr={min_lr!r}")
    if isinstance(num_training, bool) or not isinstance(num_training, int) or num_training < 2:
        raise ConfigError(f"lr_find num_training={num_training!r} must be an integer >= 2")
    if threshold is not None and not (isinstance(threshold, (int, float)) and threshold > 0):
        raise ConfigError(f"lr_find early_stop_threshold={threshold!r} must be > 0 or None")
