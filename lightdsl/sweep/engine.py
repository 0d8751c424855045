"""Runs a checked sweep with Optuna: each trial a normal run of the spec with one point of the
space applied, its objective the best value of the sweep's ``monitor`` over the trial's
epochs.

A trial whose run fails is recorded as failed, with its error (user attribute ``error``), and
the sweep goes on; Ctrl-C marks the running trial ``interrupted`` (not counted) and stops,
keeping every finished one, so running the sweep again adds only the trials still missing.
Each trial knows its sweep: ``Experiment.sweep_trial`` holds the sweep, study and trial
number (for loggers that nest runs, e.g. MLflow), and ``trial_N/values.json`` its values.
"""

from __future__ import annotations

import math
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis import Analysis
from ..api import Experiment
from ..interrupts import CtrlC, raise_if_pressed
from ..space import Space
from .claims import claim_lock
from .pruning import PruningCallback
from .stale import fail_lost_trials, owner
from .study import (
    counted,
    open_study,
    optuna_module,
    shown_url,
    trial_folder,
    write_info,
    write_values,
)
from .tracking import SweepTracking, TrialParams
from .trials import default_folder, point_analysis

__all__ = ["Experiment", "Sweep", "SweepOptions", "objective_value", "point_analysis"]


@dataclass
class SweepOptions:
    trials: int | None = None
    jobs: int = 1
    storage: str | None = None
    folder: str | None = None
    verbose: bool = False
    worker: int = 0  # a worker process's index: its sampler's seed differs from the others'


def folder_of(analysis: Analysis, space: Space, given: str | None) -> Path:
    return Path(given) if given else default_folder(analysis, space)


class Sweep:
    """One sweep of one spec: the study, the objective, the trial folders."""

    def __init__(self, analysis: Analysis, space: Space, options: SweepOptions):
        self.analysis, self.space, self.options = analysis, space, options
        self.folder = folder_of(analysis, space, options.folder)
        self.text = analysis.source.text
        self.total = options.trials or space.trial_count(self.text)
        self.study_name = f"{Path(analysis.source.path).stem}-{space.name}"
        self.tracking = SweepTracking.of(self)  # None unless the run logs to MLflow
        self.claim = None  # the claim lock, while the trials run (see claims.py)

    # ---- the study ----
    def study(self):
        optuna = optuna_module()
        study = open_study(self.folder, self.options.storage, self.study_name, self.space.mode,
                           pruner=self._pruner(optuna))
        # a seeded sampler continues with a seed of its own, else a resumed sweep would draw
        # the points of its first trials again
        study.sampler = self._sampler(optuna, len(study.get_trials(deepcopy=False)))
        for number in fail_lost_trials(study):
            print(f"trial {number}: its worker ended before the trial did; marked failed, "
                  "not counted (another trial takes its place)", file=sys.stderr, flush=True)
        return study

    def _sampler(self, optuna, done: int):
        seed = None if self.space.seed is None else \
            self.space.seed + done + 100_003 * self.options.worker
        if self.space.sampler == "grid":
            grid = {d.key: d.grid(self.text) for d in self.space.searched}
            return optuna.samplers.GridSampler(grid, seed=seed)
        if self.space.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        return optuna.samplers.TPESampler(seed=seed)

    def _pruner(self, optuna):
        if self.space.pruner == "median":
            return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
        if self.space.pruner == "hyperband":
            return optuna.pruners.HyperbandPruner(min_resource=1)
        return optuna.pruners.NopPruner()

    def remaining(self, study) -> int:
        return max(0, self.total - sum(1 for t in study.get_trials(deepcopy=False)
                                       if counted(t)))

    def needed(self, study) -> int:
        """How many more trials the sweep needs: ``total`` less those that count and those
        running (other workers', other machines': they will count unless cut short)."""
        trials = study.get_trials(deepcopy=False)  # one read: counted and running agree
        done = sum(1 for t in trials if counted(t))
        running = sum(1 for t in trials if t.state.name == "RUNNING")
        return self.total - done - running

    def command(self) -> str:
        """The command that runs this sweep again (its spec, block, folder and storage, the
        storage's password left out)."""
        words = ["lightdsl", "sweep", self.analysis.source.path]
        if self.space.name != "default":
            words += ["--sweep", self.space.name]
        if self.options.trials:
            words += ["--trials", str(self.options.trials)]
        if self.options.folder:
            words += ["--dir", self.options.folder]
        if self.options.storage:
            words += ["--storage", shown_url(self.options.storage)]
        return shlex.join(words)

    # ---- running ----
    def run(self, workers_share: int | None = None) -> Any:
        """Run the trials still missing (or ``workers_share`` of them, in a worker)."""
        optuna_module()  # a clear message without Optuna
        study = self.study()
        write_info(self.folder, {"spec": str(Path(self.analysis.source.path).resolve()),
                                 "sweep": self.space.name, "run": self.space.run,
                                 "study": self.study_name, "storage": self.options.storage,
                                 "monitor": self.space.monitor, "mode": self.space.mode,
                                 "trials": self.total})
        left = self.remaining(study) if workers_share is None else workers_share
        with CtrlC().remembered(), \
                claim_lock(self.folder, self.options.storage, self.study_name) as self.claim:
            if left == 0 or not self._claim_next(study):
                return study
            study.optimize(self.objective, n_trials=left, timeout=self.space.timeout,
                           catch=(Exception,), callbacks=[self._announce, self._next_or_stop],
                           gc_after_trial=True)
        return study

    def _claim_next(self, study) -> bool:
        """Whether the sweep needs another trial, decided under the claim lock; when it does,
        the lock stays held until Optuna has asked for the trial (the objective releases
        it), so no other worker decides from a count that lacks it."""
        self.claim.take()
        if self.needed(study) > 0:
            return True
        self.claim.release()
        return False

    def _next_or_stop(self, study, trial) -> None:
        """After each trial: claim the next one, or stop once ``total`` trials count or run;
        as Optuna's MaxTrialsCallback, but trials cut short (Ctrl-C, a killed worker) do not
        count. A Ctrl-C some code swallowed during the trial stops the sweep here."""
        raise_if_pressed()
        if not self._claim_next(study):
            study.stop()

    def objective(self, trial) -> float:
        self.claim.release()  # the trial exists (RUNNING): the other workers count it
        try:
            trial.set_user_attr("owner", owner())  # a killed worker's trial is found later
            point = {d.key: self._suggest(trial, d) for d in self.space.searched}
            trial.set_user_attr("sweep", self.space.name)
            write_values(self.folder, trial.number, point, {"sweep": self.space.name,
                                                            "study": self.study_name})
            return self._train(trial, point)
        except KeyboardInterrupt:
            trial.set_user_attr("interrupted", True)
            raise
        except Exception as error:  # recorded with the trial; the sweep goes on
            message = error.report() if hasattr(error, "report") else str(error)
            trial.set_user_attr("error", message[:2000])
            raise

    def _suggest(self, trial, dim) -> Any:
        if dim.kind == "choice":
            return trial.suggest_categorical(dim.key, dim.labels(self.text))
        if dim.kind == "int":
            return trial.suggest_int(dim.key, int(dim.low), int(dim.high),
                                     step=int(dim.step or 1) if not dim.log else 1, log=dim.log)
        return trial.suggest_float(dim.key, dim.low, dim.high, step=dim.step, log=dim.log)

    def _train(self, trial, point: dict[str, Any]) -> float:
        analysis = point_analysis(self.analysis, self.space, point)
        experiment = Experiment(analysis, analysis.program.runs[self.space.run])
        experiment.sweep_trial = {"sweep": self.space.name, "study": self.study_name,
                                  "trial": trial.number, "values": point}
        kwargs = experiment.trainer_kwargs()
        pruning = PruningCallback(trial, self.space.monitor)
        params = TrialParams(point)
        extra = {} if self.options.verbose else {"enable_progress_bar": False,
                                                 "enable_model_summary": False}
        if self.tracking is not None:  # the trial's MLflow run nests under the sweep's
            extra["logger"] = self.tracking.trial_logger(kwargs.get("logger"), trial.study,
                                                         trial.number)
        # a trial is not resumed: running the sweep again runs a new one in its place
        again = f"{self.command()} (a new trial takes its place)"
        result = experiment.fit(resume_command=again, default_root_dir=str(self.folder),
                                run_name=trial_folder(self.folder, trial.number).name,
                                callbacks=[*kwargs["callbacks"], pruning, params], **extra)
        if result.interrupted:
            raise KeyboardInterrupt
        value = objective_value(result.history, self.space.monitor, self.space.mode)
        params.log_objective(value)
        trial.set_user_attr("epochs", result.epochs)
        trial.set_user_attr("log_dir", result.log_dir)
        if pruning.pruned:
            import optuna

            raise optuna.TrialPruned(f"pruned at epoch {pruning.pruned_at}")
        return value

    def _announce(self, study, trial) -> None:
        if self.tracking is not None:
            self.tracking.best_so_far(study, trial)
        shown = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        state = trial.state.name.lower()
        value = f" -> {self.space.monitor} {trial.value:.4g}" if trial.value is not None else ""
        error = f": {trial.user_attrs['error'].splitlines()[0]}" \
            if "error" in trial.user_attrs else ""
        best = ""
        try:
            best = f" (best {study.best_value:.4g}, trial {study.best_trial.number})"
        except ValueError:
            pass
        print(f"trial {trial.number} {state}{value}{error}  [{shown}]{best}", flush=True)


def objective_value(history: list[dict], monitor: str, mode: str) -> float:
    """The best ``monitor`` value over the epochs of a run (``mode`` decides which is best)."""
    values = [float(epoch[monitor]) for epoch in history
              if monitor in epoch and math.isfinite(float(epoch[monitor]))]
    if not values:
        raise RuntimeError(f"the run never logged a finite {monitor}")
    return max(values) if mode == "max" else min(values)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
