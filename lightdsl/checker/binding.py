"""Binding calls and settings to vocabulary entries: arity, unknown keywords, types, ranges."""

from __future__ import annotations

from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..suggest import closest, did_you_mean
from ..vocab import types as value_types
from ..vocab.python import python_entry
from ..vocab.registry import REGISTRY, Entry
from ..vocab.types import Choice, Float, OneOf, Symbol, Tensor, TensorList, show
from .bound import Bound
from .constants import INVALID, any_invalid, contains_invalid, evaluate

__all__ = ["Bound", "bind_call", "bind_settings", "lookup"]  # Bound: see .bound


def lookup(kind: str, name: n.Name, reporter: Reporter, what: str | None = None) -> Entry | None:
    """The entry called ``name`` of ``kind``, or an 'unknown ...; did you mean' error."""
    found = REGISTRY.get(kind, name.id) or python_entry(kind, name.id)
    if found is None:
        suggestion = REGISTRY.suggest(kind, name.id)
        reporter.error("unknown-name", name.span, f'unknown {what or kind} "{name.id}"'
                       + suggestion, hint=None if suggestion else _known_list(kind))
    return found


def _known_list(kind: str) -> str | None:
    names = REGISTRY.names(kind)
    return f"known: {', '.join(names)}" if len(names) <= 20 else None


def bind_call(entry: Entry, call: n.Call, env: dict[str, Any],
              reporter: Reporter) -> Bound | None:
    """Bind a call's positional and keyword arguments to the entry's parameters."""
    if entry is python_entry(entry.kind, entry.name):  # the escape hatch: python("m:Name")
        from .python import bind_python  # only a spec with python(...) pays for its checker

        return bind_python(entry.kind, call, env, reporter)
    given: dict[str, n.Node] = {}
    params = entry.args
    if len(call.args) > len(params):
        extra = call.args[len(params)]
        reporter.error("arity", extra.span, f"{entry.name} takes at most {len(params)} "
                       f"argument{'s' if len(params) != 1 else ''} "
                       f"({_signature(entry)}), but {len(call.args)} were given")
    for param, arg in zip(params, call.args):
        given[param.name] = arg
    for keyword in call.keywords:
        _bind_keyword(entry, keyword, given, reporter)
    return _finish(entry, given, env, reporter, call.span, call.func.span)


def _bind_keyword(entry: Entry, keyword: n.Keyword, given: dict, reporter: Reporter) -> None:
    name = keyword.name.id
    if entry.arg(name) is None:
        suggestion = did_you_mean(name, entry.arg_names)
        reporter.error("unknown-keyword", keyword.name.span,
                       f'{entry.name} has no argument "{name}"' + suggestion,
                       hint=f"{entry.name}({_signature(entry)})")
        meant = closest(name, entry.arg_names)
        if meant and meant not in given:  # bind it as meant, so it is not also "missing"
            given[meant] = keyword.value
    elif name in given:
        reporter.error("duplicate", keyword.name.span,
                       f'argument "{name}" of {entry.name} is given twice')
    else:
        given[name] = keyword.value


def bind_settings(entry: Entry, settings: list[n.Setting], env: dict[str, Any],
                  reporter: Reporter, block: str, span) -> Bound:
    """Bind ``name = value`` settings of a block like keyword arguments of ``entry``."""
    given: dict[str, n.Node] = {}
    for setting in settings:
        name = setting.name.id
        if entry.arg(name) is None:
            reporter.error("unknown-setting", setting.name.span,
                           f'unknown setting "{name}" in a {block} block'
                           + did_you_mean(name, entry.arg_names))
        elif name in given:
            reporter.error("duplicate", setting.name.span,
                           f'"{name}" is set twice in this {block} block')
        else:
            given[name] = setting.value
    return _finish(entry, given, env, reporter, span, None, settings=True)


def _finish(entry, given, env, reporter, span, name_span, settings=False) -> Bound:
    """Evaluate given values, check types and ranges, fill defaults, report missing ones."""
    values: dict[str, Any] = {}
    for param in entry.args:
        node = given.get(param.name)
        if node is None:
            if param.required and not settings:
                reporter.error("arity", name_span or span,
                               f'{entry.name} is missing its argument "{param.name}"',
                               hint=f"{entry.name}({_signature(entry)})")
            values[param.name] = INVALID if param.required else param.default
            continue
        if isinstance(param.type, (Tensor, TensorList)):
            values[param.name] = node  # checked by shape inference
            continue
        values[param.name] = _checked_value(entry, param, node, env, reporter, settings)
    bound = Bound(entry, values, given, span)
    _cross_checks(bound, reporter)
    return bound


def _checked_value(entry, param, node, env, reporter, settings) -> Any:
    value = evaluate(node, env, reporter)
    if contains_invalid(value):
        return INVALID
    problem = param.type.problem(value)
    if problem and isinstance(value, (str, Symbol)):
        problem += did_you_mean(str(value), _choices(param.type))
    if problem:
        owner = f'"{param.name}"' if settings else f'argument "{param.name}" of {entry.name}'
        reporter.error("type", node.span, f"{owner}: {problem}",
                       hint=_fraction_hint(param, value)
                       or value_types.choice_hint(param.type, param.name, value))
        return INVALID
    return value_types.as_choice(param.type, value)  # bare `auto` means the string "auto"


def _cross_checks(bound: Bound, reporter: Reporter) -> None:
    if bound.entry.validate is None or any_invalid(bound.values.values()):
        return
    for arg, message in bound.entry.validate(bound.values):
        reporter.error("value", bound.span_of(arg), message)


def _signature(entry: Entry) -> str:
    parts = [a.name if a.required else f"{a.name}={show(a.default)}" for a in entry.args]
    return ", ".join(parts)


def _choices(type_) -> list[str]:
    if isinstance(type_, Choice):
        return list(type_.options)
    if isinstance(type_, OneOf):
        return [o for t in type_.types for o in _choices(t)]
    return []


def _fraction_hint(param, value) -> str | None:
    """`dropout(50)`: the user wrote a percentage where a fraction is wanted."""
    if isinstance(param.type, Float) and 1 in (param.type.le, param.type.lt) \
            and isinstance(value, (int, float)) and 1 < value <= 100:
        return f"this is a fraction, not a percentage: {value / 100:g}"
    return None
