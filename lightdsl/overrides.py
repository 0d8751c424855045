"""Command-line overrides of spec settings: ``--set train.max_epochs=5``, ``--max-epochs 5``.

Each value is parsed with the spec grammar and checked against the same vocabulary entry as
the setting it replaces, so ``--max-epochs 0`` is refused with the same words as
``max_epochs = 0`` in a spec. The checked value then replaces the setting in the AST.

A value's spans point into the override's own text (``Span.origin``), so every problem with
it, found here or by the later check of the whole spec, is shown where the user typed it:
``--set:1:17`` with ``train.precision=bf16-mix`` as the source line.
"""

from __future__ import annotations

from .checker.constants import contains_invalid, evaluate
from .errors import UsageError
from .frontend import nodes as n
from .frontend.diagnostics import Reporter, render_text
from .frontend.parser import parse_value
from .frontend.source import SourceFile
from .suggest import did_you_mean
from .vocab.registry import REGISTRY
from .vocab.types import Symbol, choice_hint, choices

BLOCKS = ("train", "data")


def parse_override(text: str, shown: str | None = None) -> tuple[str, str, n.Expr]:
    """``"train.max_epochs=5"`` -> ("train", "max_epochs", expression); UsageError if bad.

    ``shown`` is how the user wrote it (``--max-epochs 0``), for messages; by default
    ``--set train.max_epochs=5``.
    """
    label = shown or f"--set {text}"
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
    source, start = override_source(text, shown)
    return block, name, _checked_expression(label, source, start, block, name)


def parse_overrides(items: list) -> list[tuple[str, str, n.Expr]]:
    """Every override parsed (an item is ``"KEY=VALUE"`` or ``(text, shown)``); a setting
    given twice is a UsageError naming both, as a repeated keyword in a spec is an error."""
    parsed, first_seen = [], {}
    for item in items:
        text, shown = item if isinstance(item, tuple) else (item, None)
        block, name, expr = parse_override(text, shown)
        label = shown or f"--set {text}"
        earlier = first_seen.setdefault((block, name), label)
        if earlier != label:
            raise UsageError(f"{label}: {block}.{name} is already set by {earlier}; "
                             "give each setting once")
        parsed.append((block, name, expr))
    return parsed


def override_source(text: str, shown: str | None) -> tuple[SourceFile, int]:
    """The text to show for an override and where its value starts in it: ``--set`` with
    ``KEY=VALUE``, or a shortcut option (``--max-epochs``) with its argument."""
    value_start = text.index("=") + 1
    value_start += len(text[value_start:]) - len(text[value_start:].lstrip())
    value = text[value_start:].rstrip()
    option, _, argument = (shown or "").partition(" ")
    if not shown or option == "--set" or not option.startswith("-"):
        return SourceFile(text, "--set"), value_start
    if argument.strip() == value:  # the argument as typed, e.g. `--max-epochs 5`
        return SourceFile(argument, option), len(argument) - len(argument.lstrip())
    return SourceFile(value, option), 0  # the argument was quoted to parse as a string


def _checked_expression(label: str, source: SourceFile, start: int, block: str,
                        name: str) -> n.Expr:
    reporter = Reporter(source)
    expr = parse_value(source, start, reporter)
    if expr is not None and not reporter.has_errors:
        _check_type(block, name, expr, reporter)
    if reporter.has_errors:
        rendered = "\n".join(render_text(d, source) for d in reporter.sorted())
        raise UsageError(f"{label} is not valid:\n{rendered}")
    return expr


def _check_type(block: str, name: str, expr: n.Expr, reporter: Reporter) -> None:
    """Report what is wrong with the value as the spec's check would (it checks it again,
    with the rest of the spec, once the override is in place)."""
    type_ = REGISTRY.get("settings", block).arg(name).type
    value = evaluate(expr, {}, reporter)
    if contains_invalid(value) or reporter.has_errors:
        return
    problem = type_.problem(value)
    if problem is None:
        return
    if isinstance(value, (str, Symbol)):
        problem += did_you_mean(str(value), choices(type_))
    reporter.error("type", expr.span, f'"{name}": {problem}',
                   hint=choice_hint(type_, name, value))


def apply_overrides(spec: n.Spec, run_name: str, overrides: list[tuple[str, str, n.Expr]]):
    """A copy of ``spec`` whose run ``run_name`` (and its data block) has the overrides."""
    trains = [_override_block(t, overrides, "train") if t.run_name == run_name else t
              for t in spec.trains]
    data_name = _data_of(next((t for t in trains if t.run_name == run_name), None))
    data = [_override_block(d, overrides, "data") if d.name.id == data_name else d
            for d in spec.data]
    return spec.replace(trains=trains, data=data)


def _override_block(block, overrides, kind: str):
    settings = list(block.settings)
    for target, name, expr in overrides:
        if target != kind:
            continue
        index = next((i for i, s in enumerate(settings) if s.name.id == name), None)
        span = settings[index].span if index is not None else block.span
        # the value keeps its spans in the override's text: problems are shown there
        setting = n.Setting(span=span, name=n.Name(span=span, id=name), value=expr)
        if index is None:
            settings.append(setting)
        else:
            settings[index] = setting
    # an override of X replaces the block's X(...) statement too, where a setting and a
    # statement share the name: --set train.compile=false turns compile(...) off
    replaced = {name for target, name, _ in overrides if target == kind}
    calls = [c for c in block.calls if c.func.id not in replaced]
    return block.replace(settings=settings, calls=calls)


def _data_of(train: n.TrainDef | None) -> str | None:
    for setting in train.settings if train else []:
        if setting.name.id == "data" and isinstance(setting.value, n.Name):
            return setting.value.id
    return None
