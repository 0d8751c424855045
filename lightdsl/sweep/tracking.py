"""A sweep in MLflow: one parent run for the sweep, each trial a run nested under it.

When the swept run logs to MLflow (``logger = mlflow`` or a list holding it), ``lightdsl
sweep`` opens one parent run (experiment: the logger's ``experiment_name``, else the sweep
folder's name; run: the sweep folder's name) whose params are the space (each entry as
written, ``sweep.trials``, ``sweep.monitor``, ...). Its id is kept in the study (user
attribute ``mlflow_parent_run_id``), so worker processes (``--jobs``) and a resumed sweep use
the same parent. Each trial's MLflow logger gets ``parent_run_id``, the run name
``trial_N``, the parent's store and experiment, the trial's values as params
(``sweep.<key>``) and, once trained, the metric ``objective``; the parent gets
``best_objective`` after each trial (step: the trial's number). The parent ends FINISHED,
or KILLED after Ctrl-C.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis import logger_kwargs
from ..run_settings import LoggerChoice
from ..trainer.callbacks import Callback

MLFLOW = "lightdsl.trainer.mlflow_logger.MLflowLogger"
PARENT_ATTR = "mlflow_parent_run_id"


def mlflow_options(logger: Any) -> dict | None:
    """The options of the MLflow logger among a run's ``logger`` setting, None without one."""
    for item in logger if isinstance(logger, list) else [logger]:
        if item == "mlflow":
            return {}
        if isinstance(item, LoggerChoice) and item.target == MLFLOW:
            return dict(item.options or {})
    return None


class SweepTracking:
    """The MLflow side of one sweep (see the module's docs)."""

    def __init__(self, sweep, options: dict):
        from ..trainer.mlflow_logger import resolve_tracking_uri

        self.sweep, self.options = sweep, options
        # the sweep folder stands where a run's <root>/<name> stands: the store is the one
        # the spec's own runs use (mlruns/ beside the log root)
        self.uri = resolve_tracking_uri(options.get("tracking_uri"),
                                        Path(sweep.folder) / "version_0")
        self.experiment = options.get("experiment_name") or Path(sweep.folder).name

    @classmethod
    def of(cls, sweep) -> SweepTracking | None:
        """The sweep's tracking, or None when its run does not log to MLflow."""
        run = sweep.analysis.program.runs[sweep.space.run]
        options = mlflow_options(logger_kwargs(run).get("logger"))
        return None if options is None else cls(sweep, options)

    # ---- the parent run ----
    def open(self, study) -> str:
        """The parent run's id: the study's (set RUNNING again), else a new run's."""
        from ..trainer.mlflow_logger import open_parent_run

        client = self.client()
        known = study.user_attrs.get(PARENT_ATTR)
        if known and self._exists(client, known):
            client.update_run(known, status="RUNNING")
            return known
        parent = open_parent_run(self.experiment, Path(self.sweep.folder).name, self.uri,
                                 tags={"lightdsl.sweep": self.sweep.space.name,
                                       "lightdsl.sweep_dir": str(self.sweep.folder)})
        study.set_user_attr(PARENT_ATTR, parent)
        self._log_space(client, parent)
        return parent

    def close(self, study, status: str) -> None:
        from ..trainer.mlflow_logger import close_parent_run

        parent = study.user_attrs.get(PARENT_ATTR)
        if parent:
            close_parent_run(parent, self.uri, status)

    def client(self):
        from ..trainer.mlflow_logger import mlflow_client

        return mlflow_client()(tracking_uri=self.uri)

    @staticmethod
    def _exists(client, run_id: str) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            client.get_run(run_id)
        except MlflowException:  # another store, or the run was deleted
            return False
        return True

    def _log_space(self, client, parent: str) -> None:
        from mlflow.entities import Param

        space, text = self.sweep.space, self.sweep.text
        params = {d.key: text[d.span.start_pos:d.span.end_pos] for d in space.dims}
        params.update({"sweep.trials": self.sweep.total, "sweep.monitor": space.monitor,
                       "sweep.mode": space.mode, "sweep.sampler": space.sampler,
                       "sweep.pruner": space.pruner, "sweep.run": space.run})
        client.log_batch(parent, params=[Param(k, str(v)[:6000]) for k, v in params.items()])

    # ---- a trial ----
    def trial_logger(self, logger: Any, study, number: int) -> Any:
        """``logger`` with its MLflow logger nested under the parent run as ``trial_N``."""
        parent = study.user_attrs.get(PARENT_ATTR)
        options = {**self.options, "experiment_name": self.experiment, "tracking_uri": self.uri,
                   "run_name": f"trial_{number}",
                   "tags": {"lightdsl.sweep": self.sweep.space.name,
                            "lightdsl.trial": str(number)}}
        if parent:
            options["parent_run_id"] = parent
        nested = LoggerChoice(MLFLOW, options)
        items = logger if isinstance(logger, list) else [logger]
        changed = [nested if mlflow_options(item) is not None else item for item in items]
        return changed if isinstance(logger, list) else changed[0]

    def best_so_far(self, study, trial) -> None:
        """The parent's ``best_objective`` after ``trial``."""
        parent = study.user_attrs.get(PARENT_ATTR)
        try:
            best = study.best_value
        except ValueError:  # no trial completed yet
            return
        if parent:
            self.client().log_metric(parent, "best_objective", float(best), step=trial.number)


class TrialParams(Callback):
    """Puts a trial's values (``sweep.<key>``) into its MLflow run when the fit starts, and
    its objective (``objective``) once known."""

    stateful = False

    def __init__(self, values: dict[str, Any]):
        self.values = values
        self.logger = None

    def on_fit_start(self, trainer, module) -> None:
        from ..trainer.mlflow_logger import MLflowLogger

        found = [lg for lg in trainer.loggers if isinstance(lg, MLflowLogger)]
        if found:
            self.logger = found[0]
            self.logger.log_params({f"sweep.{k}": v for k, v in self.values.items()})

    def log_objective(self, value: float) -> None:
        if self.logger is not None and self.logger.run_id is not None:
            self.logger.client.log_metric(self.logger.run_id, "objective", float(value))
