"""Constant evaluation of spec expressions: literals, lists, hyperparameters and arithmetic.

``evaluate`` turns an expression of a setting, argument or hyperparameter into a plain value
(see :mod:`lightdsl.vocab.types`). Hyperparameters are substituted here, where they are used.
Problems (``"a" * 2``, division by zero) are reported and give :data:`INVALID`, which later
stages skip silently so one mistake is reported once.

Cost and size are bounded: no integer along the way may exceed :data:`MAX_BITS` bits (checked
before a power or product is computed, so ``2**256**256`` costs nothing), a value must be
finite, and an integer value must fit in 64 bits, as torch and the trainer need it. (The
parser already refuses literals that are infinite or larger than 64 bits.)
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterable
from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..vocab.types import CallValue, Hyphenated, Symbol, show


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()


def any_invalid(values: Iterable[Any]) -> bool:
    """Whether one of ``values`` is INVALID (compared by identity, as ``v is INVALID``; in C:
    the checker asks this of every layer's arguments, several times)."""
    return any(map(operator.is_, values, itertools.repeat(INVALID)))

# Largest integer along the way (10**300 is fine; 2**10000 is refused before it is computed).
MAX_BITS = 1024
INT64_MAX = 2**63 - 1

_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
              "**": operator.pow}


def contains_invalid(value: Any) -> bool:
    if value is INVALID:
        return True
    return isinstance(value, list) and any(contains_invalid(v) for v in value)


def evaluate(expr: n.Expr, env: dict[str, Any], reporter: Reporter) -> Any:
    """The value of a constant expression; names not in ``env`` become :class:`Symbol`.

    Integers in the value fit in 64 bits; a larger one is reported where it is written."""
    return _fits_int64(expr, _value(expr, env, reporter), reporter)


def _value(expr: n.Expr, env: dict[str, Any], reporter: Reporter) -> Any:
    if isinstance(expr, (n.Number, n.String, n.Boolean)):  # the parser bounds numbers
        return expr.value
    if isinstance(expr, n.NoneLiteral):
        return None
    if isinstance(expr, n.Name):
        return env.get(expr.id, Symbol(expr.id))
    if isinstance(expr, n.ListExpr):
        return [_value(item, env, reporter) for item in expr.items]
    if isinstance(expr, n.Call):
        return CallValue(expr.func.id, expr)
    if isinstance(expr, n.Neg):
        return _arithmetic("-", 0, _value(expr.operand, env, reporter), expr, reporter)
    word = _hyphenated(expr, env, reporter)
    if word is not None:
        return word
    left, right = _value(expr.left, env, reporter), _value(expr.right, env, reporter)
    return _arithmetic(expr.op, left, right, expr, reporter)


def source_text(span, reporter: Reporter) -> str:
    """The text a span covers, in the spec or in the override it came from."""
    return (span.origin or reporter.source).text[span.start_pos:span.end_pos]


def _shown(expr: n.Node, reporter: Reporter) -> str:
    text = source_text(expr.span, reporter)
    if text.isdigit() and len(text) > 30:
        return f"a {len(text)}-digit integer"
    return text if 0 < len(text) <= 30 and "\n" not in text else "this number"


def _hyphenated(expr: n.BinOp, env: dict, reporter: Reporter) -> Hyphenated | None:
    """``bf16-mixed`` written bare: words and integers joined by ``-`` without spaces, at
    least one of them a name that is not a hyperparameter (or true/false/none)."""
    if expr.op != "-":
        return None
    parts, node = [], expr
    while isinstance(node, n.BinOp) and node.op == "-":
        parts.append(node.right)
        node = node.left
    parts.append(node)
    words = [source_text(p.span, reporter) for p in reversed(parts) if _is_word(p)]
    if len(words) != len(parts) or "-".join(words) != source_text(expr.span, reporter):
        return None
    if not any(isinstance(p, (n.Boolean, n.NoneLiteral))
               or (isinstance(p, n.Name) and p.id not in env) for p in parts):
        return None
    scratch = Reporter(reporter.source)  # what the subtraction would say, if no choice fits
    left, right = _value(expr.left, env, scratch), _value(expr.right, env, scratch)
    _arithmetic("-", left, right, expr, scratch)
    problem = scratch.diagnostics[0].message if scratch.diagnostics else "not a number"
    return Hyphenated("-".join(words), problem)


def _is_word(node: n.Node) -> bool:
    if isinstance(node, n.Number):
        return isinstance(node.value, int) and node.value >= 0
    return isinstance(node, (n.Name, n.Boolean, n.NoneLiteral))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _arithmetic(op: str, left: Any, right: Any, expr: n.Node, reporter: Reporter) -> Any:
    if left is INVALID or right is INVALID:
        return INVALID
    if isinstance(left, Symbol) or isinstance(right, Symbol):
        symbol = left if isinstance(left, Symbol) else right
        message = symbol.problem if isinstance(symbol, Hyphenated) else \
            f'"{symbol.name}" is not a hyperparameter or constant, so it cannot be used in ' \
            "arithmetic here"
        reporter.error("undefined", expr.span, message)
        return INVALID
    if op == "@" or not (_is_number(left) and _is_number(right)):
        shown = "-" if isinstance(expr, n.Neg) else op
        reporter.error("type", expr.span, f"`{shown}` needs numbers here, got "
                       f"{show(left) if isinstance(expr, n.BinOp) else show(right)}"
                       + (f" and {show(right)}" if isinstance(expr, n.BinOp) else ""))
        return INVALID
    return _compute(op, left, right, expr, reporter)


def _compute(op: str, left, right, expr: n.Node, reporter: Reporter) -> Any:
    """``left op right`` for two numbers, refusing results too large before computing them."""
    bits = _result_bits(op, left, right)
    if bits > MAX_BITS:
        reporter.error("value", expr.span, f"number too large: {_shown(expr, reporter)} would "
                       f"have about {bits} bits (at most {MAX_BITS})")
        return INVALID
    try:
        value = _OPERATORS[op](left, right)
    except ZeroDivisionError:
        reporter.error("value", expr.span, "cannot compute this: division by zero")
        return INVALID
    except OverflowError:
        reporter.error("value", expr.span,
                       f"number too large: {_shown(expr, reporter)} overflows")
        return INVALID
    if isinstance(value, complex):
        reporter.error("value", expr.span, "cannot compute this: the result is a complex number")
        return INVALID
    if isinstance(value, float) and not math.isfinite(value):
        reporter.error("value", expr.span,
                       f"number too large: {_shown(expr, reporter)} overflows to infinity")
        return INVALID
    return value


def _result_bits(op: str, left, right) -> int:
    """The result's size in bits (a power's estimated from logarithms) when both operands are
    integers; 0 when nothing can grow."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return 0  # floats overflow to inf or raise, cheaply
    sizes = abs(left).bit_length(), abs(right).bit_length()
    if op == "*":
        return sum(sizes)
    if op == "**":
        if abs(left) <= 1 or right <= 0:
            return 0  # 1, 0, -1 or a fraction: small whatever the exponent
        return int(right * math.log2(abs(left))) + 1 if right < 2**53 else right
    return max(sizes) + 1


def _fits_int64(expr: n.Expr, value: Any, reporter: Reporter) -> Any:
    """``value``, or INVALID with an error where an integer in it does not fit in 64 bits."""
    if isinstance(value, list):
        items = expr.items if isinstance(expr, n.ListExpr) and \
            len(expr.items) == len(value) else [expr] * len(value)
        checked = [_fits_int64(item, v, reporter) for item, v in zip(items, value)]
        return INVALID if any_invalid(checked) else checked
    if isinstance(value, int) and not isinstance(value, bool) and \
            not -INT64_MAX - 1 <= value <= INT64_MAX:
        reporter.error("value", expr.span, f"number too large: {_shown(expr, reporter)} does "
                       "not fit in a 64-bit integer (at most 2**63 - 1)")
        return INVALID
    return value
