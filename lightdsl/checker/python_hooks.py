"""The hooks of a ``python("module:Name")`` callback or logger, checked from its source.

The trainer calls a callback's hooks and a logger's methods by name
(:data:`lightdsl.run_settings.CALLBACK_HOOKS`, :data:`~lightdsl.run_settings.LOGGER_HOOKS`), so
a misspelt one (``on_epoch_end``, ``log_metric``) is never called and fails silently. ``check``
reads the class's own methods with :mod:`ast` (nothing is imported) and reports, at the
spec's ``"module:Name"``:

- a method that looks like a hook (``on_...`` in a callback, ``log_...`` in a logger, or close
  to a hook's name) but is none, with did-you-mean;
- a hook whose parameters cannot take what the trainer passes (too few, or more required);
- a logger without ``log_metrics`` (unless it may inherit it from a base class).
"""

from __future__ import annotations

import ast

from .. import run_settings as rs
from ..frontend.diagnostics import Reporter
from ..frontend.source import Span
from ..suggest import closest, did_you_mean

HOOKS = {"callback": rs.CALLBACK_HOOKS, "logger": rs.LOGGER_HOOKS}
PREFIX = {"callback": "on_", "logger": "log_"}  # a public method so named is meant as a hook
REQUIRED = {"logger": "log_metrics"}


def check_hooks(kind: str, ref, cls: ast.ClassDef, span: Span, reporter: Reporter) -> None:
    """Report the mistakes in class ``cls``'s hooks at ``span`` (the class name in the spec)."""
    hooks = HOOKS.get(kind)
    if hooks is None:
        return
    where = f"{ref.module}, line {{line}}"
    methods = _methods(cls)
    for name, function in methods.items():
        if name in hooks:
            _check_arity(kind, ref, function, hooks[name], span, reporter, where)
        elif _looks_like_hook(kind, name, hooks):
            line = where.format(line=function.lineno)
            reporter.error("python-hook", span, f"{ref.name}.{name} ({line}) is not a {kind} "
                           "hook lightdsl calls"
                           + did_you_mean(name, hooks), hint=f"{kind} hooks: "
                           + ", ".join(hooks))
    required = REQUIRED.get(kind)
    if required and required not in methods and not _may_inherit(cls):
        reporter.error("python-hook", span, f"{ref.name} defines no {required}"
                       f"({', '.join(hooks[required])}), which every logger needs",
                       hint=f"def {required}(self, {', '.join(hooks[required])}): ...")


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    """The class's own public methods by name (properties and private helpers left out)."""
    found = {}
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and not node.name.startswith("_") and not _is_property(node):
            found[node.name] = node
    return found


def _is_property(node) -> bool:
    return any(isinstance(d, ast.Name) and d.id in ("property", "staticmethod", "classmethod")
               or isinstance(d, ast.Attribute) for d in node.decorator_list)


def _looks_like_hook(kind: str, name: str, hooks: dict) -> bool:
    return name.startswith(PREFIX[kind]) or closest(name, hooks) is not None


def _may_inherit(cls: ast.ClassDef) -> bool:
    """Whether the class has a base other than ``object`` (whose methods check cannot see)."""
    return any(not (isinstance(b, ast.Name) and b.id == "object") for b in cls.bases)


def _check_arity(kind, ref, function, passed: tuple[str, ...], span, reporter, where) -> None:
    """Whether ``function`` can be called with the ``passed`` arguments (after self)."""
    args = function.args
    positional = [a.arg for a in args.posonlyargs + args.args][1:]  # without self
    required = len(positional) - len(args.defaults)
    required_kw = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    least = rs.OPTIONAL_HOOK_ARGS.get((kind, function.name), len(passed))
    takes_enough = args.vararg is not None or len(positional) >= len(passed)
    fits = (takes_enough or len(positional) >= least) and required <= len(passed) \
        and not required_kw
    if fits:
        return
    line = where.format(line=function.lineno)
    wanted = f"({', '.join(('self', *passed))})"
    written = f"({', '.join(('self', *positional))})"
    reporter.error("python-hook", span, f"{ref.name}.{function.name} ({line}) takes "
                   f"{written}, but the trainer calls it with {wanted}",
                   hint=f"def {function.name}{wanted}: ...")
