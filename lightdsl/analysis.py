"""The analysis driver: text -> parse -> check as one call, and what every back end asks of its
outcome first. Torch-free.

``analyze`` is what ``lightdsl check`` runs for each file and what ``lightdsl.load``,
``lightdsl codegen`` and the language server run before anything else; it never raises for
anything in the text. :class:`SpecError` is a spec with errors as one exception,
:func:`choose_run` picks the run a command means, :func:`reanalyze` checks a spec again with
``--set`` overrides, and :func:`log_location` says where a run writes (``lightdsl train`` and
the generated scripts alike). The layer below is the checker; api, codegen and the commands
import this module, never each other for these (see tests/test_layers_contract.py).
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from typing import Any

from .checker import Program, check
from .checker.loggers import FOLDER_ARGS
from .checker.train import Run
from .errors import LightdslError, UsageError
from .frontend.diagnostics import Diagnostic, Reporter, render_text
from .frontend.parser import parse
from .frontend.records import Struct
from .frontend.source import SourceFile
from .run_settings import LOGGER_NAMES, LoggerChoice
from .suggest import did_you_mean


class Analysis(Struct):
    """The outcome for one file: its source, diagnostics in order, and the checked program
    (None when the text did not parse)."""

    def __init__(self, source: SourceFile, diagnostics: list[Diagnostic],
                 program: Program | None, sweeps: dict | None = None):
        self.source, self.diagnostics, self.program = source, diagnostics, program
        self.sweeps = {} if sweeps is None else sweeps  # sweep name -> lightdsl.space.Space

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def analyze(source: SourceFile) -> Analysis:
    """Parse and check one source; syntax errors stop before the semantic checks."""
    reporter = Reporter(source)
    with _no_gc():
        spec = parse(source, reporter)
        program = None if reporter.has_errors else check(spec, reporter)
    sweeps = {}
    if program is not None and spec.sweeps:  # every point of each sweep, when the spec is ok
        from .space import check_sweeps  # only a spec with a sweep block pays for its checker

        sweeps = check_sweeps(program, reporter, clean=not reporter.has_errors)
    return Analysis(source, reporter.sorted(), program, sweeps)


@contextmanager
def _no_gc():
    """The AST is many small objects and holds no cycles worth collecting while it is built;
    the cyclic collector re-scanning it makes large specs grow faster than linearly."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyze_text(text: str, path: str = "<string>") -> Analysis:
    return analyze(SourceFile(text, path))


def analyze_file(path: str) -> Analysis:
    """Read and analyze a file; raises OSError if it cannot be read."""
    return analyze(SourceFile.read(path))


class SpecError(LightdslError):
    """A spec with errors; the message is the rendered diagnostics."""

    def __init__(self, analysis: Analysis):
        rendered = "\n".join(render_text(d, analysis.source) for d in analysis.errors)
        count = len(analysis.errors)
        super().__init__(f"{analysis.source.path} has {count} error{'s' if count != 1 else ''}"
                         f":\n{rendered}")
        self.analysis = analysis


def reanalyze(analysis: Analysis, run: str, parsed) -> Analysis:
    """Check ``analysis``'s spec again with the parsed ``--set`` overrides applied to ``run``;
    raises :class:`SpecError` when the overridden spec has errors."""
    from .overrides import apply_overrides  # only --set needs it

    reporter = Reporter(analysis.source)
    program = check(apply_overrides(analysis.program.spec, run, parsed), reporter)
    result = Analysis(analysis.source, reporter.sorted(), program)
    if not result.ok:
        raise SpecError(result)
    return result


def choose_run(analysis: Analysis, run: str | None) -> str:
    """The run to use: the one asked for, the only one, or the unnamed one."""
    runs = analysis.program.runs
    if not runs:
        raise UsageError(f"{analysis.source.path} has no train block")
    if run is not None:
        if run not in runs:
            raise UsageError(f"{analysis.source.path} has no run {run!r}"
                             + did_you_mean(run, runs) + f" (runs: {', '.join(runs)})")
        return run
    if len(runs) == 1:
        return next(iter(runs))
    if "default" in runs:
        return "default"
    raise UsageError(f"{analysis.source.path} has several runs; choose one with --run "
                     f"({', '.join(runs)})")


# ---- where a run writes -------------------------------------------------------------------

def logger_kwargs(run: Run) -> dict[str, Any]:
    """The Trainer arguments the run's ``logger`` setting gives: the logger (one, or a list
    when the spec names several), and the one run folder's root and name (``save_dir`` and
    ``name`` of the logger that gives them; the checker refuses two that differ)."""
    if "logger" in run.settings.nodes and not run.loggers:
        return {"logger": None}
    if not run.loggers:
        return {}
    choices = [logger_choice(b) for b in run.loggers]
    kwargs: dict[str, Any] = {"logger": choices[0] if len(choices) == 1 else choices}
    root = _folder_logger(run, "save_dir")
    if root is not None and ("save_dir" in root.nodes
                             or "default_root_dir" not in run.settings.nodes):
        kwargs["default_root_dir"] = root.values["save_dir"]
    named = _folder_logger(run, "name")
    if named is not None and named.values.get("name"):
        kwargs["run_name"] = named.values["name"]
    return kwargs


def logger_choice(bound) -> Any:
    """What the Trainer is given for one logger of a spec: the trainer's name for a built-in
    without options of its own (``"tensorboard"``, as ever), else a
    :class:`~lightdsl.run_settings.LoggerChoice` (its class, built in the run folder)."""
    from .checker.python import PythonBound  # a run's, not check's: check needs it only for
    # a python(...) call, and then binding has loaded it

    if isinstance(bound, PythonBound):
        ref = bound.ref
        return LoggerChoice(f"{ref.module}.{ref.name}", dict(bound.values), ref.path_dir,
                            ref.where)
    options = {k: v for k, v in bound.values.items() if k not in FOLDER_ARGS}
    if not options and bound.name in LOGGER_NAMES:
        return bound.name
    return LoggerChoice(bound.entry.target, options)


def _folder_logger(run: Run, arg: str):
    """The logger whose ``arg`` (save_dir, name) chooses the run folder: the first that
    writes it, else the first that has it (its default)."""
    from .checker.python import PythonBound  # as in logger_choice

    own = [b for b in run.loggers if not isinstance(b, PythonBound)]
    written = [b for b in own if arg in b.nodes]
    having = [b for b in own if b.entry.arg(arg) is not None]
    return (written or having or [None])[0]


def run_folder_name(spec_path: str, run_name: str) -> str:
    """A run's log folder name: the spec file's stem, ``-<run>`` added for a named run."""
    stem = os.path.splitext(os.path.basename(spec_path))[0]
    return stem if run_name == "default" else f"{stem}-{run_name}"


def log_location(run: Run, spec_path: str) -> tuple[str, str]:
    """``(root, name)`` of the run's log folder ``<root>/<name>``, whose ``version_N``
    children each run fills: ``default_root_dir`` or the logger's ``save_dir`` (else
    lightning_logs) and the logger's ``name`` (else :func:`run_folder_name`). Torch-free:
    ``lightdsl codegen`` writes the same folder into its scripts."""
    settings = run.settings
    kwargs = {"default_root_dir": settings.values["default_root_dir"]} \
        if "default_root_dir" in settings.nodes else {}
    kwargs.update(logger_kwargs(run))
    root = kwargs.get("default_root_dir") or "lightning_logs"
    return str(root), kwargs.get("run_name") or run_folder_name(spec_path, run.name)
