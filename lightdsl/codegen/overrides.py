"""The code generator's one table of exceptions (sqlglot's ``Generator.TRANSFORMS`` idea).

Most vocabulary entries print the same way: :func:`~lightdsl.codegen.printer.vocab_call` writes
the entry's ``target`` with its bound arguments. The few that a generated script handles with
code of its own are listed here, once, keyed by ``(kind, name)``, so that no writer tests an
entry's name: a transform whose statistics are fitted on the training split, a callback the
script's training loop calls at its own places.

A value is what the writer of that kind needs: for a transform a function
``write(data_writer, bound, sets)`` that writes its lines into ``load_data()``; for a callback a
:class:`ScriptCallback` saying what the loop does with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..checker.binding import Bound
from .writer import Group, concat


@dataclass(frozen=True)
class ScriptCallback:
    """How the torch script's loop uses a callback, as the lines it writes where lightdsl's
    trainer calls the callback; ``{name}`` in a line is the script's variable for it (the
    callback's name). ``after_validation``: after each validation (``mid_epoch_only``: only
    where validation may run inside an epoch; the epoch's end has ``at_epoch_end``);
    ``at_epoch_end``: at every epoch's end; ``unvalidated_epoch_end``: at an epoch's end that
    did not validate; ``stop_reason``: why training stopped, for ``run.finish(...)``.
    ``stops``: the loop keeps a ``stop`` flag and breaks on it (early stopping); ``saves``: it
    writes files (left out under fast_dev_run, not run during lr_find's range test)."""

    stops: bool = False
    saves: bool = False
    after_validation: str = ""
    mid_epoch_only: bool = False
    at_epoch_end: str = ""
    unvalidated_epoch_end: str = ""
    stop_reason: str = ""

    def line(self, part: str, bound: Bound) -> str:
        """The ``part`` line (a field's name) for callback ``bound``; "" if it has none."""
        return getattr(self, part).format(name=bound.name)


def _write_statistics(data, bound: Bound, sets: list[str]) -> None:
    """normalize / standardize: ``auto`` statistics fitted on the training split first."""
    stats = data.statistics(bound.name, bound.values)
    for s in sets:  # a statement, so that long statistics wrap as ruff formats them
        data.w.statement(concat(bound.name, Group("(", (f"{s}_x", *stats), ")")),
                         prefix=f"{s}_x = ")


def _write_one_hot(data, bound: Bound, sets: list[str]) -> None:
    """one_hot transforms the labels; ``num_classes`` defaults to the training labels'."""
    classes = bound.values["num_classes"]
    if classes is None:
        data.w.line("num_classes = int(train_y.max()) + 1")
    for s in sets:
        data.w.line(f"{s}_y = one_hot({s}_y, {'num_classes' if classes is None else classes})")


_SAVE = "{name}.save(run.checkpoints, model, epoch, step, metrics)"

OVERRIDES: dict[tuple[str, str], Any] = {
    ("transform", "normalize"): _write_statistics,
    ("transform", "standardize"): _write_statistics,
    ("transform", "one_hot"): _write_one_hot,
    ("callback", "early_stopping"): ScriptCallback(
        stops=True, after_validation="stop = {name}.should_stop(metrics) or stop",
        unvalidated_epoch_end="stop = {name}.should_stop(metrics)", stop_reason="{name}.reason"),
    ("callback", "checkpoint"): ScriptCallback(
        saves=True, after_validation=_SAVE, mid_epoch_only=True, at_epoch_end=_SAVE),
}


def override(bound: Bound, default: Any = None) -> Any:
    """The table's entry for ``bound``'s vocabulary entry, or ``default``."""
    return OVERRIDES.get((bound.entry.kind, bound.entry.name), default)


def script_callback(bound: Bound) -> ScriptCallback:
    """What the torch script's loop does with callback ``bound`` (nothing if not listed)."""
    return override(bound, ScriptCallback())

