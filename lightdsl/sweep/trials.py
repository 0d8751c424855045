"""One trial of a finished (or running) sweep as a run again: ``--trial N`` of ``lightdsl
codegen``, ``evaluate``, ``predict``, ``export`` and ``plot``.

The trial's point is read from ``<sweep folder>/trial_N/values.json`` and applied to the spec
(checked again, as the sweep did before training it), and its run folder is
``<sweep folder>/trial_N``, where ``--ckpt last|best`` look. Torch- and Optuna-free: codegen
needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis import Analysis, SpecError, log_location, reanalyze
from ..checker import check
from ..errors import UsageError
from ..frontend.diagnostics import Reporter
from ..overrides import parse_overrides
from ..space import Space, apply_point
from ..suggest import did_you_mean
from .study import VALUES, read_info, read_values, sweep_folder, trial_folder


@dataclass
class TrialRun:
    """A trial's spec (its point applied), the run it trains and its run folder."""

    analysis: Analysis
    run: str
    folder: Path
    number: int
    values: dict[str, Any]


def point_analysis(analysis: Analysis, space: Space, point: dict[str, Any]) -> Analysis:
    """``analysis`` checked again with ``point`` applied; SpecError if it does not check."""
    reporter = Reporter(analysis.source)
    program = check(apply_point(analysis.program.spec, space, point, analysis.source.text),
                    reporter)
    result = Analysis(analysis.source, reporter.sorted(), program)
    if not result.ok:
        raise SpecError(result)
    return result


def choose_space(analysis: Analysis, name: str | None) -> Space:
    """The sweep block ``name`` names, or the spec's only (or unnamed) one."""
    sweeps = analysis.sweeps
    if not sweeps:
        raise UsageError(f"{analysis.source.path} has no sweep block")
    if name is None:
        if len(sweeps) == 1 or "default" in sweeps:
            return sweeps.get("default") or next(iter(sweeps.values()))
        raise UsageError(f"{analysis.source.path} has several sweeps; choose one with --sweep "
                         f"({', '.join(sweeps)})")
    if name not in sweeps:
        raise UsageError(f"{analysis.source.path} has no sweep {name!r}"
                         + did_you_mean(name, sweeps))
    return sweeps[name]


def default_folder(analysis: Analysis, space: Space) -> Path:
    """``<log root>/<spec>-sweep[-NAME]``, where ``lightdsl sweep`` puts the sweep."""
    root, _ = log_location(analysis.program.runs[space.run], analysis.source.path)
    return sweep_folder(root, Path(analysis.source.path).stem, space.name)


def trial_run(analysis: Analysis, number: int, sweep: str | None = None,
              folder: str | None = None, run: str | None = None,
              overrides: list | None = None) -> TrialRun:
    """Trial ``number`` of the spec's sweep (``sweep``; its folder ``folder``, else the
    default one): the spec with the trial's values (then ``overrides``, as ``--set``)."""
    if not analysis.ok:
        raise SpecError(analysis)
    space = choose_space(analysis, sweep)
    if run is not None and run != space.run:
        raise UsageError(f"--run {run}: sweep {space.name!r} trains run {space.run!r}")
    where = Path(folder) if folder else default_folder(analysis, space)
    _check_folder(where, space, given=folder is not None)
    values = _values(where, number)
    result = point_analysis(analysis, space, values)
    if overrides:
        result = reanalyze(result, space.run, parse_overrides(overrides))
    return TrialRun(result, space.run, trial_folder(where, number), number, values)


def trial_numbers(folder: Path) -> list[int]:
    """The trials a sweep folder holds (those with a ``values.json``), in order."""
    found = []
    for child in Path(folder).glob("trial_*"):
        suffix = child.name[len("trial_"):]
        if suffix.isdigit() and (child / VALUES).is_file():
            found.append(int(suffix))
    return sorted(found)


def _check_folder(folder: Path, space: Space, given: bool) -> None:
    if not folder.is_dir():
        others = sorted(str(p) for p in folder.parent.glob("*-sweep*") if p.is_dir()) \
            if folder.parent.is_dir() else []
        found = f"; sweep folders there: {', '.join(others)}" if others else \
            f"; {folder.parent} holds no sweep folder"
        how = "" if given else " (give another with --sweep-dir DIR)"
        raise UsageError(f"no sweep folder {folder}{how}{found}",
                         hint="`lightdsl sweep SPEC` runs the sweep and makes it")
    info = read_info(folder)
    if info.get("sweep", space.name) != space.name:
        raise UsageError(f"{folder} holds sweep {info['sweep']!r}, not {space.name!r} "
                         f"(choose it with --sweep {info['sweep']})")


def _values(folder: Path, number: int) -> dict[str, Any]:
    if number < 0 or not (trial_folder(folder, number) / VALUES).is_file():
        numbers = trial_numbers(folder)
        held = f"its trials: {_ranges(numbers)}" if numbers else "it holds no trial yet"
        raise UsageError(f"--trial {number}: {folder} has no trial {number}; {held}")
    return read_values(folder, number)


def _ranges(numbers: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    parts, start = [], None
    for index, number in enumerate(numbers):
        start = number if start is None else start
        if index + 1 == len(numbers) or numbers[index + 1] != number + 1:
            parts.append(str(start) if start == number else f"{start}-{number}")
            start = None
    return ", ".join(parts)
