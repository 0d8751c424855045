"""Subcommands, one module each; each has ``register(commands)`` and a ``run(args)``.

Command modules import torch only inside ``run``, so ``lightdsl check`` stays torch-free.
``COMMANDS`` names each command's module, so that ``lightdsl X ...`` imports X's module alone
(start-up is most of what ``check`` costs, issue 18); ``lightdsl --help`` and a usage error
before the command register them all, and so print what they always did.
"""

from __future__ import annotations

import importlib

# command -> its module, in `lightdsl --help`'s order (each module's register() adds the command
# under this name: tests/check/test_cli.py holds them to it)
COMMANDS = {"check": "check", "train": "train", "lr-find": "lr_find",
            "tune-batch-size": "tune", "plot": "plot", "graph": "graph", "codegen": "codegen",
            "evaluate": "evaluate", "predict": "predict", "export": "export", "fmt": "fmt",
            "lsp": "lsp", "sweep": "sweep"}


def register(commands, name: str) -> None:
    """Add command ``name``'s parser to ``commands`` (an argparse subparsers action)."""
    module = COMMANDS[name]
    try:
        loaded = importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{module}":
            raise
        return  # not built yet
    loaded.register(commands)


def register_all(commands) -> None:
    """Add every command's parser, in ``COMMANDS``' order."""
    for name in COMMANDS:
        register(commands, name)
