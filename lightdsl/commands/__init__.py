"""Subcommands, one module each; each registers its parser and a ``run(args)`` function."""

from __future__ import annotations


def register_all(commands) -> None:
    from . import check

    check.register(commands)
    try:  # commands that need torch register lazily: their modules import torch only in run()
        from . import train  # noqa: F401
    except ImportError:
        return
    train.register(commands)
