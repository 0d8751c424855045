"""Every number the generator prints is Python source that evaluates to that exact number
(issue 11 item 9: ``lr = 1e999`` printed ``inf``, a NameError in the generated script)."""

from __future__ import annotations

import ast
import math
import struct

from hypothesis import given
from hypothesis import strategies as st

from lightdsl.codegen.printer import ExprPrinter, literal, number_literal
from lightdsl.codegen.writer import flat
from lightdsl.frontend import nodes as n
from lightdsl.frontend.source import Span

SPAN = Span(line=1, column=1, end_line=1, end_column=2)
SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e-320, -5e-324, 1e308, 1.7976931348623157e308,
           10**400, -(10**5000), 2**12000, 2**12001 + 1, 0, -1, True, False]


def _eval(text: str):
    return eval(text, {"__builtins__": {"float": float}})  # our own output, floats only


def _evaluates_to(text: str, value) -> None:
    _same(_eval(text), value)


def _same(result, value) -> None:
    assert type(result) is type(value)
    if isinstance(value, float):
        # the same float bit for bit (-0.0 keeps its sign); every nan is a nan
        if math.isnan(value):
            assert math.isnan(result)
        else:
            assert struct.pack("<d", result) == struct.pack("<d", value)
    else:
        assert result == value


NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
                    st.integers(), st.integers(min_value=-(2**13000), max_value=2**13000),
                    st.sampled_from(SPECIAL))


@given(NUMBERS)
def test_printed_number_evaluates_to_the_same_number(value):
    _evaluates_to(flat(literal(value)), value)
    if not isinstance(value, bool):
        _evaluates_to(number_literal(value), value)


@given(st.lists(NUMBERS, max_size=4))
def test_printed_lists_of_numbers_evaluate_to_the_same_numbers(values):
    printed = _eval(flat(literal(values, tuples=True)))
    assert isinstance(printed, tuple) and len(printed) == len(values)
    for result, value in zip(printed, values):
        _same(result, value)


@given(NUMBERS, NUMBERS, st.sampled_from(["+", "-", "*", "/", "**"]))
def test_spec_expressions_print_their_numbers_exactly(left, right, op):
    """Number nodes inside expressions (a forward's constants): same values, same tree."""
    if isinstance(left, bool) or isinstance(right, bool):
        return
    expr = n.BinOp(span=SPAN, op=op, left=n.Number(span=SPAN, value=left),
                   right=n.Neg(span=SPAN, operand=n.Number(span=SPAN, value=right)))
    text = flat(ExprPrinter(lambda name: (name, True)).doc(expr))
    tree = ast.parse(text, mode="eval").body
    assert isinstance(tree, ast.BinOp)  # the spec's operator is still the top of the tree
    assert isinstance(tree.right, ast.UnaryOp) and isinstance(tree.right.op, ast.USub)
    _evaluates_to(ast.get_source_segment(text, tree.left), left)
    _evaluates_to(ast.get_source_segment(text, tree.right.operand), right)


def test_infinite_and_nan_are_never_bare_names():
    for value, text in [(math.inf, 'float("inf")'), (-math.inf, 'float("-inf")'),
                        (math.nan, 'float("nan")')]:
        assert flat(literal(value)) == text
        assert flat(literal([value])) == f"[{text}]"
