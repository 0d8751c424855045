"""Random edits of the example specs, junk, deep and long expressions never crash the front end:
only diagnostics, exit 0 or 1; and no diagnostic's output can be forged by a spec's text."""

from __future__ import annotations

import re
import time
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lightdsl.analysis import analyze_text
from lightdsl.cli import main
from lightdsl.frontend.diagnostics import render_github, render_json, render_text
from lightdsl.frontend.parser import MAX_DEPTH

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.lit"))
TEXTS = [p.read_text() for p in SPECS]
QUOTED = re.compile(r'"[^"]*"|`[^`]*`|\([^)]*\)')
LARK_NAMES = {"RBRACE", "LBRACE", "LPAR", "RPAR", "LSQB", "RSQB", "COMMA", "EQUAL", "NAME",
              "NUMBER", "STRING", "$END", "__ANON_0", "__ANON_1", "MINUS", "PLUS", "FROZEN"}
TOKEN = re.compile(r"\s+|[A-Za-z_]\w*|\d+\.?\d*(?:[eE][+-]?\d+)?|\"[^\"\n]*\"|#[^\n]*|\*\*|.")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


@st.composite
def edited_specs(draw):
    """An example spec with 1-4 random token edits or inserted characters."""
    parts = tokens(draw(st.sampled_from(TEXTS)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(parts) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace"]))
        if action == "delete":
            del parts[i]
        elif action == "duplicate":
            parts.insert(i, parts[i])
        elif action == "swap" and i + 1 < len(parts):
            parts[i], parts[i + 1] = parts[i + 1], parts[i]
        elif action == "insert":
            parts.insert(i, draw(st.text(min_size=1, max_size=3)))
        elif action == "replace":
            parts[i] = draw(st.sampled_from(["(", ")", "{", "}", "[", "]", "=", ",", "-", "**",
                                             "none", "true", "0", "-1", "1e999", '"x"',
                                             "model", "layers", "forward", "return", "param"]))
    return "".join(parts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_specs())
def test_random_edits_give_only_diagnostics(text):
    analysis = analyze_text(text, "edited.lit")
    for diagnostic in analysis.diagnostics:
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1
        words = QUOTED.sub("", diagnostic.message)  # user text is always quoted
        assert not LARK_NAMES & set(re.findall(r"[$\w]+", words)), diagnostic.message


@settings(max_examples=40, deadline=None)
@given(edited_specs())
def test_random_edits_exit_0_or_1(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("edit") / "edited.lit"
    path.write_text(text)
    assert main(["check", "-q", str(path)]) in (0, 1)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_gives_only_diagnostics(text):
    analyze_text(text, "random.lit")


# ---- junk, deep and long expressions never raise (issue 11 item 8) -------------------------

TEMPLATE = """model M(h = {0}) {{
    layers {{ linear(1, 1) }}
}}
data D {{
    inputs = [[1.0], [2.0]]
    labels = {0}
}}
train {{
    model = M
    data = D
    loss = mse
    max_epochs = {0}
    precision = {0}
    optimizer = sgd(lr = {0})
}}
"""
LITERALS = st.one_of(
    st.integers(min_value=0, max_value=10**30).map(str),
    st.sampled_from(["1e999", "1e308", "0.5", ".5", "1e-400", "9" * 5000, "0", "2", "256"]),
    st.sampled_from(["true", "false", "none", "auto", "bf16", "mixed", "h", "x"]),
    st.text(max_size=8).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"')
                            .replace("\n", "\\n") + '"'),
)


def _combine(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "@", "-"]), children)
        .map(lambda t: f"{t[0]}{t[1]}{t[2]}"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"({c})"),
        st.lists(children, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(children, max_size=2).map(lambda args: "f(" + ", ".join(args) + ")"),
    )


EXPRESSIONS = st.recursive(LITERALS, _combine, max_leaves=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_arbitrary_expressions_give_only_diagnostics_quickly(expr):
    started = time.process_time()  # CPU time: a busy machine stretches wall time
    analysis = analyze_text(TEMPLATE.format(expr), "expr.lit")
    assert time.process_time() - started < 2.0, expr
    for diagnostic in analysis.diagnostics:
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1


NESTINGS = {
    "sum": lambda k: " + ".join(["1"] * (k + 1)),
    "power": lambda k: "**".join(["2"] * (k + 1)),
    "negation": lambda k: "-" * k + "1",
    "list": lambda k: "[" * k + "1" + "]" * k,
    "call": lambda k: "f(" * k + "1" + ")" * k,
    "parenthesized": lambda k: "(" * k + "1" + ")" * k,  # parentheses add no level
}


@settings(max_examples=60, deadline=None)
@example("sum", MAX_DEPTH - 1)
@example("sum", MAX_DEPTH)
@example("list", MAX_DEPTH)
@example("call", MAX_DEPTH - 1)
@given(st.sampled_from(sorted(NESTINGS)), st.integers(0, 3 * MAX_DEPTH))
def test_deep_and_long_expressions_give_diagnostics_not_recursion_errors(kind, depth):
    analysis = analyze_text(TEMPLATE.format(NESTINGS[kind](depth)), "deep.lit")
    too_deep = [d for d in analysis.errors if d.code == "too-deep"]
    levels = depth + 1  # the template's sgd(lr = ...) is one level more
    assert bool(too_deep) == (levels > MAX_DEPTH and kind != "parenthesized")
    assert all(d.span.line in (1, 6, 12, 13, 14) and d.message == f"expression nested too "
               f"deeply (over {MAX_DEPTH} levels)" for d in too_deep)


# ---- no diagnostic output line can be forged (issue 11 item 17) ----------------------------

FORGING = st.text(st.characters(blacklist_categories=()), max_size=30)
PLACES = [  # where a spec's string ends up in a message
    'callbacks = [checkpoint(monitor = "val_{}")]',
    'loss = "{}"',
    'default_root_dir = 5 + "{}"',
]


def _controls(text: str) -> set[str]:
    return {c for c in text if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")}


def _as_literal_body(text: str, escaped: bool) -> str:
    """The text inside a string literal: as escapes, or raw where the grammar allows it."""
    if escaped:
        return "".join(f"\\U{ord(c):08x}" for c in text)
    return "".join(c for c in text if c not in '"\\\n')


@settings(max_examples=300, deadline=None)
@given(FORGING, st.sampled_from(PLACES), st.booleans(), st.text(max_size=5))
def test_each_diagnostic_renders_to_the_expected_number_of_lines(text, place, escaped, name):
    setting = place.format(_as_literal_body(text, escaped))
    source = TEMPLATE.format("1").replace("precision = 1", setting)
    analysis = analyze_text(source, f"forge{name}.lit")
    for diagnostic in analysis.diagnostics:
        rendered = render_text(diagnostic, analysis.source)
        has_line = analysis.source.line_text(diagnostic.span.line).strip() != ""
        expected = 1 + (2 if has_line else 0) + (1 if diagnostic.hint else 0)
        assert len(rendered.splitlines()) == expected, rendered
        github = render_github(diagnostic)
        assert len(github.splitlines()) == 1 and not _controls(github), github
        assert len(render_json(diagnostic).splitlines()) == 1
