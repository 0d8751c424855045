"""Where metrics go: TensorBoard event files, a ``metrics.csv``, or nowhere.

Each run gets its own directory ``<root>/<run name>/version_N/`` (N = the next free number,
claimed atomically by :func:`lightdsl.outputs.claim_version_dir`), the layout
``tensorboard --logdir <root>`` understands. The trainer logs Lightning's names at Lightning's
steps (see ``Trainer._log``). A logger is any object with
``log_metrics(metrics, step)``; ``log_hyperparams``, ``log_text``, ``log_matrices`` (a confusion
matrix: a picture in TensorBoard), ``set_class_names`` (for those pictures) and ``finalize`` are
optional.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import torch

from lightdsl.outputs import claim_version_dir, next_version_dir  # noqa: F401 (re-export)

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


def build_logger(choice: Any, run_dir: Path) -> Any:
    """The logger for a checked ``logger`` setting: a name, None, or the user's own object."""
    if choice == "tensorboard":
        return TensorBoardLogger(run_dir)
    if choice == "csv":
        return CSVLogger(run_dir)
    return choice


class LoggerCallback(BuiltinCallback):
    """The run's logger on the callback list: the hyperparameters and the spec's text at the
    start, each ``on_log_metrics``/``on_log_matrices`` as it comes, a save after each epoch
    (before the other callbacks see it) and the last write at ``teardown``."""

    order = -2

    def __init__(self, logger: Any, hparams: dict) -> None:
        self.logger, self.hparams = logger, hparams

    def on_fit_start(self, trainer, module) -> None:
        call_logger(self.logger, "set_class_names", getattr(module, "class_names", None))
        call_logger(self.logger, "log_hyperparams", self.hparams)
        spec = getattr(module, "spec_source", None)
        if spec:
            call_logger(self.logger, "log_text", "spec", spec)

    def on_log_metrics(self, trainer, metrics: dict[str, float], step: int) -> None:
        call_logger(self.logger, "log_metrics", metrics, step)

    def on_log_matrices(self, trainer, matrices: dict, step: int) -> None:
        call_logger(self.logger, "log_matrices", matrices, step)

    def on_train_epoch_end(self, trainer, module) -> None:
        call_logger(self.logger, "save")

    def teardown(self, trainer, module, stage: str) -> None:
        call_logger(self.logger, "finalize")


def call_logger(logger: Any, method: str, *args) -> None:
    """Call an optional logger method, if the logger has it."""
    function = getattr(logger, method, None)
    if callable(function):
        function(*args)


def as_floats(metrics: dict[str, Any]) -> dict[str, float]:
    """Metric values as Python floats (one device sync for all of them)."""
    tensors = {k: v for k, v in metrics.items() if isinstance(v, torch.Tensor)}
    if tensors and all(t.device.type == "cpu" for t in tensors.values()):
        return {k: float(v.item() if isinstance(v, torch.Tensor) else v)  # no sync on a CPU
                for k, v in metrics.items()}
    if tensors:
        # float64 only where a value is float64 already (MPS has no float64 at all).
        wide = any(t.dtype is torch.float64 for t in tensors.values())
        dtype = torch.float64 if wide else torch.float32
        values = torch.stack([t.detach().reshape(()).to(dtype) for t in tensors.values()])
        values = values.tolist()
        metrics = {**metrics, **dict(zip(tensors, values))}
    return {k: float(v) for k, v in metrics.items()}
