"""A run's loggers and python(...) callbacks in generated scripts.

The lightning script passes every built-in logger to ``pl.Trainer(logger=...)``: Lightning has
each of them (TensorBoardLogger, CSVLogger, MLFlowLogger), and several at once are its
``logger=[...]``. Its MLFlowLogger gets the experiment and store lightdsl uses (the run
folder's name, the SQLite store ``mlruns/`` beside the log root): Lightning's own default, a
file store, is refused by MLflow 3.7+. The torch script writes no logs (it prints each epoch's
metrics), and neither script carries a ``python(...)`` callback or logger: their hooks are
lightdsl's trainer's. What a script leaves out is a note (its docstring, and a warning of
``lightdsl codegen``).
"""

from __future__ import annotations

import posixpath

from ..checker.python import PythonBound
from ..checker.train import Run
from .printer import literal, vocab_call
from .writer import Doc, Group, concat

LIGHTNING = {"tensorboard": "TensorBoardLogger", "csv": "CSVLogger", "mlflow": "MLFlowLogger"}


def builtin(bounds) -> list:
    """The vocabulary's callbacks or loggers of ``bounds`` (python(...) ones left out)."""
    return [b for b in bounds if not isinstance(b, PythonBound)]


def lightning_logger(run: Run, root: str, name: str) -> Doc:
    """``pl.Trainer``'s ``logger=`` value: one logger, a list of them, or ``False``."""
    calls = [_lightning_call(b, root, name) for b in builtin(run.loggers)]
    if not calls:
        return "False"
    return calls[0] if len(calls) == 1 else Group("[", tuple(calls), "]")


def _lightning_call(bound, root: str, name: str) -> Doc:
    func = "pl.loggers." + LIGHTNING.get(bound.name, bound.entry.target.rsplit(".", 1)[1])
    if bound.name != "mlflow":
        return vocab_call(bound, func=func)
    values = bound.values
    store = posixpath.join(posixpath.dirname(root.replace("\\", "/")), "mlruns")
    parts = [concat("experiment_name=", literal(values["experiment_name"] or name)),
             concat("tracking_uri=", literal(values["tracking_uri"]
                                             or f"sqlite:///{store}/mlflow.db"))]
    if values["run_name"]:
        parts.append(concat("run_name=", literal(values["run_name"])))
    parts.append(concat("log_model=", literal(values["log_model"])))
    return concat(func, Group("(", tuple(parts), ")"))


def omitted(run: Run) -> list[str]:
    """Notes for the python(...) loggers and callbacks no script carries."""
    return [f"python({b.ref.text!r}) {b.entry.kind}: not in the script (it is written for "
            "lightdsl's trainer)" for b in (*run.loggers, *run.callbacks)
            if isinstance(b, PythonBound)]


def torch_logger_note(run: Run) -> str:
    """What the torch script does instead of the run's loggers."""
    names = ", ".join(b.name for b in run.loggers)
    shown = names if len(run.loggers) == 1 else f"[{names}]"
    return f"logger = {shown}: the script prints each epoch's metrics instead of writing logs"
