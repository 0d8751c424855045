"""One point of a space applied to the spec: the AST a trial trains, as ``--set`` makes it.

A point maps keys to values as Optuna stores them (numbers; a choice's literal or its source
text). :func:`point_exprs` turns them into expressions (a range's number keeps the span of its
``int(...)`` call, a choice its own spans), sweep variables are substituted into the other
entries, and :func:`apply_point` writes every target into the run's train and data blocks
with :func:`lightdsl.overrides.apply_overrides`: the checker then checks the result as it
checks any spec, and its messages point into the sweep block.
"""

from __future__ import annotations

from typing import Any

from ..frontend import nodes as n
from ..overrides import apply_overrides
from .spaces import Dimension, Space


def value_expr(dim: Dimension, value: Any, text: str) -> n.Expr:
    """The expression of ``value`` (as Optuna stores it) for ``dim``."""
    if dim.kind == "fixed":
        return dim.choices[0]
    if dim.kind == "choice":
        return dim.choices[dim.labels(text).index(value)]
    return n.Number(span=dim.span, value=int(value) if dim.kind == "int" else float(value))


def substitute(expr: n.Expr, env: dict[str, n.Expr]) -> n.Expr:
    """``expr`` with every name of ``env`` replaced by its expression."""
    if isinstance(expr, n.Name):
        return env.get(expr.id, expr)
    if isinstance(expr, n.Call):
        return expr.replace(args=[substitute(a, env) for a in expr.args],
                            keywords=[k.replace(value=substitute(k.value, env))
                                      for k in expr.keywords])
    if isinstance(expr, n.ListExpr):
        return expr.replace(items=[substitute(i, env) for i in expr.items])
    if isinstance(expr, n.BinOp):
        return expr.replace(left=substitute(expr.left, env), right=substitute(expr.right, env))
    if isinstance(expr, n.Neg):
        return expr.replace(operand=substitute(expr.operand, env))
    return expr


def point_exprs(space: Space, point: dict[str, Any], text: str) -> dict[str, n.Expr]:
    """Every dimension's expression at ``point`` (fixed ones always; a searched one missing
    from ``point`` is left out), variables substituted."""
    exprs = {d.key: value_expr(d, point.get(d.key), text) for d in space.dims
             if d.kind == "fixed" or d.key in point}
    env = {k: e for k, e in exprs.items() if k in space.variables}
    return {k: substitute(e, env) for k, e in exprs.items() if k not in space.variables}


def apply_point(spec: n.Spec, space: Space, point: dict[str, Any], text: str) -> n.Spec:
    """A copy of ``spec`` whose run has the values of ``point``."""
    exprs = point_exprs(space, point, text)
    train = next(t for t in spec.trains if t.run_name == space.run)
    overrides: list[tuple[str, str, n.Expr]] = []
    hypers, calls = {}, {}
    for dim in space.dims:
        if dim.key not in exprs:
            continue
        target, expr = dim.target, exprs[dim.key]
        if target.kind in ("train", "data"):
            overrides.append((target.kind, target.name, expr))
        elif target.kind == "hyper":
            hypers[target.name] = expr
        elif target.kind == "call":
            calls.setdefault(target.setting, {})[target.name] = expr
    settings = {s.name.id: s.value for s in train.settings}
    settings.update({name: expr for kind, name, expr in overrides if kind == "train"})
    if hypers and "model" in settings:
        overrides.append(("train", "model", _with_hypers(spec, settings["model"], hypers)))
    for setting, keywords in calls.items():
        base = settings.get(setting) or _default_call(setting, train)
        if isinstance(base, n.Name):
            base = n.Call(span=base.span, func=base)
        if isinstance(base, n.Call):
            overrides.append(("train", setting, _with_keywords(base, keywords)))
    return apply_overrides(spec, space.run, _last_wins(overrides))


def _last_wins(overrides: list) -> list:
    """One override per setting (a `model` rewritten with hyperparameters replaces the one a
    `train.model` entry gave)."""
    found = {(kind, name): (kind, name, expr) for kind, name, expr in overrides}
    return list(found.values())


def _default_call(setting: str, train: n.TrainDef) -> n.Expr | None:
    if setting != "optimizer":
        return None
    span = train.keyword_span
    return n.Call(span=span, func=n.Name(span=span, id="adam"))


def _with_hypers(spec: n.Spec, model: n.Expr, hypers: dict[str, n.Expr]) -> n.Expr:
    """``model = Net(...)`` with the hyperparameters of ``hypers`` given: a positional
    argument replaced in place, a keyword replaced or added."""
    call = n.Call(span=model.span, func=model) if isinstance(model, n.Name) else model
    if not isinstance(call, n.Call):
        return model
    definition = next((m for m in spec.models if m.name.id == call.func.id), None)
    order = [h.name.id for h in definition.hyper_params] if definition else []
    args = list(call.args)
    rest = dict(hypers)
    for index in range(len(args)):
        name = order[index] if index < len(order) else None
        if name in rest:
            args[index] = rest.pop(name)
    return _with_keywords(call.replace(args=args), rest)


def _with_keywords(call: n.Call, values: dict[str, n.Expr]) -> n.Call:
    keywords = [k.replace(value=values[k.name.id]) if k.name.id in values else k
                for k in call.keywords]
    given = {k.name.id for k in call.keywords}
    for name, expr in values.items():
        if name not in given:
            keywords.append(n.Keyword(span=expr.span, name=n.Name(span=expr.span, id=name),
                                      value=expr))
    return call.replace(keywords=keywords)
