"""Constant evaluation of spec expressions: literals, lists, hyperparameters and arithmetic.

``evaluate`` turns an expression of a setting, argument or hyperparameter into a plain value
(see :mod:`lightdsl.vocab.types`). Hyperparameters are substituted here, where they are used.
Problems (``"a" * 2``, division by zero) are reported and give :data:`INVALID`, which later
stages skip silently so one mistake is reported once.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from . import nodes as n
from .diagnostics import Reporter
from .vocab.types import CallValue, Symbol, show


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()

_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
              "**": operator.pow}


def contains_invalid(value: Any) -> bool:
    if value is INVALID:
        return True
    return isinstance(value, list) and any(contains_invalid(v) for v in value)


def evaluate(expr: n.Expr, env: dict[str, Any], reporter: Reporter) -> Any:
    """The value of a constant expression; names not in ``env`` become :class:`Symbol`."""
    if isinstance(expr, (n.Number, n.String, n.Boolean)):
        return expr.value
    if isinstance(expr, n.NoneLiteral):
        return None
    if isinstance(expr, n.Name):
        return env.get(expr.id, Symbol(expr.id))
    if isinstance(expr, n.ListExpr):
        return [evaluate(item, env, reporter) for item in expr.items]
    if isinstance(expr, n.Call):
        return CallValue(expr.func.id, expr)
    if isinstance(expr, n.Neg):
        return _arithmetic("-", 0, evaluate(expr.operand, env, reporter), expr, reporter)
    left, right = evaluate(expr.left, env, reporter), evaluate(expr.right, env, reporter)
    return _arithmetic(expr.op, left, right, expr, reporter)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _arithmetic(op: str, left: Any, right: Any, expr: n.Node, reporter: Reporter) -> Any:
    if left is INVALID or right is INVALID:
        return INVALID
    if isinstance(left, Symbol) or isinstance(right, Symbol):
        symbol = left if isinstance(left, Symbol) else right
        reporter.error("undefined", expr.span, f'"{symbol.name}" is not a hyperparameter or '
                       "constant, so it cannot be used in arithmetic here")
        return INVALID
    if op == "@" or not (_is_number(left) and _is_number(right)):
        shown = "-" if isinstance(expr, n.Neg) else op
        reporter.error("type", expr.span, f"`{shown}` needs numbers here, got "
                       f"{show(left) if isinstance(expr, n.BinOp) else show(right)}"
                       + (f" and {show(right)}" if isinstance(expr, n.BinOp) else ""))
        return INVALID
    if op == "**" and abs(left) > 1 and abs(right) > 256:
        reporter.error("value", expr.span, "this power is too large to compute")
        return INVALID
    try:
        value = _OPERATORS[op](left, right)
    except (ZeroDivisionError, OverflowError) as error:
        reporter.error("value", expr.span, f"cannot compute this: {error}")
        return INVALID
    if isinstance(value, complex) or (isinstance(value, float) and not math.isfinite(value)):
        reporter.error("value", expr.span, "this evaluates to a non-finite number")
        return INVALID
    return value
