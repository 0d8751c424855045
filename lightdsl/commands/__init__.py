"""Subcommands, one module each; each has ``register(commands)`` and a ``run(args)``.

Command modules import torch only inside ``run``, so ``lightdsl check`` stays torch-free.
"""

from __future__ import annotations

import importlib

COMMANDS = ["check", "train", "lr_find", "tune", "plot", "graph", "codegen", "evaluate",
            "predict", "export", "fmt", "lsp", "sweep"]


def register_all(commands) -> None:
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            continue  # not built yet
        module.register(commands)
