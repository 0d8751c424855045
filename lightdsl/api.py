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

from .checker.train import Run
from .errors import LightdslError, UsageError
from .frontend.analysis import Analysis, analyze
from .frontend.diagnostics import render_text
from .frontend.source import SourceFile
from .overrides import apply_overrides, parse_override
from .run_settings import SPEC_TRAINER_SETTINGS
from .run_settings import max_epochs as run_max_epochs


class SpecError(LightdslError):
    """A spec with errors; the message is the rendered diagnostics."""

    def __init__(self, analysis: Analysis):
        rendered = "\n".join(render_text(d, analysis.source) for d in analysis.errors)
        count = len(analysis.errors)
        super().__init__(f"{analysis.source.path} has {count} error{'s' if count != 1 else ''}"
                         f":\n{rendered}")
        self.analysis = analysis


class Experiment:
    """One run of a checked spec: builds the module and data on first use, then trains."""

    def __init__(self, analysis: Analysis, run: Run):
        self.analysis, self.run = analysis, run
        self.spec_dir = os.path.dirname(os.path.abspath(analysis.source.path))
        self._data = None
        self._module = None

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
        kwargs.update(_logger_kwargs(self.run))
        kwargs["callbacks"] = [_instantiate(b) for b in self.run.callbacks]
        if values.get("device_stats") is True:  # a callback, as Lightning's DeviceStatsMonitor
            from .trainer.device_stats import DeviceStatsMonitor

            kwargs["callbacks"].append(DeviceStatsMonitor())
        kwargs.setdefault("run_name", _run_folder(self))
        kwargs.update(overrides)
        return kwargs

    def log_folder(self) -> str:
        """This run's log folder, ``<default_root_dir or lightning_logs>/<run folder>``: its
        ``version_N`` children hold the checkpoints ``last`` and ``best`` choose from."""
        return os.path.join(*log_location(self.run, self.analysis.source.path))

    def checkpoint_path(self, which: str, option: str = "--ckpt", announce: bool = True) -> str:
        """The checkpoint file ``which`` names: a path, ``last`` (the newest version of this
        run's log folder with a checkpoint: its last.ckpt) or ``best`` (the best checkpoint that
        version's ModelCheckpoint recorded). ``option`` names the flag in messages; with
        ``announce``, the file, its epoch, step and monitored value, and how it was chosen,
        are printed to stderr (see :mod:`lightdsl.deploy.checkpoints`)."""
        from .deploy.checkpoints import choose, describe

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
        from .checker.models import NO_TRAINABLE_HINT, is_trainable, no_trainable_message
        from .frontend.diagnostics import Reporter

        info = self.run.model
        if info is None or is_trainable(info):
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


def _logger_kwargs(run: Run) -> dict[str, Any]:
    if "logger" in run.settings.nodes and run.logger is None:
        return {"logger": None}
    if run.logger is None:
        return {}
    kwargs: dict[str, Any] = {"logger": run.logger.name}
    if "save_dir" in run.logger.nodes or "default_root_dir" not in run.settings.nodes:
        kwargs["default_root_dir"] = run.logger.values["save_dir"]
    if run.logger.values.get("name"):
        kwargs["run_name"] = run.logger.values["name"]
    return kwargs


def _run_folder(experiment: Experiment) -> str:
    return run_folder_name(experiment.analysis.source.path, experiment.name)


def run_folder_name(spec_path: str, run_name: str) -> str:
    """A run's log folder name: the spec file's stem, ``-<run>`` added for a named run."""
    stem = os.path.splitext(os.path.basename(spec_path))[0]
    return stem if run_name == "default" else f"{stem}-{run_name}"


def log_location(run: Run, spec_path: str) -> tuple[str, str]:
    """``(root, name)`` of the run's log folder ``<root>/<name>``, whose ``version_N``
    children each run fills: ``default_root_dir`` or the logger's ``save_dir`` (else
    lightning_logs) and the logger's ``name`` (else :func:`run_folder_name`). Torch-free:
    ``lightdsl codegen`` writes the same folder into its scripts."""
    settings = run.settings
    kwargs = {"default_root_dir": settings.values["default_root_dir"]} \
        if "default_root_dir" in settings.nodes else {}
    kwargs.update(_logger_kwargs(run))
    root = kwargs.get("default_root_dir") or "lightning_logs"
    return str(root), kwargs.get("run_name") or run_folder_name(spec_path, run.name)


def _instantiate(bound):
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
        parsed = [parse_override(*item) if isinstance(item, tuple) else parse_override(item)
                  for item in overrides]
        analysis = _reanalyze(analysis, name, parsed)
    return Experiment(analysis, analysis.program.runs[name])


def _reanalyze(analysis: Analysis, run: str, parsed) -> Analysis:
    from .checker import check
    from .frontend.diagnostics import Reporter

    reporter = Reporter(analysis.source)
    program = check(apply_overrides(analysis.program.spec, run, parsed), reporter)
    result = Analysis(analysis.source, reporter.sorted(), program)
    if not result.ok:
        raise SpecError(result)
    return result


def choose_run(analysis: Analysis, run: str | None) -> str:
    """The run to use: the one asked for, the only one, or the unnamed one."""
    from .frontend.diagnostics import did_you_mean

    runs = analysis.program.runs
    if not runs:
        raise UsageError(f"{analysis.source.path} has no train block")
    if run is not None:
        if run not in runs:
            raise UsageError(f"{analysis.source.path} has no run {run!r}"
                             + did_you_mean(run, runs) + f" (runs: {', '.join(runs)})")
        return run
    if len(runs) == 1:
        return next(iter(runs))
    if "default" in runs:
        return "default"
    raise UsageError(f"{analysis.source.path} has several runs; choose one with --run "
                     f"({', '.join(runs)})")
