"""The Python escape hatch at check time: ``python("module:Name", key = value, shape = ...)``.

The call binds to an entry of its own: its arguments are the keywords the spec gives (passed to
the Python object when building), its target is ``module.Name``, its name is ``Name``. What
``check`` verifies without importing the module (see :mod:`.pysource`): the ``"module:Name"``
text, that the module can be found (the spec's folder first, then ``sys.path``), that it
defines or imports ``Name`` at top level, that a layer is a class and a metric a function when
the source says so, and the keyword names against the class's own ``__init__`` when it has one
without ``**kwargs``. What it cannot know: the object's behaviour, its parameters (so a model
made only of Python layers is assumed trainable) and, unless declared, its output shape.
"""

from __future__ import annotations

import keyword
import os
from dataclasses import dataclass
from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..frontend.source import Span
from ..suggest import did_you_mean
from ..vocab.registry import Arg, Entry
from ..vocab.shapes import ShapeError, fmt
from ..vocab.types import CallValue, Symbol, Type
from .bound import Bound
from .constants import INVALID, contains_invalid, evaluate
from .pysource import NotFound, find_module, init_parameters, module_names
from .python_hooks import check_hooks

SHAPE = "shape"  # the keyword lightdsl keeps for itself (a layer's declared output shape)
WANTED = {"layer": ("class", "a torch.nn.Module class"),
          "metric": ("function", "a function metric(output, labels) -> scalar tensor"),
          "callback": ("class", "a class with the trainer's hooks (on_fit_start, ...)"),
          "logger": ("class", "a class with log_metrics(metrics, step)")}
PROVIDED = {"logger": ("log_dir",)}  # arguments the trainer passes itself (the run folder)


class AnyValue(Type):
    """A constant passed through to Python as it is."""

    def describe(self) -> str:
        return "a constant"

    def accepts(self, value: Any) -> bool:
        return True


@dataclass(frozen=True)
class PythonRef:
    """Where a ``python(...)`` target lives: the module, the name, what the source says the
    name is ("class", "function", "value", "imported" or None when unknown), and the folder
    the builder and generated scripts must put on ``sys.path`` (None when imports find it)."""

    module: str
    name: str
    kind: str | None
    path_dir: str | None
    where: str  # "spec.lit:3:5", for errors raised while building

    @property
    def text(self) -> str:
        return f"{self.module}:{self.name}"


class PythonBound(Bound):
    """A bound ``python(...)`` call; ``ref`` says where the object is, ``values`` are the
    keyword arguments for it, ``shape`` the declared output shape rule's source, if any."""

    def __init__(self, entry: Entry, values: dict, nodes: dict, span, ref: PythonRef,
                 declared: Any = None):
        super().__init__(entry, values, nodes, span)
        self.ref, self.declared = ref, declared


def bind_python(kind: str, call: n.Call, env: dict[str, Any], reporter: Reporter) -> Bound | None:
    """Bind ``python("module:Name", ...)`` used as a ``kind`` (layer, loss or metric)."""
    if not call.args or not isinstance(call.args[0], n.String):
        where = call.args[0].span if call.args else call.span
        reporter.error("python", where, 'python(...) needs the object as a string first: '
                       'python("module:Name")', hint='for example python("mypkg.layers:Swish")')
        return None
    for extra in call.args[1:]:
        reporter.error("arity", extra.span, "python(...) takes its arguments by keyword: "
                       'python("module:Name", name = value)')
    ref, cls = _reference(kind, call.args[0], reporter)
    values, nodes, declared = _keywords(kind, call, env, reporter)
    if ref is None:
        return None
    if cls is not None:
        _check_keywords(ref, cls, call, reporter, PROVIDED.get(kind, ()))
        check_hooks(kind, ref, cls, _inside(call.args[0], len(ref.module) + 1, len(ref.text)),
                    reporter)
    args = tuple(Arg(name, AnyValue(), None) for name in values)
    entry = Entry(kind=kind, name=ref.name, args=args, target=f"{ref.module}.{ref.name}",
                  shape=_shape_rule(declared, ref), doc=f"python({ref.text!r})",
                  tensor_inputs=1 if kind == "layer" else 0)  # a Python layer takes one tensor
    return PythonBound(entry, values, nodes, call.span, ref, declared)


# ---- "module:Name" ----
def _reference(kind: str, node: n.String, reporter: Reporter):
    """(the reference, the class's ast node when the module defines it) or (None, None)."""
    text = node.value
    problem = _format_problem(text)
    if problem is not None:
        start, end, message, hint = problem
        reporter.error("python", _inside(node, start, end), message, hint=hint)
        return None, None
    module, name = text.split(":")
    spec_dir = os.path.dirname(os.path.abspath(reporter.source.path))
    try:
        found = find_module(module, spec_dir)
    except NotFound as missing:
        reporter.error("python", _inside(node, 0, len(missing.module)),
                       f'cannot find Python module "{missing.module}"'
                       + did_you_mean(missing.module, missing.nearby),
                       hint="modules are searched in the spec's folder, then on sys.path "
                       "(PYTHONPATH)")
        return None, None
    looked_up = _look_up(kind, node, module, name, found.origin, reporter)
    if looked_up is None:
        return None, None
    where = f"{reporter.source.path}:{node.span.line}:{node.span.column}"
    path_dir = spec_dir if found.in_spec_dir else None
    return PythonRef(module, name, looked_up[0], path_dir, where), looked_up[1]


def _format_problem(text: str):
    """(start, end, message, hint) for a malformed "module:Name", else None."""
    example = 'write "module:Name", for example "mypkg.layers:Swish"'
    if ":" not in text:
        module, dot, name = text.rpartition(".")
        hint = f'"{module}:{name}"' if dot and module else None
        return 0, len(text), f'"{text}" does not say which name to take from the module; '\
            + example, f"perhaps {hint}" if hint else None
    if text.count(":") > 1:
        second = text.index(":", text.index(":") + 1)
        return second, second + 1, 'only one ":" may separate the module from the name; ' \
            + example, None
    module, name = text.split(":")
    if not module:
        return 0, 1, "the module is missing before the colon; " + example, None
    offset = 0
    for part in module.split("."):
        if not _identifier(part):
            return offset, offset + max(len(part), 1), \
                f'"{part}" is not a valid Python module name', None
        offset += len(part) + 1
    if not _identifier(name):
        start = len(module) + 1
        message = f'"{name}" is not a valid Python name (one identifier defined at the top ' \
            "level of the module)"
        return start, start + max(len(name), 1), message, None
    return None


def _identifier(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def _inside(node: n.String, start: int, end: int) -> Span:
    """The span of characters ``start:end`` of a one-line string literal's value."""
    raw_length = node.span.end_column - node.span.column - 2
    if node.span.end_line != node.span.line or raw_length != len(node.value):
        return node.span  # escapes inside: columns would not line up, point at the string
    column, pos = node.span.column + 1 + start, node.span.start_pos + 1 + start
    return Span.point(node.span.line, column, pos, max(end - start, 1))


def _look_up(kind, node, module, name, origin, reporter) -> tuple | None:
    """(what ``name`` is in the module's source, its ast.ClassDef or None); None after an
    error (missing, or the wrong kind of object)."""
    try:
        names = module_names(origin)
    except (SyntaxError, OSError, UnicodeDecodeError, ValueError) as error:
        reporter.error("python", _inside(node, 0, len(module)), f'cannot read Python module '
                       f'"{module}" ({origin}): {type(error).__name__}: {error}')
        return None
    found = names.kinds.get(name)
    start = len(module) + 1
    if found is None and not names.open:
        reporter.error("python", _inside(node, start, start + len(name)),
                       f'Python module "{module}" defines no "{name}"'
                       + did_you_mean(name, names.kinds), hint=f"looked in {origin}")
        return None
    wanted = WANTED.get(kind)
    if wanted and found in ("class", "function") and found != wanted[0]:
        reporter.error("python", _inside(node, start, start + len(name)),
                       f'"{name}" is a {found}, but a python {kind} must be {wanted[1]}')
        return None
    return found, names.classes.get(name)


# ---- keyword arguments ----
def _keywords(kind, call: n.Call, env, reporter) -> tuple[dict, dict, Any]:
    values, nodes, declared = {}, {}, None
    for kw in call.keywords:
        name = kw.name.id
        if name in nodes or (name == SHAPE and declared is not None):
            reporter.error("duplicate", kw.name.span, f'argument "{name}" is given twice')
            continue
        value = _constant(kw.value, env, reporter)
        if name == SHAPE:
            declared = _declared_shape(kind, kw, value, reporter)
        else:
            values[name], nodes[name] = value, kw.value
    if kind == "metric" and values:
        first = call.keyword(next(iter(values)))
        reporter.error("python", first.name.span, "a python metric is called as "
                       "metric(output, labels) and takes no arguments here",
                       hint="fix them in your function (functools.partial at module level)")
    return values, nodes, declared


def _constant(node: n.Expr, env, reporter) -> Any:
    value = evaluate(node, env, reporter)
    if contains_invalid(value):
        return INVALID
    if isinstance(value, (Symbol, CallValue)) or _has_symbol(value):
        reporter.error("type", node.span, "arguments of python(...) must be constants "
                       "(numbers, strings, booleans, none, lists) or hyperparameters"
                       + (did_you_mean(value.name, env) if isinstance(value, Symbol) else ""))
        return INVALID
    return value


def _has_symbol(value) -> bool:
    return isinstance(value, list) and any(isinstance(v, (Symbol, CallValue)) or _has_symbol(v)
                                           for v in value)


def _declared_shape(kind: str, kw: n.Keyword, value: Any, reporter: Reporter) -> Any:
    if kind != "layer":
        reporter.error("python", kw.name.span, f"shape declares a layer's output; a python "
                       f"{kind} has none")
        return None
    ok = value == "same" or (isinstance(value, list) and value and all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in value))
    if value is not INVALID and not ok:
        reporter.error("type", kw.value.span, 'shape must be "same" (the output has the '
                       "input's shape) or the output's sizes without the batch, e.g. [64] or "
                       "[16, 8, 8]")
        return None
    return value if ok else None


def _check_keywords(ref: PythonRef, cls, call: n.Call, reporter: Reporter,
                    provided: tuple[str, ...] = ()) -> None:
    """Keyword names against the class's own ``__init__`` (when the source shows it);
    ``provided``: what the trainer passes itself (a spec may not give it)."""
    params = init_parameters(cls)
    if params is None:
        return
    accepted, required = params
    accepted = [a for a in accepted if a not in provided]
    required = [r for r in required if r not in provided]
    given = [kw for kw in call.keywords if kw.name.id != SHAPE]
    for kw in given:
        if kw.name.id not in accepted:
            reporter.error("unknown-keyword", kw.name.span, f'{ref.name}.__init__ has no '
                           f'argument "{kw.name.id}"' + did_you_mean(kw.name.id, accepted),
                           hint=f"{ref.name}({', '.join(accepted)})")
    missing = [r for r in required if r not in {kw.name.id for kw in given}]
    if missing:
        reporter.error("arity", call.func.span, f'{ref.name} needs the argument "{missing[0]}"'
                       f" ({ref.text})", hint=f"{ref.name}({', '.join(accepted)})")


# ---- shape ----
def _shape_rule(declared: Any, ref: PythonRef):
    """The declared output shape as a shape rule; no rule (unknown) when none is declared."""
    if declared is None:
        return None
    if declared == "same":
        return lambda inputs, args: inputs[0]

    def rule(inputs, args):
        (shape,) = inputs
        if shape is not None and len(shape) < 1:
            raise ShapeError(f"{ref.name} needs a batch, but {fmt(shape)} arrives")
        return (None, *declared)

    return rule
