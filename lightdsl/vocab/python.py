"""The Python escape hatch: ``python("module:Name", key = value, ...)`` as a layer, loss or
metric. These entries only make the word known (for did-you-mean and the docs); the checker
binds each call to an entry of its own (:mod:`lightdsl.checker.python`), because the arguments
are whatever the named Python object takes."""

from __future__ import annotations

from .registry import Arg, entry
from .types import Str

KINDS = ("layer", "loss", "metric")
REF = Arg("target", Str(), doc='"module:Name": the Python module and the name defined in it')
DOCS = {"layer": "a torch.nn.Module class from your own Python module, built with the keyword "
                 "arguments given (shape = \"same\" or [sizes] declares its output shape)",
        "loss": "a loss class (built with the keyword arguments) or a function "
                "loss(output, labels) from your own Python module",
        "metric": "a function metric(output, labels) -> scalar tensor from your own Python "
                  "module"}

for _kind in KINDS:
    entry(_kind, "python", REF, doc=DOCS[_kind])
