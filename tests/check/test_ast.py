"""The AST records: Node.walk()/find(), immutability and value semantics, and spans of the
one-pass builder (issue 18 item 1, issue 19 item 3)."""

from __future__ import annotations

import copy
import pickle
import sys
from pathlib import Path

import pytest

from lightdsl.frontend import nodes as n
from lightdsl.frontend.diagnostics import Reporter
from lightdsl.frontend.parser import parse, parse_value
from lightdsl.frontend.source import SourceFile, Span

ROOT = Path(__file__).resolve().parents[2]
SPEC = """\
model Net(width = 8) {
    l1 = linear(4, width)
    forward(x) {
        h = relu(l1(x))
        a, b = split(h, size = 2 * width)
        return -(a + b)
    }
}
"""
FILES = sorted([*ROOT.glob("specs/*.lit"), *ROOT.glob("specs/mistakes/*.lit"),
                *(ROOT / "tests" / "check" / "bad").glob("*.lit")])


def parsed(text: str, path: str = "<string>") -> n.Spec:
    source = SourceFile(text, path)
    return parse(source, Reporter(source))


def test_walk_visits_every_node_once_each_before_its_children_in_source_order():
    spec = parsed(SPEC)
    forward = spec.models[0].forwards[0]
    names = [node.id for node in forward.walk(n.Name)]
    assert names == ["x", "h", "relu", "l1", "x", "a", "b", "split", "h", "size", "width",
                     "a", "b"]
    kinds = [type(node).__name__ for node in forward.body[2].walk()]
    assert kinds == ["ReturnStmt", "Neg", "BinOp", "Name", "Name"]
    everything = list(spec.walk())
    assert everything[0] is spec and len({id(node) for node in everything}) == len(everything)


def test_walk_filters_by_one_or_several_types_and_find_takes_the_first():
    spec = parsed(SPEC)
    calls = [c.func.id for c in spec.walk(n.Call)]
    assert calls == ["linear", "relu", "l1", "split"]
    mixed = [type(x).__name__ for x in spec.walk(n.Keyword, n.BinOp)]
    assert mixed == ["Keyword", "BinOp", "BinOp"]
    assert spec.find(n.Neg).span.line == 6
    assert spec.find(n.Repeat) is None
    assert spec.models[0].find() is spec.models[0]


def test_walk_goes_as_deep_as_a_spec_nests_without_recursing():
    span = Span.point(1, 1)
    expr = n.Name(span=span, id="x")
    for _ in range(3 * sys.getrecursionlimit()):
        expr = n.BinOp(span=span, op="+", left=expr, right=n.Number(span=span, value=1))
    assert sum(1 for _ in expr.walk(n.Number)) == 3 * sys.getrecursionlimit()
    assert expr.find(n.Name).id == "x"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_walk_misses_no_field_that_holds_nodes(path):
    """Each class's ``_children`` must name every field that can hold a node, or walk()
    would silently skip part of the tree: checked on every node of every golden file."""
    for node in parsed(path.read_text(), str(path)).walk():
        for field in set(node._fields) - set(node._children):
            value = getattr(node, field)
            items = value if isinstance(value, list) else [value]
            assert not any(isinstance(v, n.Node) for v in items), (type(node), field)


def test_nodes_are_immutable_values_that_replace_copies_and_pickle():
    call = parsed(SPEC).find(n.Call)
    with pytest.raises(AttributeError, match="immutable"):
        call.func = None
    renamed = call.replace(func=call.func.replace(id="dense"))
    assert (renamed.func.id, call.func.id) == ("dense", "linear")
    assert renamed.args is call.args and renamed != call
    assert call.replace() == call and hash(call.func) == hash(call.func.replace())
    with pytest.raises(TypeError, match="no field 'fn'"):
        call.replace(fn=None)
    for copied in (pickle.loads(pickle.dumps(call)), copy.deepcopy(call)):
        assert copied == call and copied is not call
    assert repr(call.func).startswith("Name(span=Span(line=2, column=10,")


def test_a_parenthesized_expression_keeps_its_span_and_the_one_around_it_takes_the_parens():
    source = SourceFile("--set x=((a + b)) * -(2)", "<set>")
    expr = parse_value(source, 8, Reporter(source))
    assert isinstance(expr, n.BinOp) and expr.op == "*"
    assert (expr.span.column, expr.span.end_column) == (9, 25)  # from "((" to the last ")"
    assert (expr.left.span.column, expr.left.span.end_column) == (11, 16)  # a + b
    assert expr.right == n.Number(span=expr.right.span, value=-2)  # folded, parens included
    assert (expr.right.span.column, expr.right.span.end_column) == (21, 25)
    assert expr.span.origin is source


def test_a_block_with_a_syntax_error_reports_no_value_errors_of_its_own():
    """The builder's own findings (a number too large) wait until the text parsed: the
    broken block is skipped, so only its syntax error is reported; the next block's stand."""
    text = ("model A { param w = 99999999999999999999999 param }\n"
            "model B { param v = 1e999 }\n")
    source = SourceFile(text)
    reporter = Reporter(source)
    spec = parse(source, reporter)
    assert [(d.line, d.code) for d in reporter.sorted()] == [(1, "syntax"), (2, "value")]
    assert [m.name.id for m in spec.models] == ["B"]


def test_parsing_from_several_threads_at_once_gives_each_its_own_tree():
    """One builder serves every parse (lark's embedded transformer): parses take turns."""
    from concurrent.futures import ThreadPoolExecutor

    texts = [SPEC.replace("width = 8", f"width = {i}") for i in range(16)]
    with ThreadPoolExecutor(4) as pool:
        specs = list(pool.map(parsed, texts))
    assert [s.models[0].hyper_params[0].default.value for s in specs] == list(range(16))
    assert all(s == parsed(t) for s, t in zip(specs, texts))
