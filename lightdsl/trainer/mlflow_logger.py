"""An MLflow run as a logger: ``logger = mlflow`` (or ``[tensorboard, csv, mlflow]``).

What goes into the run: the module's hyperparameters and the trainer's settings as params, the
metrics with the names and at the steps the TensorBoard and CSV loggers use
(``train_loss_step``, ``train_loss_epoch``, ``val_loss``, ``epoch``, ...), the spec's text
(``spec.lit``), confusion matrices as JSON tables, and at the end the best checkpoint (else
``last.ckpt``) under ``checkpoints/``. The run's status follows the fit: FINISHED, FAILED, or
KILLED after Ctrl-C; its id is kept in the checkpoints, so ``--resume`` continues the same run.

Where it goes: ``tracking_uri`` (a server, ``http://host:5000``, or any store MLflow takes),
else ``$MLFLOW_TRACKING_URI``, else the local store ``mlruns/`` beside the log root: a SQLite
database ``mlruns/mlflow.db`` (what MLflow 3.7+ defaults to; its file store is in maintenance
and refuses to start without an opt-in) and the artifacts in ``mlruns/artifacts/``. Browse it
with ``mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db``. The experiment is the run
folder's name and the MLflow run is named after its ``version_N`` folder, so the two line up.

Metrics are buffered and handed to MLflow's writer thread (``log_batch(synchronous=False)``)
at most every :attr:`FLUSH_S` seconds, and waited for at the end: a SQLite or HTTP write costs
tens of milliseconds, which logging every step one by one would add to each step. mlflow is an optional extra, imported only here, only when
the logger is built (``lightdsl check`` never imports it). For sweeps, ``parent_run_id`` makes
the run a nested child of another (:func:`open_parent_run`).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from lightdsl.errors import ConfigError
from lightdsl.install import extra_command

from .loggers import Logger

STATUS = {"success": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
PARENT_TAG = "mlflow.parentRunId"  # MLflow's own: the UI nests the run under its parent
MAX_PARAM_LENGTH = 6000  # MLflow's limit on a param's value
BATCH = {"metrics": 1000, "params": 100}  # MLflow's limits per log_batch request


def mlflow_client():
    """MLflow's ``MlflowClient`` class, its telemetry settled (:func:`_settle_telemetry`), or a
    ConfigError saying how to install mlflow."""
    try:
        import mlflow  # noqa: F401 (an optional extra, imported when a run logs to it)
        from mlflow import MlflowClient
    except ImportError as error:
        raise ConfigError(f"logger mlflow needs the mlflow package, which is not installed "
                          f"({error})", hint=f"install lightdsl[mlflow] "
                          f"({extra_command('mlflow')})") from None
    _settle_telemetry()
    return MlflowClient


def _settle_telemetry() -> None:
    """Let MLflow's telemetry start up now, and wait for it (at most a few seconds).

    Its first tracked call starts a thread that fetches a config (1 s timeout) and, when that
    fails (offline, behind a firewall: most CI), deletes a variable from ``os.environ``. A
    thread reading ``os.environ`` at that moment (requests does for proxies on every HTTP
    call to a tracking server) fails with KeyError mid-run. Activated here, before any store
    is touched, nothing reads it concurrently."""
    try:
        from mlflow.telemetry.client import get_telemetry_client
    except ImportError:  # an MLflow without telemetry
        return
    client = get_telemetry_client()  # None where telemetry is off (MLFLOW_DISABLE_TELEMETRY)
    if client is None or getattr(client, "is_active", True):
        return
    client.activate()
    fetching = getattr(client, "_config_thread", None)
    if fetching is not None:
        fetching.join(timeout=5)


def local_store(log_dir: str | Path) -> Path:
    """The local store of a run whose folder is ``<root>/<name>/version_N``: ``mlruns/``
    beside ``<root>``."""
    return Path(log_dir).resolve().parents[2] / "mlruns"


def resolve_tracking_uri(given: str | None, log_dir: str | Path) -> str:
    """The store a run logs to: ``given``, else ``$MLFLOW_TRACKING_URI``, else the SQLite
    database of :func:`local_store`."""
    chosen = given or os.environ.get("MLFLOW_TRACKING_URI")
    if chosen:
        return chosen
    return "sqlite:///" + (local_store(log_dir) / "mlflow.db").as_posix()


def _is_local_sqlite(uri: str) -> bool:
    return uri.startswith("sqlite:///")


class MLflowLogger(Logger):
    """One MLflow run in ``experiment_name`` (default: the run folder's name), named
    ``run_name`` (default: its ``version_N``); see the module's docs. ``parent_run_id`` nests
    it under another run (a sweep's); ``tags`` are set on the run."""

    FLUSH_S = 1.0

    def __init__(self, log_dir: str | Path, experiment_name: str | None = None,
                 run_name: str | None = None, tracking_uri: str | None = None,
                 log_model: bool = True, parent_run_id: str | None = None,
                 tags: dict[str, str] | None = None) -> None:
        super().__init__(log_dir)
        client_class = mlflow_client()
        self.tracking_uri = resolve_tracking_uri(tracking_uri, self.log_dir)
        self.experiment_name = experiment_name or self.log_dir.parent.name or "lightdsl"
        self.run_name = run_name or self.log_dir.name
        self.log_model, self.parent_run_id = bool(log_model), parent_run_id
        self.tags = dict(tags or {})
        if _is_local_sqlite(self.tracking_uri):
            Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True,
                                                                            exist_ok=True)
        self.client = client_class(tracking_uri=self.tracking_uri)
        self.run_id: str | None = None
        self._resume_id: str | None = None
        self._buffer: list = []
        self._oldest = 0.0
        self._hparam_names: set[str] = set()
        self._pending: list = []  # log_batch operations in MLflow's writer thread

    # ---- the run ----
    def state_dict(self) -> dict:
        """What a checkpoint keeps: the run's id and store (a resume continues the run)."""
        return {"run_id": self.run_id, "tracking_uri": self.tracking_uri}

    def load_state_dict(self, state: dict) -> None:
        """Continue the checkpoint's run, where it is in this store."""
        if state.get("run_id") and state.get("tracking_uri") == self.tracking_uri:
            self._resume_id = state["run_id"]

    def start(self) -> str:
        """The run's id: the resumed run's (set RUNNING again), else a new run's."""
        if self.run_id is not None:
            return self.run_id
        resumed = self._resumed()
        if resumed is not None:
            self.run_id = resumed
        else:
            tags = {**self.tags, "lightdsl.log_dir": str(self.log_dir)}
            if self.parent_run_id:
                tags[PARENT_TAG] = self.parent_run_id
            run = self.client.create_run(self._experiment_id(), run_name=self.run_name,
                                         tags=tags)
            self.run_id = run.info.run_id
        return self.run_id

    def _resumed(self) -> str | None:
        if self._resume_id is None:
            return None
        try:
            self.client.get_run(self._resume_id)
        except Exception:  # noqa: BLE001 (deleted, or another store: a new run instead)
            return None
        self.client.update_run(self._resume_id, status="RUNNING")
        self.client.set_tag(self._resume_id, "lightdsl.log_dir", str(self.log_dir))
        return self._resume_id

    def _experiment_id(self) -> str:
        return experiment_id(self.client, self.experiment_name, self.tracking_uri)

    # ---- what the trainer logs ----
    def log_hyperparams(self, params: dict) -> None:
        self._hparam_names = set(params)
        self._log_params(params)

    def log_params(self, params: dict) -> None:
        """Params of the caller's own (a sweep trial's values), beside the hyperparameters."""
        self._log_params(params)

    def log_settings(self, settings: dict) -> None:
        """The trainer's settings, as params too (``trainer.<name>`` where a hyperparameter
        has the name already)."""
        known = self._hparam_names
        self._log_params({(f"trainer.{k}" if k in known else k): v
                          for k, v in settings.items()})

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        now = time.time()
        stamp = int(now * 1000)
        if not self._buffer:
            self._oldest = now
        self._buffer += [Metric(k, float(v), stamp, step) for k, v in metrics.items()]
        if now - self._oldest >= self.FLUSH_S:
            self.flush()

    def log_text(self, tag: str, text: str) -> None:
        name = "spec.lit" if tag == "spec" else f"{tag}.txt"
        self.client.log_text(self.start(), text, name)

    def log_matrices(self, matrices: dict, step: int) -> None:
        for name, matrix in matrices.items():
            table = {"step": step, "class_names": self.class_names,
                     "counts": matrix.tolist()}
            self.client.log_dict(self.start(), table, f"matrices/{name}/step={step}.json")

    def log_checkpoint(self, path: str) -> None:
        """The checkpoint the run kept, under ``checkpoints/`` (unless ``log_model`` is off)."""
        if self.log_model:
            self.client.log_artifact(self.start(), path, "checkpoints")

    def save(self) -> None:
        if self._buffer and time.time() - self._oldest >= self.FLUSH_S:
            self.flush()

    def flush(self, wait: bool = False) -> None:
        """Hand the buffered metrics to MLflow's writer thread (``synchronous=False``: the step
        does not wait for the database); ``wait``: and wait until all are written."""
        metrics, self._buffer = self._buffer, []
        run_id = self.start()
        for i in range(0, len(metrics), BATCH["metrics"]):
            self._pending.append(self.client.log_batch(
                run_id, metrics=metrics[i:i + BATCH["metrics"]], synchronous=False))
        if wait:
            pending, self._pending = self._pending, []
            for operation in pending:
                operation.wait()  # raises what the writer met (a server gone, a full disk)

    def finalize(self, status: str = "success") -> None:
        if self.run_id is None and not self._buffer:
            return  # nothing was logged: no empty run
        self.flush(wait=True)
        self.client.set_terminated(self.run_id, status=STATUS.get(status, "FAILED"))

    # ---- params ----
    def _params_logged(self) -> dict[str, str]:
        return dict(self.client.get_run(self.start()).data.params)

    def _log_params(self, params: dict) -> None:
        """New params; on a resume, values that changed are tags ``resumed.<name>`` (MLflow
        never changes a param)."""
        from mlflow.entities import Param, RunTag

        logged = self._params_logged()
        values = {k: _param_text(v) for k, v in params.items()}
        new = [Param(k, v) for k, v in values.items() if k not in logged]
        changed = [RunTag(f"resumed.{k}", v) for k, v in values.items()
                   if k in logged and logged[k] != v]
        for i in range(0, max(len(new), len(changed)), BATCH["params"]):
            self.client.log_batch(self.run_id, params=new[i:i + BATCH["params"]],
                                  tags=changed[i:i + BATCH["params"]])


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MAX_PARAM_LENGTH]


def experiment_id(client, name: str, uri: str) -> str:
    """The id of experiment ``name``, created if new: in a local SQLite store with its
    artifacts in the store's ``artifacts/<name>`` (MLflow's default would be ``./mlruns`` in
    the working folder), elsewhere where the server puts them."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if _is_local_sqlite(uri):
        store = Path(uri.removeprefix("sqlite:///")).parent
        location = (store / "artifacts" / re.sub(r"[^A-Za-z0-9._-]+", "_", name)).as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except Exception:  # another run created it at the same moment
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def open_parent_run(experiment_name: str, run_name: str, tracking_uri: str,
                    tags: dict[str, str] | None = None) -> str:
    """Start a parent run (a sweep's) and return its id; each trial's logger gets it as
    ``parent_run_id`` and is nested under it. End it with :func:`close_parent_run`."""
    client = mlflow_client()(tracking_uri=tracking_uri)
    experiment = experiment_id(client, experiment_name, tracking_uri)
    return client.create_run(experiment, run_name=run_name, tags=tags or {}).info.run_id


def close_parent_run(run_id: str, tracking_uri: str, status: str = "success") -> None:
    """End a parent run with the sweep's status (``"success"``, ``"failed"``, ...)."""
    client = mlflow_client()(tracking_uri=tracking_uri)
    client.set_terminated(run_id, status=STATUS.get(status, "FAILED"))
