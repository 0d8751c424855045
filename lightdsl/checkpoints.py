"""Choosing a run's checkpoint (a path, ``last`` or ``best``) and saying which one is used.

``last`` and ``best`` look in one run's log folder, ``<default_root_dir>/<run>/version_N``: the
newest version (highest N) that has a checkpoint. ``last`` is its ``checkpoints/last.ckpt``;
``best`` is the best checkpoint its ModelCheckpoint recorded (``best_model_path`` in the state
saved inside ``last.ckpt``), as Lightning's ``ckpt_path="best"``. Every command that loads a
checkpoint prints :func:`describe` (path, epoch, step, monitored value) and how it was chosen.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from lightdsl.errors import UsageError
from lightdsl.trainer import load_checkpoint, load_weights_checkpoint
from lightdsl.trainer.checkpoint import is_lightdsl
from lightdsl.trainer.lightning_layout import lightning_version

KEYWORDS = ("last", "best")
_SAVER_KEY = re.compile(r"ModelCheckpoint\[(.*)\](#\d+)?")


@dataclass
class Chosen:
    """A checkpoint file and, for ``last``/``best``, how it was chosen."""

    path: str
    how: str | None = None


def choose(which: str, folder: Path, option: str = "--ckpt") -> Chosen:
    """``which`` (a .ckpt path, ``last`` or ``best``) as a checkpoint file of the run whose log
    folder is ``folder``; a UsageError when there is none."""
    if which not in KEYWORDS:
        if not Path(which).is_file():
            raise UsageError(f"{option} {which}: no such checkpoint file",
                             hint="give a .ckpt path, `last` or `best` (this run's newest "
                             "last.ckpt, or the best checkpoint it recorded)")
        return Chosen(which)
    versions = versions_with_checkpoint(folder)
    if not versions:
        raise UsageError(f"{option} {which}: no checkpoint matches "
                         f"{folder / 'version_*' / 'checkpoints' / 'last.ckpt'}",
                         hint="train the spec first (lightdsl train), or give the checkpoint "
                         "path")
    version = versions[-1]
    among = (f"the newest of {len(versions)} versions with a checkpoint" if len(versions) > 1
             else "the only version with a checkpoint")
    where = f"{version.name} of {folder} ({among}; {option} PATH picks another)"
    last = version / "checkpoints" / "last.ckpt"
    if which == "last":
        return Chosen(str(last), f"`last`: {where}")
    best, monitor = best_path(last, option)
    return Chosen(best, f"`best` by {monitor}, as recorded in {where}")


def versions_with_checkpoint(folder: Path) -> list[Path]:
    """``folder``'s ``version_N`` children that hold ``checkpoints/last.ckpt``, by N."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), child) for child in folder.iterdir()
             if (m := re.fullmatch(r"version_(\d+)", child.name))
             and (child / "checkpoints" / "last.ckpt").is_file()]
    return [child for _, child in sorted(found)]


def best_path(last: Path, option: str = "--ckpt") -> tuple[str, str]:
    """The best checkpoint recorded in ``last``'s callback state, and its monitor."""
    state = load_checkpoint(last)
    for key, saver in state.get("callbacks", {}).items():
        match = _SAVER_KEY.fullmatch(key)
        recorded = saver.get("best_model_path") if isinstance(saver, dict) else None
        if not match or match.group(1) == "None" or not recorded:
            continue
        # ModelCheckpoint writes last.ckpt and the best ones into one folder: look there first
        # (the recorded path may be relative to where training ran, or the run was moved)
        for candidate in (last.parent / Path(recorded).name, Path(recorded)):
            if candidate.is_file():
                return str(candidate), match.group(1)
        raise UsageError(f"{option} best: {last} records {recorded} as the best checkpoint, "
                         "but that file is gone", hint=f"use {option} last, or a path")
    raise UsageError(f"{option} best: the run of {last} monitored no metric, so it recorded no "
                     "best checkpoint",
                     hint=f"use {option} last; for a best checkpoint, train with callbacks = "
                     '[checkpoint(monitor = "val_loss")] and validation data')


def describe(path: str | Path) -> str:
    """``checkpoint PATH (epoch E, step S, val_loss 0.123)``: what a checkpoint holds (one
    pytorch-lightning wrote says so, with its epoch and step)."""
    state = load_weights_checkpoint(path)
    if not is_lightdsl(state):
        version = lightning_version(state)
        if version is None:
            return f"checkpoint {path} (weights only)"
        return (f"checkpoint {path} (written by pytorch-lightning {version}: epoch "
                f"{state.get('epoch', '?')}, step {state.get('global_step', '?')})")
    loop = state.get("loop", {})
    parts = [f"epoch {loop.get('epoch', '?')}", f"step {loop.get('global_step', '?')}"]
    metrics = state.get("callback_metrics", {})
    for monitor in monitors(state):
        value = metrics.get(monitor)
        if value is not None:
            parts.append(f"{monitor} {_number(value)}")
    return f"checkpoint {path} ({', '.join(parts)})"


def monitors(state: dict) -> list[str]:
    """The metrics the run's checkpoint callbacks monitored."""
    found = []
    for key in state.get("callbacks", {}):
        match = _SAVER_KEY.fullmatch(key)
        if match and match.group(1) != "None" and match.group(1) not in found:
            found.append(match.group(1))
    return found


def _number(value) -> str:
    number = float(value)
    return f"{number:.6g}" if math.isfinite(number) else str(number)
