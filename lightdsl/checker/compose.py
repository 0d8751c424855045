"""Composition: models used as layers of other models (``block = ResBlock(64)``).

A :class:`ModelTable` knows every model of the spec. Each model is checked once with its
default hyperparameters; a use with other values checks the model again with them (once per
distinct set of values). Problems found inside a used model for one use go through a
:class:`NestedReporter`: the error stands at the use site and a note points at the line in
the used model. A model that uses itself, directly or through others, is an error naming the
cycle.
"""

from __future__ import annotations

from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Note, Reporter, Severity
from ..frontend.source import Span
from ..suggest import did_you_mean
from .constants import any_invalid, evaluate
from .models import ModelInfo, ModelUse, check_model, hyper_defaults


class NestedReporter(Reporter):
    """Reports what goes wrong inside a used model at its use site, with a note saying where
    inside. What the model's own check already reported (hyperparameter-independent
    mistakes, unused names) is not repeated at every use."""

    def __init__(self, base: Reporter, use_span: Span, model: ModelInfo):
        super().__init__(base.source)
        self.base, self.use_span, self.model = base, use_span, model
        self.errors = 0

    def report(self, severity: Severity, code: str, span: Span, message: str,
               hint: str | None = None, notes: list[Note] = ()) -> None:
        if severity == "error":
            self.errors += 1
        if not notes and self.base.seen(severity, code, span, message):
            return
        defined = self.model.node.name.span
        where = f"{self.base.file_of(defined)}:{defined.line}:{defined.column}"
        note = Note(file=self.base.file_of(span), span=span,
                    message=f"in {describe(self.model)}, defined at {where}")
        self.base.report(severity, code, self.use_span, message, hint, [note, *notes])

    @property
    def error_count(self) -> int:
        return self.errors

    def seen(self, severity: Severity, code: str, span: Span, message: str) -> bool:
        return self.base.seen(severity, code, span, message)  # the file's own reporter knows


def describe(info: ModelInfo) -> str:
    """``ResBlock(channels = 64)``: a model with the hyperparameters it was checked with."""
    values = ", ".join(f"{name} = {value!r}" for name, value in info.hypers.items()
                       if isinstance(value, (int, float, str, bool)))
    return f"{info.name}({values})" if values else info.name


class ModelTable:
    """The spec's models by name, each checked on demand and once per set of hyperparameters."""

    def __init__(self, models: dict[str, n.ModelDef], reporter: Reporter, check_alone):
        self.models, self.reporter, self.check_alone = models, reporter, check_alone
        self.checked: dict[tuple, ModelInfo] = {}
        self.defaults: dict[str, ModelInfo] = {}
        self.stack: list[str] = []  # the models being checked, outermost first
        self.uses: dict[str, set[str]] = {}  # model -> the models it uses as layers

    def defines(self, name: str) -> bool:
        return name in self.models

    def names(self) -> list[str]:
        return list(self.models)

    def default(self, name: str) -> ModelInfo:
        """The model with its default hyperparameters, checked alone (errors reported as they
        are, at the model's own lines)."""
        if name not in self.defaults:
            self.stack.append(name)
            try:
                self.defaults[name] = self.check_alone(self.models[name], self.reporter, self)
            finally:
                self.stack.pop()
            self.checked.setdefault(_key(name, self.defaults[name].hypers), self.defaults[name])
        return self.defaults[name]

    def use(self, call: n.Call, env: dict[str, Any], reporter: Reporter) -> ModelUse | None:
        """The model called ``call.func`` used as a layer, its hyperparameters given by
        ``call`` (evaluated with ``env``, the using model's hyperparameters)."""
        name = call.func.id
        if self.stack:
            self.uses.setdefault(self.stack[-1], set()).add(name)
        if name in self.stack:
            cycle = " -> ".join([*self.stack[self.stack.index(name):], name])
            reporter.error("recursion", call.func.span, f"model {name} uses itself: {cycle}",
                           hint="a model cannot contain itself; use another model here")
            return None
        base = self.default(name)
        hypers = self._hypers(base, call, env, reporter)
        if hypers is None:
            return None
        key = _key(name, hypers)
        if key not in self.checked:
            self.stack.append(name)
            try:
                nested = NestedReporter(reporter, call.span, ModelInfo(base.node, hypers))
                info = check_model(base.node, hypers, nested, self)
            finally:
                self.stack.pop()
            self.checked[key] = info
        return ModelUse(self.checked[key], call.span, call)

    def reachable(self, names: set[str]) -> set[str]:
        """``names`` and every model they use, directly or through others."""
        found, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name not in found:
                found.add(name)
                todo.extend(self.uses.get(name, ()))
        return found

    def _hypers(self, base: ModelInfo, call: n.Call, env: dict, reporter: Reporter):
        names = [h.name.id for h in base.node.hyper_params]
        hypers = dict(base.hypers)
        if len(call.args) > len(names):
            reporter.error("arity", call.args[len(names)].span, f"model {base.name} has "
                           f"{len(names)} hyperparameter{'s' if len(names) != 1 else ''}, but "
                           f"{len(call.args)} values were given")
            return None
        given = list(zip(names, call.args))
        for keyword in call.keywords:
            if given_twice(base.name, keyword, {name for name, _ in given}, reporter):
                return None
            if keyword.name.id not in hypers:
                reporter.error("unknown-keyword", keyword.name.span, f"model {base.name} has "
                               f'no hyperparameter "{keyword.name.id}"'
                               + did_you_mean(keyword.name.id, names))
                return None
            given.append((keyword.name.id, keyword.value))
        for name, node in given:
            hypers[name] = evaluate(node, env, reporter)
        if any_invalid(hypers.values()):
            return None
        return rederive(base.node, hypers, {name for name, _ in given}, reporter)


def given_twice(model: str, keyword: n.Keyword, given: set[str], reporter: Reporter) -> bool:
    """A hyperparameter given again (``Net(width = 4, width = 5)``, or by position and by
    name) is an error, as a repeated layer argument is: which value was meant is a guess."""
    if keyword.name.id not in given:
        return False
    reporter.error("duplicate", keyword.name.span, f'hyperparameter "{keyword.name.id}" of '
                   f"model {model} is given twice")
    return True


def rederive(model: n.ModelDef, hypers: dict, given: set[str], reporter: Reporter) -> dict:
    """Defaults written with earlier hyperparameters (``hidden = 2 * c``) follow the values
    given at the use site."""
    if not given or not any(h.name.id not in given for h in model.hyper_params):
        return hypers
    env: dict[str, Any] = {}
    for hyper in model.hyper_params:
        name = hyper.name.id
        env[name] = hypers[name] if name in given else evaluate(hyper.default, env, reporter)
    return env


def _key(name: str, hypers: dict) -> tuple:
    return (name, repr(sorted(hypers.items())))


__all__ = ["ModelTable", "NestedReporter", "describe", "hyper_defaults"]
