"""The language server's parts without a client: recorded shapes, positions, completion and
hover on text that does not parse, and no torch."""

from __future__ import annotations

from pathlib import Path

from lightdsl.analysis import analyze_text
from lightdsl.lsp.completion import complete, context_at
from lightdsl.lsp.documents import Document
from lightdsl.lsp.hover import hover
from lightdsl.lsp.positions import Lines
from lightdsl.vocab.shapes import fmt

from ..helpers.runner import run_code

ROOT = Path(__file__).resolve().parents[2]
NET = ("model Net(width = 8) {\n    fc = linear(4, width)\n    forward(x) {\n"
       "        h = fc(x)\n        return relu(h)\n    }\n}\n"
       "data points {\n    inputs = [[1.0, 2.0, 3.0, 4.0]]\n    labels = [1]\n}\n"
       "train {\n    model = Net\n    data  = points\n    loss  = cross_entropy\n}\n")


def test_the_checker_records_what_flowed_through_each_call():
    program = analyze_text(NET).program
    info = program.runs["default"].model
    call = NET.index("fc(x)")
    (seen,) = [o for o in info.observed[call] if o.output is not None]
    assert (fmt(seen.inputs[0]), fmt(seen.output), seen.dtype) == ("(N, 4)", "(N, 8)", "float")
    assert seen.layer is info.layers["fc"]
    variable = info.observed[NET.index("h = fc")]
    assert {fmt(o.output) for o in variable} >= {"(N, 8)"}


def test_positions_count_utf16_units():
    lines = Lines('x = "é😀" # c\ny\n')
    assert lines.position(lines.text.index("#")) == (0, 10)  # the emoji is two UTF-16 units
    assert lines.offset(0, 10) == lines.text.index("#")
    assert Lines('"😀"', "utf-32").position(3) == (0, 3)


def test_completion_context_on_half_typed_text():
    text = "model Net(a = 1) {\n    layers {\n        linear(4, \n"
    context = context_at(text, len(text))
    assert [kind for kind, _ in context.blocks] == ["model", "layers"]
    assert context.brackets[-1] == ("(", "linear")
    labels = [i.label for i in complete(Document("u", "x.lit", text), len(text))]
    assert "out_features" in labels and "in_features" in labels and "a" in labels


def test_completion_of_choices_and_names_in_train():
    text = NET.replace("    loss  = cross_entropy\n}", "    precision = \n    accelerator = g")
    document = Document("u", "x.lit", text)
    at = text.index("precision = ") + len("precision = ")
    labels = [i.label for i in complete(document, at)]
    assert '"bf16-mixed"' in labels and '"32-true"' in labels
    assert [i.label for i in complete(document, len(text) - 1)] == ["gpu"]


def test_hover_uses_the_last_good_text_while_the_block_is_broken():
    document = Document("u", "x.lit", NET)
    document.analyse()
    broken = NET.replace("        return relu(h)", "        return relu(h) +")
    document.update(broken, 2)
    assert not document.analyse().ok
    text, (start, end) = hover(document, broken.index("fc(x)"))
    assert "`(N, 4) -> (N, 8)`" in text and broken[start:end] == "fc"


def test_hover_on_a_word_of_text_that_never_parsed():
    text = "model Net {\n    layers {\n        conv2d(\n"
    found = hover(Document("u", "x.lit", text), text.index("conv2d") + 2)
    assert found is not None and "conv2d(in_channels" in found[0]


def test_the_server_never_imports_torch():
    code = ("import sys, lightdsl.lsp.server, lightdsl.lsp.hover, lightdsl.commands.fmt; "
            "sys.exit('torch' in sys.modules)")
    done = run_code(code, cwd=ROOT)
    assert done.returncode == 0, done.stderr
