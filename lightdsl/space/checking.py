"""``lightdsl check`` of a sweep: the whole space goes through the checker before any trial.

Each value of each entry is applied to the spec (:func:`~lightdsl.space.points.apply_point`)
and the spec is checked again, exactly as for ``--set``; an error becomes an error at the
sweep entry naming the impossible values. What is checked, and how it is bounded:

- every value of a ``choice``;
- every value of an ``int`` range that can feed shapes (a model hyperparameter or a sweep
  variable) when it has at most :data:`INT_ALL` values, else both bounds and an even sample of
  :data:`INT_SAMPLE` values, with a warning saying so; other ``int`` ranges (train and data
  settings, optimizer arguments) and every float range at their bounds: the checks of settings
  are intervals, so the bounds stand for the values between them;
- an entry's values are checked with the other entries at the spec's values (sweep variables
  at their first value); when nothing is wrong and the space has at most :data:`JOINT_CAP`
  combinations of those values, every combination too (entries that only fail together);
- at most :data:`MAX_CHECKS` checks per sweep (a check is about a millisecond on small specs).
"""

from __future__ import annotations

import itertools
from typing import Any

from ..checker import Program, check
from ..frontend import nodes as n
from ..frontend.diagnostics import Diagnostic, Note, Reporter
from .points import apply_point
from .spaces import Dimension, Space, read_space, suggest_target

INT_ALL = 256
INT_SAMPLE = 64
JOINT_CAP = 64
MAX_CHECKS = 400
SHOWN_VALUES = 8


def check_sweeps(program: Program, reporter: Reporter, clean: bool) -> dict[str, Space]:
    """The spaces of the spec's sweep blocks, by name; with ``clean`` (the spec itself has no
    errors) each is checked point by point."""
    spaces: dict[str, Space] = {}
    for node in program.spec.sweeps:
        run = _run_of(node, program, reporter)
        if run is None:
            continue
        if node.sweep_name in spaces:
            where = node.name.span if node.name else node.keyword_span
            reporter.error("duplicate", where, f'there is already a sweep "{node.sweep_name}"',
                           hint="name the sweeps: sweep small { ... }  sweep wide { ... }")
            continue
        errors = reporter.error_count
        space = read_space(node, run, reporter)
        _check_variables(space, run, reporter)
        spaces[node.sweep_name] = space
        if clean and reporter.error_count == errors:
            PointChecker(program.spec, space, reporter).run()
    return spaces


def _run_of(node: n.SweepDef, program: Program, reporter: Reporter):
    given = next((e for e in node.entries if e.key == "run"), None)
    runs = program.runs
    if given is not None:
        name = given.value.id if isinstance(given.value, n.Name) else \
            given.value.value if isinstance(given.value, n.String) else None
        if name in runs:
            return runs[name]
        from ..suggest import did_you_mean

        reporter.error("unknown-name", given.value.span, f'there is no run "{name}" to sweep'
                       + did_you_mean(str(name), runs), hint="runs: " + ", ".join(runs))
        return None
    if len(runs) == 1 or "default" in runs:
        return runs.get("default") or next(iter(runs.values()))
    reporter.error("missing", node.keyword_span, "which run does this sweep train? "
                   + ("the spec has no train block" if not runs else
                      f"write run = NAME ({', '.join(runs)})"))
    return None


def _check_variables(space: Space, run, reporter: Reporter) -> None:
    """A variable's values use no other variable; a variable no entry uses is a warning."""
    variables, used = space.variables, set()
    for dim in space.dims:
        names = {name.id for c in dim.choices for name in c.walk(n.Name)} & variables
        if dim.target.kind == "variable" and names:
            reporter.error("sweep-variable", dim.span, f'sweep variable "{dim.key}" uses '
                           f"another sweep variable ({', '.join(sorted(names))})",
                           hint="give its values as numbers or literals")
        used |= names
    for dim in space.dims:
        if dim.target.kind == "variable" and dim.key not in used:
            meant = suggest_target(dim.key, run)
            hint = "to tune the optimizer's learning rate, write optimizer.lr = ..." \
                if dim.key == "lr" else f"did you mean {meant}?" if meant else \
                "use it in another entry, e.g. optimizer = choice(adam(lr = lr))"
            reporter.warning("unused", dim.entry.path[0].span, f'sweep variable "{dim.key}" is '
                             "not a hyperparameter or a setting of the run, and no entry "
                             "uses it", hint=hint)


class PointChecker:
    """Checks the points of one space; reports at the sweep's entries."""

    def __init__(self, spec: n.Spec, space: Space, reporter: Reporter):
        self.spec, self.space, self.reporter = spec, space, reporter
        self.text = reporter.source.text
        self.checks = 0
        self.checked: set[tuple] = set()
        self.candidates = {d.key: self._candidates(d) for d in space.searched}

    def run(self) -> None:
        errors = self.reporter.error_count
        for dim in self.space.searched:
            self._one_at_a_time(dim)
        if not self.space.searched:
            self._fixed_only()
        if self.reporter.error_count == errors:
            self._joint()
        if self.checks >= MAX_CHECKS:
            self.reporter.warning("sweep-sample", self.space.node.keyword_span,
                                  f"checked {MAX_CHECKS} points of this sweep (the most "
                                  "`check` does); the others are checked when a trial draws "
                                  "them")

    # ---- which values ----
    def _candidates(self, dim: Dimension) -> list[Any]:
        if dim.kind == "choice":
            return dim.labels(self.text)
        if dim.kind == "float":
            return [dim.low, dim.grid(self.text)[-1] if dim.step else dim.high]
        values = range(int(dim.low), int(dim.high) + 1, int(dim.step or 1))
        if dim.log:
            values = range(int(dim.low), int(dim.high) + 1)
        if dim.target.kind not in ("hyper", "variable"):
            return sorted({values[0], values[-1]})
        if len(values) <= INT_ALL:
            return list(values)
        self.reporter.warning("sweep-sample", dim.span, f'"{dim.key}" has {len(values)} '
                              f"values: check tries the first {INT_SAMPLE // 2}, the last and "
                              "an even spread between them; the others are checked when a "
                              "trial draws them")
        half = INT_SAMPLE // 2
        spread = {round(i * (len(values) - 1) / (half - 1)) for i in range(half)}
        return [values[i] for i in sorted(set(range(half)) | spread)]

    def _base(self, dim: Dimension) -> dict[str, Any]:
        """The context ``dim``'s values are checked in: variables at their first value, and for
        a variable, the entries using it at a choice that does."""
        point = {k: v[0] for k, v in self.candidates.items()
                 if k in self.space.variables}
        if dim.target.kind == "variable":
            for other in self.space.searched:
                for label, choice in zip(self.candidates[other.key], other.choices):
                    if any(name.id == dim.key for name in choice.walk(n.Name)):
                        point[other.key] = label
                        break
        return point

    # ---- checking ----
    def _errors(self, point: dict[str, Any]) -> list[Diagnostic] | None:
        """The errors of the spec at ``point`` (None once the budget is spent)."""
        key = tuple(sorted(point.items(), key=lambda kv: kv[0]))
        if self.checks >= MAX_CHECKS:
            return None
        self.checks += 1
        self.checked.add(key)
        reporter = Reporter(self.reporter.source)
        check(apply_point(self.spec, self.space, point, self.text), reporter)
        return [d for d in reporter.sorted() if d.severity == "error"]

    def _one_at_a_time(self, dim: Dimension) -> None:
        base = self._base(dim)
        bad: list[tuple[Any, Diagnostic]] = []
        values = self.candidates[dim.key]
        for value in values:
            errors = self._errors({**base, dim.key: value})
            if errors is None:
                break
            if errors:
                bad.append((value, errors[0]))
        if bad:
            self._report(dim, values, bad)

    def _report(self, dim: Dimension, values: list, bad: list) -> None:
        inside = [d for _, d in bad if self._in_sweep(d)]
        for diagnostic in inside:  # the value itself is wrong where it is written
            if not self.reporter.seen("error", diagnostic.code, diagnostic.span,
                                      diagnostic.message):
                self.reporter.report("error", diagnostic.code, diagnostic.span,
                                     diagnostic.message, diagnostic.hint, diagnostic.notes)
        outside = [(v, d) for v, d in bad if not self._in_sweep(d)]
        if not outside:
            return
        value, first = outside[0]
        impossible = [v for v, _ in outside]
        shown = ", ".join(_shown(v) for v in impossible[:SHOWN_VALUES]) \
            + (", ..." if len(impossible) > SHOWN_VALUES else "")
        of = f"the {len(values)} values checked" if len(values) < (dim.size() or 0) \
            else f"{len(values)} values"
        count = (f"{len(impossible)} of {of} are impossible ({shown})"
                 if len(values) > 1 else f"{shown} is impossible")
        note = Note(file=self.reporter.file_of(first.span), span=first.span,
                    message=f"with {dim.key} = {_shown(value)}: {first.message}")
        self.reporter.report("error", "sweep-value", dim.span, f'"{dim.key}": {count}',
                             hint=_step_hint(dim, values, impossible), notes=[note])

    def _in_sweep(self, diagnostic: Diagnostic) -> bool:
        span, node = diagnostic.span, self.space.node.span
        return span.origin is None and node.start_pos <= span.start_pos < node.end_pos

    def _fixed_only(self) -> None:
        errors = self._errors({})
        for diagnostic in errors or []:
            if self._in_sweep(diagnostic):
                self.reporter.report("error", diagnostic.code, diagnostic.span,
                                     diagnostic.message, diagnostic.hint, diagnostic.notes)
            else:
                self.reporter.report("error", "sweep-value", self.space.node.keyword_span,
                                     "the sweep's fixed values do not check", notes=[Note(
                                         file=self.reporter.file_of(diagnostic.span),
                                         span=diagnostic.span, message=diagnostic.message)])
                return

    def _joint(self) -> None:
        """Every combination, when there are few: entries that fail only together."""
        keys = list(self.candidates)
        total = 1
        for key in keys:
            total *= len(self.candidates[key])
        if len(keys) < 2 or total > JOINT_CAP:
            return
        failing = []
        for values in itertools.product(*(self.candidates[k] for k in keys)):
            point = dict(zip(keys, values))
            if tuple(sorted(point.items(), key=lambda kv: kv[0])) in self.checked:
                continue
            errors = self._errors(point)
            if errors is None:
                break
            if errors:
                failing.append((point, errors[0]))
        if failing:
            point, first = failing[0]
            shown = ", ".join(f"{k} = {_shown(v)}" for k, v in point.items())
            self.reporter.report(
                "error", "sweep-value", self.space.node.keyword_span, f"{len(failing)} of {total} "
                "combinations of this sweep's values are impossible, e.g. " + shown,
                notes=[Note(file=self.reporter.file_of(first.span), span=first.span,
                            message=first.message)])


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _step_hint(dim: Dimension, values: list, impossible: list) -> str | None:
    """``step = 4`` when the possible values are every 4th of an int range (all of its values
    checked, or a sample whose every value agrees)."""
    bad = set(impossible)
    possible = [v for v in values if v not in bad]
    if dim.kind != "int" or not possible:
        return "no value of this range is possible" if dim.kind == "int" else None
    if len(possible) == 1:
        return f"only {possible[0]} is possible"
    step = possible[1] - possible[0]
    agrees = all(((v - possible[0]) % step == 0 and v >= possible[0]) == (v not in bad)
                 for v in values)
    if agrees and step > 1 and not dim.log and dim.step == 1:
        last = possible[0] + (int(dim.high) - possible[0]) // step * step
        return (f"step = {step}: {dim.key} = int({possible[0]}, {last}, step = {step}) "
                "keeps the possible values")
    return f"possible values: {', '.join(str(v) for v in possible[:SHOWN_VALUES])}" \
        + (", ..." if len(possible) > SHOWN_VALUES else "")
