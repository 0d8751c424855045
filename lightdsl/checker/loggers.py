"""Checks of a run's loggers (``logger = [tensorboard, csv, mlflow]``): each at most once, one
run folder for all of them, and the packages they need.

Every logger writes into the run's one ``<save_dir>/<name>/version_N`` folder, so only one
``save_dir`` and one ``name`` can be meant: two loggers giving different ones is an error at the
second. A logger whose package is an extra that is not installed (mlflow) is a warning with the
install command: ``check`` may run where training does not (CI), and finding out imports
nothing.
"""

from __future__ import annotations

from ..frontend.diagnostics import Reporter
from ..install import extra_command, installed
from .bound import Bound

FOLDER_ARGS = ("save_dir", "name")  # what chooses the run folder; the rest builds the logger


def check_loggers(loggers: list[Bound], reporter: Reporter) -> None:
    """Report repeated loggers, conflicting run folders and missing packages."""
    seen: dict[str, Bound] = {}
    for bound in loggers:
        key = getattr(getattr(bound, "ref", None), "text", None) or bound.name
        if key in seen:
            reporter.error("duplicate", bound.span, f"logger {bound.name} is given twice")
        seen[key] = bound
        _missing_package(bound, reporter)
    for arg in FOLDER_ARGS:
        _one_folder(loggers, arg, reporter)


def _one_folder(loggers: list[Bound], arg: str, reporter: Reporter) -> None:
    first = None
    for bound in loggers:
        if arg not in bound.nodes:
            continue
        if first is None:
            first = bound
        elif bound.values[arg] != first.values[arg]:
            reporter.error("value", bound.span_of(arg), f"{bound.name} {arg} = "
                           f"{bound.values[arg]!r}, but {first.name} gives {arg} = "
                           f"{first.values[arg]!r}: all loggers write one run folder",
                           hint=f"give {arg} once (or the same on each logger)")


def _missing_package(bound: Bound, reporter: Reporter) -> None:
    needed = bound.entry.needs_package
    if needed is None or installed(needed[0]):
        return
    reporter.warning("missing-package", bound.span, f"logger {bound.name} needs {needed[1]}, "
                     "which is not installed: training will stop before it starts",
                     hint=f"install lightdsl[{needed[1]}] ({extra_command(needed[1])})")
