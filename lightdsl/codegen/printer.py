"""Printing values, names and spec expressions as Python source.

Strings reach the generated code only through :func:`str_literal` (an escaped Python literal)
and names only through :class:`Namer` (spec names are identifiers by grammar; Python keywords
and names the script itself uses get a trailing underscore). Vocabulary calls are printed from
the registry entry: its ``target`` names the callable and its ``args`` the keywords.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable
from typing import Any

from ..checker.binding import Bound
from ..frontend import nodes as n
from ..vocab.reserved import SCRIPT_NAMES, free_name
from ..vocab.types import Tensor, TensorList
from .writer import Chain, Doc, Group, concat, flat

RESERVED = SCRIPT_NAMES  # names a generated script uses for itself, and names ruff flags
PRECEDENCE = {"+": 2, "-": 2, "*": 3, "/": 3, "@": 3, "**": 5}
NEG, ATOM = 4, 9
DECIMAL_BITS = 4000 * 3  # ints below 2**12000 (3612 digits) stay within str()'s 4300 digits


def str_literal(text: str) -> str:
    """``text`` as a Python string literal, double-quoted unless that needs more escapes."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == quote:
            out.append("\\" + quote)
        elif char.isprintable() or char == " ":
            out.append(char)
        else:
            out.append(repr(char)[1:-1] if char not in "'\"" else char)
    return quote + "".join(out) + quote


def number_literal(value: float) -> str:
    """A number as Python source that evaluates to exactly ``value``: ``float("inf")`` and
    ``float("nan")`` where repr would print a bare (undefined) name, hexadecimal for an integer
    too long for decimal conversion (Python's int digit limit)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value!r}")'  # "inf", "-inf" or "nan"
    if isinstance(value, int) and value.bit_length() > DECIMAL_BITS:
        return f"{'-' if value < 0 else ''}0x{abs(value):X}"
    return repr(value)


def literal(value: Any, tuples: bool = False) -> Doc:
    """A constant (number, bool, None, str, nested list) as source; lists as tuples if asked."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return number_literal(value)
    if isinstance(value, str):
        return str_literal(value)
    if isinstance(value, (list, tuple)):
        items = tuple(literal(v, tuples) for v in value)
        if tuples:
            return Group("(", items, ")", one=len(items) == 1)
        return Group("[", items, "]")
    raise TypeError(f"cannot print {type(value).__name__} as a Python literal")


def as_floats(value: Any) -> Any:
    """Numbers (nested in lists) as floats: a spec's ``param b = 0`` is a float tensor."""
    if isinstance(value, list):
        return [as_floats(v) for v in value]
    return float(value)


def python_name(target: str) -> str:
    """How a vocabulary target is called in a script: ``nn.Linear``, ``torch.relu``, or the
    name of a helper the script carries (for targets implemented by lightdsl)."""
    if target.startswith("torch.nn.") and target.count(".") == 2:
        return "nn." + target.rsplit(".", 1)[1]
    if target.startswith("torch."):
        return target
    return target.rsplit(".", 1)[1]


class Namer:
    """Python names for spec names, stable within one script."""

    def __init__(self, taken: set[str] | None = None):
        self.taken = set(RESERVED) | set(taken or ())
        self.names: dict[str, str] = {}

    def reserve(self, names) -> None:
        """Give the safe ones of ``names`` their own name first, so suffixes cannot collide."""
        for name in names:
            if name not in self.names and not keyword.iskeyword(name) and name not in self.taken:
                self.names[name] = name
                self.taken.add(name)

    def assign(self, names: dict[str, str]) -> None:
        """Give spec names the Python names a rule outside the script chose (``names``)."""
        self.names.update(names)
        self.taken.update(names.values())

    def __call__(self, name: str) -> str:
        if name not in self.names:
            self.names[name] = free_name(name, self.taken)
            self.taken.add(self.names[name])
        return self.names[name]


def plain_attribute(name: str) -> bool:
    """Whether ``self.<name>`` works (not a keyword, no name mangling)."""
    return not keyword.iskeyword(name) and not name.startswith("__")


def attribute(name: str) -> str:
    """``self.name``, or ``getattr(self, "name")`` where that is not valid Python."""
    return f"self.{name}" if plain_attribute(name) else f"getattr(self, {str_literal(name)})"


class ExprPrinter:
    """Spec expressions as Python with minimal parentheses (the same tree as the spec's).

    ``name(id)`` returns the source for a name and whether it is "simple" for ``**`` spacing;
    ``call(node)`` returns the document for a call.
    """

    def __init__(self, name: Callable[[str], tuple[str, bool]],
                 call: Callable[[n.Call], Doc] | None = None, tuples: bool = False):
        self.name, self.call, self.tuples = name, call, tuples

    def doc(self, expr: n.Expr) -> Doc:
        return self._doc(expr)[0]

    def _doc(self, expr) -> tuple[Doc, int, bool]:
        if isinstance(expr, n.Number):
            text = number_literal(expr.value)  # a negative literal binds like a unary minus
            return text, NEG if text.startswith("-") else ATOM, True
        if isinstance(expr, (n.String, n.Boolean, n.NoneLiteral)):
            value = None if isinstance(expr, n.NoneLiteral) else expr.value
            return literal(value), ATOM, not isinstance(expr, n.String)
        if isinstance(expr, n.Name):
            text, simple = self.name(expr.id)
            return text, ATOM, simple
        if isinstance(expr, n.ListExpr):
            items = tuple(self.doc(item) for item in expr.items)
            one = self.tuples and len(items) == 1
            brackets = "()" if self.tuples else "[]"
            return Group(brackets[0], items, brackets[1], one=one), ATOM, False
        if isinstance(expr, n.Neg):
            operand, prec, simple = self._doc(expr.operand)
            # ruff format writes -(a**b) for -a**b: the same value, said plainly
            return concat("-", _paren(operand, prec < NEG or prec == PRECEDENCE["**"])), NEG, \
                simple and prec != PRECEDENCE["**"]
        if isinstance(expr, n.BinOp):
            return self._bin_op(expr)
        return self.call(expr), ATOM, False

    def _bin_op(self, expr: n.BinOp) -> tuple[Doc, int, bool]:
        prec = PRECEDENCE[expr.op]
        left, left_prec, left_simple = self._doc(expr.left)
        right, right_prec, right_simple = self._doc(expr.right)
        if expr.op == "**":
            left_paren, right_paren = left_prec <= prec, right_prec < NEG
            left, right = _paren(left, left_paren), _paren(right, right_paren)
            hug = left_simple and right_simple and not (left_paren or right_paren)
            op = "**" if hug else " ** "
            return concat(left, op, right), prec, False
        left = _paren(left, left_prec < prec)
        right = _paren(right, right_prec <= prec)
        if isinstance(left, Chain) and left_prec == prec:
            return Chain((*left.operands, right), (*left.ops, expr.op)), prec, False
        return Chain((left, right), (expr.op,)), prec, False


def _paren(doc: Doc, needed: bool) -> Doc:
    return concat("(", doc, ")") if needed else doc


def uses_names(expr: n.Node, names) -> bool:
    """Whether an expression mentions any of ``names``."""
    if isinstance(expr, n.Name):
        return expr.id in names
    children = {n.BinOp: ("left", "right"), n.Neg: ("operand",), n.ListExpr: ("items",)}
    for attr in children.get(type(expr), ()):
        value = getattr(expr, attr)
        for child in value if isinstance(value, list) else [value]:
            if uses_names(child, names):
                return True
    return False


def vocab_call(bound: Bound, value: Callable[[str], Doc] | None = None,
               leading: tuple = (), func: str | None = None, trailing: tuple = ()) -> Doc:
    """``Target(required..., written=...)`` for a bound entry: required arguments positional,
    others as keywords when the spec wrote them (or the entry's ``python_always``
    lists them, where lightdsl's default is not torch's). Tensor arguments are the caller's
    ``leading`` documents."""
    always = bound.entry.python_always
    value = value or (lambda name: literal(bound.values[name], tuples=True))
    if getattr(bound, "ref", None) is not None and func is None:  # python(...): its own rules
        from .python import is_function_loss, loss_call

        if is_function_loss(bound):
            return loss_call(bound, value)
    parts, keywords = list(leading), False
    for arg in bound.entry.args:
        if isinstance(arg.type, (Tensor, TensorList)):
            continue
        if arg.required and not keywords:
            parts.append(value(arg.name))
        elif arg.required or arg.name in bound.nodes or arg.name in always:
            parts.append(concat(f"{arg.name}=", value(arg.name)))
            keywords = True
    parts += trailing
    return concat(func or python_name(bound.entry.target), Group("(", tuple(parts), ")"))


def flat_call(bound: Bound, **kwargs) -> str:
    return flat(vocab_call(bound, **kwargs))
