"""A ``sweep`` block read into a :class:`Space`: its dimensions, what each key binds to, and
the sweep's own settings (objective, trials, sampler, pruner, timeout). Torch-free.

How a key binds (docs/language.md, Sweeps): the sweep's own settings first (``monitor``,
``mode``, ``trials``, ``sampler`` (``tpe(seed = 0)`` seeds it), ``pruner``, ``timeout``,
``run``); then a bare
name is a hyperparameter of the run's model, a train setting or a data setting, and an error
when it is more than one of them; else it is a *sweep variable*, a value other entries use by
name (``lr`` in ``optimizer = choice(adam(lr = lr), sgd(lr = lr))``). Dotted keys say it
explicitly: ``model.hidden``, ``train.max_epochs``, ``data.batch_size``, and
``optimizer.lr`` (an argument of the call a train setting holds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..checker.constants import contains_invalid, evaluate
from ..checker.train import Run, logged_metrics
from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..suggest import closest, did_you_mean
from ..vocab.registry import REGISTRY

DISTRIBUTIONS = ("uniform", "loguniform", "int", "choice")
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("none", "median", "hyperband")
MODES = ("min", "max")
SETTINGS = ("monitor", "mode", "trials", "sampler", "pruner", "timeout", "run")
CALL_SETTINGS = ("optimizer", "scheduler", "loss", "logger")  # train settings holding a call
DEFAULT_TRIALS = 20


@dataclass(frozen=True)
class Target:
    """What a key sets: ``kind`` is "hyper", "train", "data", "call" (keyword ``name`` of the
    call the train setting ``setting`` holds) or "variable"."""

    kind: str
    name: str
    setting: str | None = None


@dataclass
class Dimension:
    """One entry: a range (``uniform``, ``loguniform``, ``int``), a ``choice`` or a fixed
    value (``kind`` "fixed", the same in every trial)."""

    key: str
    entry: n.SweepEntry
    target: Target
    kind: str  # "float", "int", "choice", "fixed"
    low: float = 0
    high: float = 0
    step: float | None = None
    log: bool = False
    choices: list[n.Expr] = field(default_factory=list)

    @property
    def span(self):
        return self.entry.value.span

    def labels(self, text: str) -> list[Any]:
        """The choices as Optuna stores them: literal numbers, strings and booleans as they
        are, anything else as its source text (``"adam(lr = lr)"``)."""
        literal = (n.Number, n.String, n.Boolean)
        if all(isinstance(c, literal) for c in self.choices):
            return [c.value for c in self.choices]
        return [text[c.span.start_pos:c.span.end_pos] for c in self.choices]

    def size(self) -> int | None:
        """How many values it has (None: a continuous range)."""
        if self.kind in ("choice", "fixed"):
            return max(len(self.choices), 1)
        if self.kind == "int":
            return int((self.high - self.low) // (self.step or 1)) + 1
        if self.step:
            return math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return None

    def grid(self, text: str) -> list[Any]:
        """Every value, for the grid sampler (a discrete dimension only)."""
        if self.kind == "choice":
            return self.labels(text)
        count = self.size() or 0
        values = [self.low + i * (self.step or 1) for i in range(count)]
        return [int(v) for v in values] if self.kind == "int" else [round(v, 12) for v in values]


@dataclass
class Space:
    """A checked sweep block."""

    node: n.SweepDef
    run: str
    dims: list[Dimension] = field(default_factory=list)
    monitor: str = "val_loss"
    mode: str = "min"
    trials: int | None = None
    sampler: str = "tpe"
    pruner: str = "none"
    timeout: float | None = None
    seed: int | None = None

    @property
    def name(self) -> str:
        return self.node.sweep_name

    @property
    def searched(self) -> list[Dimension]:
        return [d for d in self.dims if d.kind != "fixed"]

    @property
    def variables(self) -> set[str]:
        return {d.key for d in self.dims if d.target.kind == "variable"}

    def trial_count(self, text: str) -> int:
        """``trials``, else the grid's size for the grid sampler, else the default 20."""
        if self.trials is not None:
            return self.trials
        if self.sampler == "grid":
            return math.prod(len(d.grid(text)) for d in self.searched)
        return DEFAULT_TRIALS


# ---- reading a block ---------------------------------------------------------------------

def read_space(node: n.SweepDef, run: Run, reporter: Reporter) -> Space:
    """The space of ``node`` for ``run``; every problem reported, nothing raised."""
    space = Space(node, run.name)
    seen: dict[str, n.SweepEntry] = {}
    for entry in node.entries:
        if entry.key in seen:
            reporter.error("duplicate", entry.path[0].span, f'sweep entry "{entry.key}" is '
                           f"already given at line {seen[entry.key].span.line}")
            continue
        seen[entry.key] = entry
        if entry.key in SETTINGS:
            _setting(space, entry, run, reporter)
            continue
        target = bind_key(entry, run, reporter)
        if target is not None:
            dim = read_dimension(entry, target, reporter)
            if dim is not None:
                space.dims.append(dim)
    _finish_settings(space, seen, run, reporter)
    return space


def bind_key(entry: n.SweepEntry, run: Run, reporter: Reporter) -> Target | None:
    """What the key of ``entry`` sets; None (with an error) when it names nothing."""
    names = [p.id for p in entry.path]
    hypers = _hypers(run)
    if len(names) == 1:
        return _bare(entry, names[0], hypers, reporter)
    head, rest = (names[1], names[2:]) if names[0] == "train" and len(names) == 3 \
        else (names[0], names[1:])
    if len(rest) != 1:
        return _bad_key(entry, "a sweep key has at most three parts (train.optimizer.lr)",
                        reporter)
    name, span = rest[0], entry.path[-1].span
    if head == "model" and names[0] == "model":
        return _known(Target("hyper", name), name, hypers, span, f"model {_model_name(run)} "
                      "has no hyperparameter", reporter)
    if head in ("train", "data") and len(names) == 2:
        return _known(Target(head, name), name, _setting_names(head), span,
                      f"there is no {head} setting", reporter)
    if head in CALL_SETTINGS:
        entry_of = _call_entry(run, head)
        args = entry_of.arg_names if entry_of is not None else []
        return _known(Target("call", name, head), name, args, span,
                      f"{head} {entry_of.name if entry_of else ''} has no argument", reporter)
    return _bad_key(entry, f'unknown sweep target "{entry.key}": a dotted key starts with '
                    "model, train, data or a train setting holding a call ("
                    + ", ".join(CALL_SETTINGS) + ")"
                    + did_you_mean(head, ["model", "train", "data", *CALL_SETTINGS]), reporter)


def _bare(entry, name: str, hypers: list[str], reporter: Reporter) -> Target | None:
    meanings = [Target("hyper", name)] if name in hypers else []
    meanings += [Target(block, name) for block in ("train", "data")
                 if name in _setting_names(block)]
    if len(meanings) > 1:
        spelled = " or ".join(f"{'model' if t.kind == 'hyper' else t.kind}.{name}"
                              for t in meanings)
        reporter.error("ambiguous", entry.path[0].span, f'"{name}" is both a hyperparameter '
                       "of the model and a setting" if meanings[0].kind == "hyper" else
                       f'"{name}" is a setting of more than one block', hint=f"write {spelled}")
        return None
    return meanings[0] if meanings else Target("variable", name)


def _known(target, name, names, span, what, reporter) -> Target | None:
    if name in names:
        return target
    reporter.error("unknown-name", span, f'{what} "{name}"' + did_you_mean(name, names))
    return None


def _bad_key(entry, message: str, reporter: Reporter) -> None:
    reporter.error("unknown-name", entry.span if len(entry.path) > 1 else entry.path[0].span,
                   message)


def _model_name(run: Run) -> str:
    return run.model.node.name.id if run.model is not None else "?"


def _hypers(run: Run) -> list[str]:
    return [h.name.id for h in run.model.node.hyper_params] if run.model is not None else []


def _setting_names(block: str) -> list[str]:
    return list(REGISTRY.get("settings", block).arg_names)


def _call_entry(run: Run, setting: str):
    bound = getattr(run, setting, None)
    if setting == "optimizer" and bound is None:
        return REGISTRY.get("optimizer", "adam")
    return bound.entry if bound is not None else None


# ---- distributions -------------------------------------------------------------------------

def read_dimension(entry: n.SweepEntry, target: Target, reporter: Reporter) -> Dimension | None:
    value = entry.value
    if not (isinstance(value, n.Call) and value.func.id in DISTRIBUTIONS):
        return Dimension(entry.key, entry, target, "fixed", choices=[value])
    if value.func.id == "choice":
        if value.keywords or not value.args:
            reporter.error("arguments", value.span, "choice(...) takes one or more values, "
                           "by position: choice(32, 64, 128)")
            return None
        return Dimension(entry.key, entry, target, "choice", choices=list(value.args))
    return _range(entry, target, value, reporter)


def _range(entry, target, call: n.Call, reporter: Reporter) -> Dimension | None:
    kind = "int" if call.func.id == "int" else "float"
    args = _range_args(call, reporter)
    if args is None:
        return None
    low, high, step, log = args
    log = log or call.func.id == "loguniform"
    problem = _range_problem(kind, low, high, step, log, call.func.id)
    if problem:
        reporter.error("sweep-range", call.span, f"{call.func.id}(...): {problem}")
        return None
    if kind == "int" and step is None:
        step = 1
    return Dimension(entry.key, entry, target, kind, low, high, step, bool(log))


def _range_args(call: n.Call, reporter: Reporter):
    names = ["low", "high"] + ([] if call.func.id == "loguniform" else ["step", "log"])
    given: dict[str, Any] = {}
    if len(call.args) > len(names):
        reporter.error("arguments", call.span, f"{call.func.id}(...) takes at most "
                       f"{len(names)} arguments ({', '.join(names)})")
        return None
    for name, arg in zip(names, call.args):
        given[name] = arg
    for keyword in call.keywords:
        if keyword.name.id not in names or keyword.name.id in given:
            what = "is given twice" if keyword.name.id in given else "is not an argument"
            reporter.error("arguments", keyword.name.span, f'"{keyword.name.id}" {what} of '
                           f"{call.func.id}(low, high{', step, log' if len(names) > 2 else ''})"
                           + did_you_mean(keyword.name.id, names))
            return None
        given[keyword.name.id] = keyword.value
    if "low" not in given or "high" not in given:
        reporter.error("arguments", call.span, f"{call.func.id}(...) needs low and high: "
                       f"{call.func.id}(1e-4, 1e-1)")
        return None
    values = {k: evaluate(v, {}, reporter) for k, v in given.items()}
    if any(contains_invalid(v) for v in values.values()):
        return None
    return values["low"], values["high"], values.get("step"), values.get("log", False)


def _range_problem(kind, low, high, step, log, func) -> str | None:
    numbers = (int, float)
    if not all(isinstance(v, numbers) and not isinstance(v, bool) for v in (low, high)):
        return "low and high must be numbers"
    if kind == "int" and not all(isinstance(v, int) for v in (low, high)):
        return f"int bounds must be integers, got {low!r} and {high!r} (or use uniform)"
    if step is not None and (isinstance(step, bool) or not isinstance(step, numbers)
                             or step <= 0 or (kind == "int" and not isinstance(step, int))):
        return f"step must be a positive {'integer' if kind == 'int' else 'number'}"
    if not isinstance(log, bool):
        return "log must be true or false"
    if low > high:
        return f"low ({low}) is above high ({high})"
    if log and low <= 0:
        return f"a log scale needs low above 0, got {low}"
    if log and step is not None:
        return "a range is either on a log scale or stepped, not both"
    return None


# ---- the sweep's own settings ----------------------------------------------------------------

def _setting(space: Space, entry: n.SweepEntry, run: Run, reporter: Reporter) -> None:
    value, key = entry.value, entry.key
    if key == "sampler" and isinstance(value, n.Call):
        value = _sampler_seed(space, value, reporter)
        if value is None:
            return
    word = value.id if isinstance(value, n.Name) else value.value \
        if isinstance(value, n.String) else "none" if isinstance(value, n.NoneLiteral) else None
    if key in ("monitor", "mode", "sampler", "pruner", "run"):
        allowed = {"mode": MODES, "sampler": SAMPLERS, "pruner": PRUNERS}.get(key)
        if word is None or (allowed and word not in allowed):
            shown = " or ".join(allowed) if allowed else "a name"
            reporter.error("type", value.span, f'sweep "{key}" must be {shown}'
                           + (did_you_mean(word, allowed) if word and allowed else ""))
            return
        setattr(space, key, word)
        return
    number = evaluate(value, {}, reporter)
    if contains_invalid(number):
        return
    if key == "timeout" and isinstance(value, n.NoneLiteral):
        return
    integer = key == "trials"
    ok = isinstance(number, int if integer else (int, float)) and not isinstance(number, bool) \
        and number > 0
    if not ok:
        what = {"trials": "a positive integer",
                "timeout": "a positive number of seconds (or none)"}[key]
        shown = reporter.source.text[value.span.start_pos:value.span.end_pos]
        reporter.error("type", value.span, f'sweep "{key}" must be {what}, got {shown}')
        return
    setattr(space, key, number)


def _sampler_seed(space: Space, call: n.Call, reporter: Reporter) -> n.Name | None:
    """``tpe(seed = 0)``: the sampler's name, its seed kept."""
    seed = call.keyword("seed")
    value = evaluate(seed.value, {}, reporter) if seed is not None else None
    if call.args or len(call.keywords) != 1 or not isinstance(value, int) \
            or isinstance(value, bool) or value < 0:
        reporter.error("arguments", call.span, f"{call.func.id}(...) takes one argument, "
                       f"seed = an integer of 0 or more: {call.func.id}(seed = 0)")
        return None
    space.seed = value
    return call.func


def _finish_settings(space: Space, seen: dict, run: Run, reporter: Reporter) -> None:
    has_val = run.data is not None and run.data.has_val
    if "monitor" not in seen:
        space.monitor = "val_loss" if has_val else "train_loss"
    if "mode" not in seen:
        space.mode = "min" if space.monitor.endswith("loss") else "max"
    logged = logged_metrics(run, with_val=has_val) if run.data is not None else None
    if logged is not None and space.monitor not in logged and "monitor" in seen:
        reporter.error("unknown-metric", seen["monitor"].value.span, f'the sweep monitors '
                       f'"{space.monitor}", which run "{run.name}" never logs'
                       + did_you_mean(space.monitor, logged),
                       hint="this run logs: " + ", ".join(logged))
    if space.sampler == "grid":
        for dim in space.searched:
            if dim.size() is None:
                reporter.error("sweep-grid", dim.span, f'the grid sampler needs every range '
                               f'stepped: "{dim.key}" is continuous',
                               hint="give it a step (uniform(0, 0.5, step = 0.1)) or use "
                               "choice(...)")


def suggest_target(name: str, run: Run) -> str | None:
    """The closest hyperparameter or setting an unused variable may have meant."""
    candidates = {h: f"model.{h}" for h in _hypers(run)}
    candidates.update({s: f"train.{s}" for s in _setting_names("train")})
    candidates.update({s: f"data.{s}" for s in _setting_names("data")})
    match = closest(name, candidates)
    return candidates[match] if match is not None else None
