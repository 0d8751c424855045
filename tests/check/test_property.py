"""Random edits of the example specs never crash the front end: only diagnostics, exit 0 or 1."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightdsl.cli import main
from lightdsl.frontend import analyze_text

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


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
