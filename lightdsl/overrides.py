"""Command-line overrides of spec settings: ``--set train.max_epochs=5``, ``--max-epochs 5``.

Each value is parsed with the spec grammar and checked against the same vocabulary entry as
the setting it replaces, so ``--max-epochs 0`` is refused with the same words as
``max_epochs = 0`` in a spec. The checked value then replaces the setting in the AST.
"""

from __future__ import annotations

from . import nodes as n
from .diagnostics import Reporter, did_you_mean
from .errors import UsageError
from .evaluate import contains_invalid, evaluate
from .frontend import SourceFile
from .parser import parse
from .vocab.registry import REGISTRY

BLOCKS = ("train", "data")


def parse_override(text: str, shown: str | None = None) -> tuple[str, str, n.Expr]:
    """``"train.max_epochs=5"`` -> ("train", "max_epochs", expression); UsageError if bad.

    ``shown`` is how the user wrote it (``--max-epochs 0``), for messages; by default
    ``--set 'train.max_epochs=5'``.
    """
    label = shown or f"--set {text!r}"
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise UsageError(f"{label}: expected KEY=VALUE, e.g. --set train.max_epochs=5")
    block, _, name = key.strip().rpartition(".")
    block = block or "train"
    if block not in BLOCKS:
        raise UsageError(f"{label}: the block must be one of {', '.join(BLOCKS)}"
                         + did_you_mean(block, BLOCKS).replace(";", ","))
    entry = REGISTRY.get("settings", block)
    if entry.arg(name) is None:
        raise UsageError(f"{label}: unknown {block} setting \"{name}\""
                         + did_you_mean(name, entry.arg_names))
    return block, name, _checked_expression(label, block, name, value.strip())


def _checked_expression(label: str, block: str, name: str, value: str) -> n.Expr:
    source = SourceFile(f"{block} override {{ {name} = {value} }}", label)
    reporter = Reporter(source)
    spec = parse(source, reporter)
    settings = (spec.trains or spec.data)[0].settings if (spec.trains or spec.data) else []
    if reporter.has_errors or len(settings) != 1:
        raise UsageError(f"{label}: {value!r} is not a valid value")
    expr = settings[0].value
    problem = _type_problem(block, name, expr, reporter)
    if problem:
        raise UsageError(f"{label}: {problem}")
    return expr


def _type_problem(block: str, name: str, expr: n.Expr, reporter: Reporter) -> str | None:
    arg = REGISTRY.get("settings", block).arg(name)
    value = evaluate(expr, {}, reporter)
    if contains_invalid(value) or reporter.has_errors:
        return reporter.diagnostics[0].message if reporter.diagnostics else "invalid value"
    return arg.type.problem(value)


def apply_overrides(spec: n.Spec, run_name: str, overrides: list[tuple[str, str, n.Expr]]):
    """A copy of ``spec`` whose run ``run_name`` (and its data block) has the overrides."""
    trains = [_override_block(t, overrides, "train") if t.run_name == run_name else t
              for t in spec.trains]
    data_name = _data_of(next((t for t in trains if t.run_name == run_name), None))
    data = [_override_block(d, overrides, "data") if d.name.id == data_name else d
            for d in spec.data]
    return spec.model_copy(update={"trains": trains, "data": data})


def _override_block(block, overrides, kind: str):
    settings = list(block.settings)
    for target, name, expr in overrides:
        if target != kind:
            continue
        index = next((i for i, s in enumerate(settings) if s.name.id == name), None)
        span = settings[index].span if index is not None else block.span
        setting = n.Setting.model_construct(span=span, name=n.Name.model_construct(
            span=span, id=name), value=_respan(expr, span))
        if index is None:
            settings.append(setting)
        else:
            settings[index] = setting
    return block.model_copy(update={"settings": settings})


def _respan(expr: n.Expr, span) -> n.Expr:
    """Move an override's expression onto the setting it replaces, for any later message."""
    return expr.model_copy(update={"span": span})


def _data_of(train: n.TrainDef | None) -> str | None:
    for setting in train.settings if train else []:
        if setting.name.id == "data" and isinstance(setting.value, n.Name):
            return setting.value.id
    return None
