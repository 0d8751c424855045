"""The Python escape hatch: ``python("module:Name", key = value, ...)`` as a layer, loss,
metric, callback or logger.

These entries are deliberately not in the registry: they have no torch target, shape rule or
fixed arguments of their own, so the loops over the registry (the shape-vs-torch tests, the
code generator's target tables) must not meet them. The checker's name lookup knows the word
(:func:`python_entry`) and binds each call to an entry of its own
(:mod:`lightdsl.checker.python`), because the arguments are whatever the Python object takes.
"""

from __future__ import annotations

from .registry import Arg, Entry
from .types import Str

WORD = "python"
KINDS = ("layer", "loss", "metric", "callback", "logger")
REF = Arg("target", Str(), doc='"module:Name": the Python module and the name defined in it')
DOCS = {"layer": "a torch.nn.Module class from your own Python module, built with the keyword "
                 "arguments given (shape = \"same\" or [sizes] declares its output shape)",
        "loss": "a loss class (built with the keyword arguments) or a function "
                "loss(output, labels) from your own Python module",
        "metric": "a function metric(output, labels) -> scalar tensor from your own Python "
                  "module",
        "callback": "a callback class from your own Python module, built with the keyword "
                    "arguments given; its hooks (on_fit_start, on_train_epoch_end, ...) are "
                    "checked by name",
        "logger": "a logger class from your own Python module with log_metrics(metrics, "
                  "step), built with the keyword arguments (and log_dir=<the run folder> where "
                  "its __init__ takes log_dir)"}
ENTRIES = {kind: Entry(kind=kind, name=WORD, args=(REF,), doc=DOCS[kind]) for kind in KINDS}


def python_entry(kind: str, name: str) -> Entry | None:
    """The ``python`` word's entry where ``kind`` allows it, else None."""
    return ENTRIES.get(kind) if name == WORD else None
