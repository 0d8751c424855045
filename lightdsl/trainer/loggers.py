"""Where metrics go: TensorBoard event files, a ``metrics.csv``, an MLflow run
(:mod:`lightdsl.trainer.mlflow`), several of them at once, or nowhere.

Each run gets its own directory ``<root>/<run name>/version_N/`` (N = the next free number,
claimed atomically by :func:`lightdsl.outputs.claim_version_dir`), the layout
``tensorboard --logdir <root>`` understands. The trainer logs Lightning's names at Lightning's
steps (see ``Trainer._log``). A logger is any object with
``log_metrics(metrics, step)``; ``log_hyperparams``, ``log_settings`` (the trainer's), ``log_text``,
``log_matrices`` (a confusion matrix: a picture in TensorBoard), ``set_class_names`` (for those
pictures), ``save`` (each epoch end), ``log_checkpoint`` (the kept checkpoint, at the end),
``finalize`` (with or without the fit's status) and ``state_dict``/``load_state_dict`` (kept in
the checkpoint) are optional: :data:`lightdsl.run_settings.LOGGER_HOOKS`. Each logger is one
:class:`LoggerCallback` on the run's callback list.
"""

from __future__ import annotations

import csv
import dataclasses
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import torch

from lightdsl.dotted import resolve
from lightdsl.errors import ConfigError, LightdslError
from lightdsl.outputs import claim_version_dir, next_version_dir  # noqa: F401 (re-export)
from lightdsl.run_settings import LoggerChoice

from .callbacks import BuiltinCallback
from .checkpoint import to_safe
from .matrices import MatrixPictures


def _hparam_value(value: Any) -> Any:
    # TensorBoard's hparams plugin takes numbers, strings and bools only.
    return value if isinstance(value, (bool, int, float, str)) else str(value)


class Logger:
    """Base class for the built-in loggers; writes into ``log_dir``."""

    class_names: list[str] | None = None  # see set_class_names

    def __init__(self, log_dir: str | Path) -> None:
        self.log_dir = Path(log_dir)

    def log_hyperparams(self, params: dict) -> None:
        """Record the run's hyperparameters once, at the start."""

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """Record scalar ``metrics`` at optimizer step ``step``."""

    def log_text(self, tag: str, text: str) -> None:
        """Record a block of text (e.g. the spec the model was compiled from)."""

    def log_matrices(self, matrices: dict, step: int) -> None:
        """Record matrix-valued metrics (a confusion matrix) at optimizer step ``step``."""

    def set_class_names(self, names: list[str] | None) -> None:
        """The names of the classes (label i is ``names[i]``), for the matrices' pictures."""
        self.class_names = names

    def finalize(self) -> None:
        """Flush and close files."""


class TensorBoardLogger(Logger):
    """Scalars, hyperparameters and text in TensorBoard event files."""

    def __init__(self, log_dir: str | Path) -> None:
        super().__init__(log_dir)
        from torch.utils.tensorboard import SummaryWriter  # slow import: only when used

        self.writer = SummaryWriter(log_dir=str(self.log_dir))
        self.pictures = MatrixPictures(lambda name, image, step: self.writer.add_image(
            name, image, global_step=step, dataformats="HWC"))

    def log_hyperparams(self, params: dict) -> None:
        from torch.utils.tensorboard.summary import hparams

        flat = {key: _hparam_value(value) for key, value in params.items()}
        # Written into this run's own event file (SummaryWriter.add_hparams would open a sub-run).
        for summary in hparams(flat, {}):
            self.writer.file_writer.add_summary(summary)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, global_step=step)

    def log_matrices(self, matrices: dict, step: int) -> None:
        # As pictures with counts and class names, drawn by matplotlib when it is installed
        # (it is optional), else by numpy; in at most a tenth of the run's time (see
        # MatrixPictures).
        self.pictures.add({name: matrix.numpy() for name, matrix in matrices.items()}, step)

    def set_class_names(self, names: list[str] | None) -> None:
        super().set_class_names(names)
        self.pictures.class_names = names

    def log_text(self, tag: str, text: str) -> None:
        # Indented by four spaces, TensorBoard's markdown shows the text as a code block.
        self.writer.add_text(tag, "\n".join("    " + line for line in text.splitlines()))

    def finalize(self) -> None:
        self.pictures.flush()
        self.writer.flush()
        self.writer.close()


class CSVLogger(Logger):
    """``metrics.csv`` and ``hparams.json``, laid out as Lightning's CSVLogger writes them: one
    row per ``log_metrics`` call (its ``step`` and the trainer's ``epoch`` with the values),
    the columns sorted by name, so that a script reading Lightning's file reads this one."""

    def __init__(self, log_dir: str | Path) -> None:
        super().__init__(log_dir)
        self.rows: list[dict[str, Any]] = []
        self.columns: list[str] = []

    def log_hyperparams(self, params: dict) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(to_safe(params), indent=2, default=str)
        (self.log_dir / "hparams.json").write_text(text + "\n")

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        row = {**metrics, "step": step}
        self.rows.append(row)
        if not set(row) <= set(self.columns):
            self.columns = sorted(set(self.columns) | set(row))

    def log_text(self, tag: str, text: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.log_dir / f"{tag}.txt").write_text(text)

    def save(self) -> None:
        """Rewrite ``metrics.csv`` (columns can appear later in a run, e.g. val metrics)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "metrics.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(self.rows)

    def finalize(self) -> None:
        self.save()


#: The trainer's names for its loggers (``Trainer(logger="mlflow")``): a class, or the dotted
#: name of one imported only when used (mlflow is an optional extra).
LOGGER_CLASSES: dict[str, Any] = {"tensorboard": TensorBoardLogger, "csv": CSVLogger,
                                  "mlflow": "lightdsl.trainer.mlflow_logger.MLflowLogger"}


def build_logger(choice: Any, run_dir: Path) -> Any:
    """The logger for one checked ``logger`` item: a name, a LoggerChoice, None, or the user's
    own object."""
    if isinstance(choice, str):
        return _construct(LoggerChoice(LOGGER_CLASSES[choice]), run_dir)
    if isinstance(choice, LoggerChoice):
        return _construct(choice, run_dir)
    return choice


def build_loggers(setting: Any, run_dir: Path) -> list:
    """Every logger of the checked ``logger`` setting (one, a list, or None), built in
    ``run_dir``, in order."""
    if setting is None:
        return []
    items = setting if isinstance(setting, list) else [setting]
    return [build_logger(item, run_dir) for item in items]


def _construct(choice: LoggerChoice, run_dir: Path) -> Any:
    """``target(log_dir=run_dir, **options)`` (without log_dir where the class takes none)."""
    cls = _import(choice) if isinstance(choice.target, str) else choice.target
    options = dict(choice.options or {})
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        parameters = {}
    if "log_dir" in parameters:
        options["log_dir"] = run_dir
    try:
        return cls(**options)
    except LightdslError:
        raise
    except Exception as error:  # noqa: BLE001 (a user's logger may raise anything)
        given = ", ".join(f"{k}={v!r}" for k, v in (choice.options or {}).items())
        raise ConfigError(f"building the logger {cls.__name__}({given}) failed: "
                          f"{type(error).__name__}: {error}", location=choice.where) from None


def _import(choice: LoggerChoice) -> Any:
    """The class a dotted ``target`` names (its module imported from ``path_dir`` first)."""
    if choice.path_dir is not None and choice.path_dir not in sys.path:
        sys.path.insert(0, choice.path_dir)  # as check searched: the spec's folder first
    try:
        return resolve(choice.target)
    except LightdslError:
        raise
    except Exception as error:  # noqa: BLE001 (importing a user's module may raise anything)
        raise ConfigError(f"importing the logger {choice.target} failed: "
                          f"{type(error).__name__}: {error}", location=choice.where) from None


class LoggerCallback(BuiltinCallback):
    """One of the run's loggers on the callback list: the hyperparameters, the trainer's
    settings and the spec's text at the start, each ``on_log_metrics``/``on_log_matrices`` as
    it comes, a save after each epoch (before the other callbacks see it), and at
    ``teardown`` the checkpoint kept (``log_checkpoint``) and the last write (``finalize``,
    with the fit's status where it takes one: ``"success"``, ``"failed"``,
    ``"interrupted"``). A logger with ``state_dict`` (MLflow's run id) keeps its state in the
    checkpoint, so that a resume continues it."""

    order = -2

    def __init__(self, logger: Any, hparams: dict) -> None:
        self.logger, self.hparams = logger, hparams
        self.status: str | None = None

    @property
    def stateful(self) -> bool:
        return callable(getattr(self.logger, "state_dict", None))

    @property
    def state_key(self) -> str:
        return f"Logger[{type(self.logger).__name__}]"

    def state_dict(self) -> dict:
        return self.logger.state_dict() if self.stateful else {}

    def load_state_dict(self, state: dict) -> None:
        call_logger(self.logger, "load_state_dict", state)

    def on_fit_start(self, trainer, module) -> None:
        call_logger(self.logger, "set_class_names", getattr(module, "class_names", None))
        call_logger(self.logger, "log_hyperparams", self.hparams)
        call_logger(self.logger, "log_settings", plain_settings(trainer.run.config))
        spec = getattr(module, "spec_source", None)
        if spec:
            call_logger(self.logger, "log_text", "spec", spec)

    def on_log_metrics(self, trainer, metrics: dict[str, float], step: int) -> None:
        call_logger(self.logger, "log_metrics", metrics, step)

    def on_log_matrices(self, trainer, matrices: dict, step: int) -> None:
        call_logger(self.logger, "log_matrices", matrices, step)

    def on_train_epoch_end(self, trainer, module) -> None:
        call_logger(self.logger, "save")

    def on_exception(self, trainer, module, exception) -> None:
        self.status = self.status or (
            "interrupted" if isinstance(exception, KeyboardInterrupt) else "failed")

    def on_fit_end(self, trainer, module) -> None:
        self.status = self.status or "success"

    def teardown(self, trainer, module, stage: str) -> None:
        kept = _kept_checkpoint(trainer)
        if kept is not None:
            call_logger(self.logger, "log_checkpoint", kept)
        finalize = getattr(self.logger, "finalize", None)
        if not callable(finalize):
            return
        if _takes_argument(finalize):  # Lightning's loggers take the fit's status
            finalize(self.status or "failed")
        else:
            finalize()


def _kept_checkpoint(trainer) -> str | None:
    """The best checkpoint the run kept, else its last.ckpt (None: checkpointing is off)."""
    saver = trainer.run.saver()
    for path in (saver.best_model_path, saver.last_model_path) if saver else ():
        if path and Path(path).is_file():
            return path
    return None


def _takes_argument(function) -> bool:
    try:
        return len(inspect.signature(function).parameters) >= 1
    except (TypeError, ValueError):
        return False


def plain_settings(config) -> dict[str, Any]:
    """The run's trainer settings as plain values (the callback and logger objects left
    out), for a logger's ``log_settings``."""
    if not dataclasses.is_dataclass(config):
        return {}
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
            if f.name not in ("callbacks", "logger")}


def call_logger(logger: Any, method: str, *args) -> None:
    """Call an optional logger method, if the logger has it."""
    function = getattr(logger, method, None)
    if callable(function):
        function(*args)


def as_floats(metrics: dict[str, Any]) -> dict[str, float]:
    """Metric values as Python floats (one device sync for all of the accelerator's)."""
    floats, on_device = {}, {}
    for name, value in metrics.items():
        if not isinstance(value, torch.Tensor):
            floats[name] = float(value)
        elif value.device.type == "cpu":
            floats[name] = float(value.item())  # no sync on a CPU
        else:
            on_device[name] = value
    if not on_device:
        return floats
    # float64 only where a value is float64 already (MPS has no float64 at all).
    wide = any(t.dtype is torch.float64 for t in on_device.values())
    dtype = torch.float64 if wide else torch.float32
    values = torch.stack([t.detach().reshape(()).to(dtype) for t in on_device.values()])
    floats.update(zip(on_device, values.tolist()))
    return {name: floats[name] for name in metrics}  # in the metrics' order
