"""The Python API: ``lightdsl.load("spec.lit")`` -> an :class:`Experiment`.

    exp = lightdsl.load("specs/statquest.lit")
    exp.module          # the compiled LightningModule-style torch module
    exp.data            # the loaded datasets
    result = exp.fit()  # train it with the spec's trainer settings
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from .analysis import (
    Analysis,
    SpecError,
    analyze,
    choose_run,
    log_location,
    logger_kwargs,
    reanalyze,
    run_folder_name,
)
from .checker.train import Run
from .errors import UsageError
from .frontend.source import SourceFile
from .overrides import parse_overrides
from .run_settings import SPEC_TRAINER_SETTINGS
from .run_settings import max_epochs as run_max_epochs

# defined by the analysis driver; ``lightdsl.api`` has always offered them
__all__ = ["Experiment", "SpecError", "choose_run", "load", "load_source", "log_location",
           "run_folder_name"]


class Experiment:
    """One run of a checked spec: builds the module and data on first use, then trains."""

    def __init__(self, analysis: Analysis, run: Run):
        self.analysis, self.run = analysis, run
        self.spec_dir = os.path.dirname(os.path.abspath(analysis.source.path))
        self._data = None
        self._module = None
        # a run folder given from outside (a sweep trial's <sweep folder>/trial_N), else
        # the spec's own (log_location)
        self.run_folder: str | None = None

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def data(self):
        if self._data is None:
            from .compile.data import class_count, load_data

            self._data = load_data(self.run.data, self.spec_dir, class_count(self.run))
        return self._data

    @property
    def module(self):
        if self._module is None:
            from .compile.data import check_output_classes, class_count
            from .compile.module import SpecModule

            seed = self.run.settings.values.get("seed")
            if seed is not None:  # seeded before the weights are drawn, so runs repeat
                from .trainer import seed_everything

                seed_everything(seed)
            self._module = SpecModule(self.run, self.data, self.analysis.source.text)
            if class_count(self.run) is None:  # the checker could not tell the output width
                check_output_classes(self._module, self.data)
        return self._module

    def trainer_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """The Trainer arguments this run's settings give, with ``overrides`` on top."""
        values = self.run.settings.values
        # the table's settings a spec wrote go to the Trainer as they are; the builder
        # resolves the others (model, data, loss, ..., the callbacks and the logger)
        kwargs = {k: v for k, v in values.items()
                  if k in SPEC_TRAINER_SETTINGS and k in self.run.settings.nodes}
        if "max_epochs" in kwargs:
            kwargs["max_epochs"] = run_max_epochs(kwargs["max_epochs"])
        if self.run.compile is not None:  # compile(mode = ..., dynamic = ...)
            kwargs["compile"] = dict(self.run.compile.values)
        kwargs.update(logger_kwargs(self.run))
        kwargs["callbacks"] = [_instantiate(b) for b in self.run.callbacks]
        if values.get("device_stats") is True:  # a callback, as Lightning's DeviceStatsMonitor
            from .trainer.device_stats import DeviceStatsMonitor

            kwargs["callbacks"].append(DeviceStatsMonitor())
        if self.run.unfreeze:  # unfreeze(part, at_epoch, lr): as Lightning's BackboneFinetuning
            from .trainer.finetuning import Unfreeze

            kwargs["callbacks"].extend(Unfreeze(**b.values) for b in self.run.unfreeze)
        kwargs.setdefault("run_name", run_folder_name(self.analysis.source.path, self.name))
        kwargs.update(overrides)
        return kwargs

    def log_folder(self) -> str:
        """This run's log folder, ``<default_root_dir or lightning_logs>/<run folder>``: its
        ``version_N`` children hold the checkpoints ``last`` and ``best`` choose from."""
        if self.run_folder is not None:
            return self.run_folder
        return os.path.join(*log_location(self.run, self.analysis.source.path))

    def checkpoint_path(self, which: str, option: str = "--ckpt", announce: bool = True) -> str:
        """The checkpoint file ``which`` names: a path, ``last`` (the newest version of this
        run's log folder with a checkpoint: its last.ckpt) or ``best`` (the best checkpoint that
        version's ModelCheckpoint recorded). ``option`` names the flag in messages; with
        ``announce``, the file, its epoch, step and monitored value, and how it was chosen,
        are printed to stderr (see :mod:`lightdsl.checkpoints`)."""
        from .checkpoints import choose, describe

        chosen = choose(which, Path(self.log_folder()), option)
        if announce:
            print(f"{describe(chosen.path)}" + (f"\n  chosen as {chosen.how}" if chosen.how
                                                 else ""), file=sys.stderr, flush=True)
        return chosen.path

    def trainer(self, **overrides: Any):
        from .trainer import Trainer

        return Trainer(**self.trainer_kwargs(**overrides))

    def require_training(self, command: str = "train") -> None:
        """Refuse, as a located spec error (:class:`SpecError`), a run whose model has nothing
        to train: ``check`` only warns (a hand-weighted or pre-trained model can be
        evaluated, predicted with, exported and plotted), the commands that train call this."""
        from .checker.finetune import unfrozen_parts
        from .checker.models import NO_TRAINABLE_HINT, is_trainable, no_trainable_message
        from .frontend.diagnostics import Reporter

        info = self.run.model
        if info is None or is_trainable(info, unfrozen_parts(self.run.unfreeze)):
            return
        reporter = Reporter(self.analysis.source)
        reporter.error("no-trainable", info.node.name.span, no_trainable_message(info)
                       + f" (`lightdsl {command}` trains it)", hint=NO_TRAINABLE_HINT)
        raise SpecError(Analysis(self.analysis.source, reporter.sorted(),
                                 self.analysis.program))

    def fit(self, ckpt_path: str | None = None, resume_command: str | None = None,
            **overrides: Any):
        """Train with the spec's settings (``overrides`` replace Trainer arguments).

        A spec's ``lr_find(...)`` runs first (not when resuming: the checkpoint's optimizer
        state already holds the learning rate the run was using). A model with nothing to
        train is refused (:meth:`require_training`). ``resume_command`` is what the Ctrl-C
        message tells the user to run to continue (the CLI's ``lightdsl train ...
        --resume last``; by default, ``fit(module, ckpt_path=...)``).
        """
        self.require_training()
        trainer = self.trainer(**overrides)
        if not trainer.config.fast_dev_run:  # an unusable log folder: say so before training
            from .outputs import check_folder

            check_folder(trainer.config.default_root_dir or "lightning_logs", "default_root_dir")
        _tune_batch_size(self, ckpt_path, trainer.config.fast_dev_run)
        from .compile.metrics import check_r2_samples

        check_r2_samples(self.run, self.data)
        finder = None
        if self.run.lr_find is not None and ckpt_path is None \
                and not trainer.config.fast_dev_run:
            from .tuner import apply_lr_find

            finder = apply_lr_find(self)
        try:
            return trainer.fit(self.module, ckpt_path=ckpt_path, resume_command=resume_command)
        finally:
            if finder is not None and trainer.run_dir is not None:
                from .tuner import save_lr_find

                save_lr_find(finder, trainer.run_dir)


def _tune_batch_size(experiment: Experiment, ckpt_path, fast_dev_run) -> None:
    """``batch_size = auto``: the checkpoint's size when resuming, else the finder's."""
    if experiment.data.settings.get("batch_size") != "auto":
        return
    from .trainer import load_checkpoint
    from .tuner import apply_batch_size

    checkpoint = load_checkpoint(ckpt_path) if ckpt_path is not None else None
    apply_batch_size(experiment, checkpoint, fast_dev_run=bool(fast_dev_run))


def _instantiate(bound):
    from .checker.python import PythonBound

    if isinstance(bound, PythonBound):  # python("mypkg:MyCallback")
        from .compile.python import build_callback

        return build_callback(bound)
    from .compile.resolve import instantiate

    return instantiate(bound)


def load(path: str, run: str | None = None, overrides: list | None = None) -> Experiment:
    """Parse, check and prepare one run of a spec file; raises :class:`SpecError` on errors.

    ``overrides`` are ``"block.setting=value"`` strings (as ``--set`` takes them), or
    ``(text, how the user wrote it)`` pairs so that messages name the user's option.
    """
    try:
        source = SourceFile.read(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError, OSError) as error:
        raise UsageError(f"{path}: cannot read: {error}") from None
    return load_source(source, run, overrides)


def load_source(source: SourceFile, run: str | None = None,
                overrides: list | None = None) -> Experiment:
    analysis = analyze(source)
    if not analysis.ok:
        raise SpecError(analysis)
    name = choose_run(analysis, run)
    if overrides:
        analysis = reanalyze(analysis, name, parse_overrides(overrides))
    return Experiment(analysis, analysis.program.runs[name])
