"""Dotted names become Python objects here, and only here.

A vocabulary entry's ``target`` (``"torch.nn.Linear"``), a logger's class
(``"lightdsl.trainer.loggers.CSVLogger"``) or a transform's builder is a dotted name; the
vocabulary, the builders and the trainer all call :func:`resolve`. It lives on the ground floor
so that the trainer, which knows nothing of the language, can turn a name into a class too.
"""

from __future__ import annotations

import importlib
from typing import Any


def resolve(dotted: str) -> Any:
    """The object a dotted name (an entry's ``target``, ``build`` or ``fit``) names, importing
    its module on first use: the only place the vocabulary's names become Python objects."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)
