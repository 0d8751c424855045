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
from ..helpers.specs import TWO_RUNS

ROOT = Path(__file__).resolve().parents[2]
NET = ("model Net(width = 8) {\n    fc = linear(4, width)\n    forward(x) {\n"
       "        h = fc(x)\n        return relu(h)\n    }\n}\n"
       "data points {\n    inputs = [[1.0, 2.0, 3.0, 4.0]]\n    labels = [1]\n}\n"
       "train {\n    model = Net\n    data  = points\n    loss  = cross_entropy\n}\n")


BLOCKS = ("model Block(c = 4, out = 4) {\n    fc = linear(c, out)\n    forward(x) {\n"
          "        h = fc(x)\n        return relu(h)\n    }\n}\n"
          "model Net {\n    up   = Block(4, 6)\n    down = Block(6, 2)\n    forward(x) {\n"
          "        y = up(x)\n        return down(y)\n    }\n}\n"
          "data points {\n    inputs = [[1.0, 2.0, 3.0, 4.0]]\n    labels = [1]\n}\n"
          "train {\n    model = Net\n    data  = points\n    loss  = cross_entropy\n}\n")


def _hover(text: str, needle: str, offset: int = 0) -> str:
    document = Document("u", "x.lit", text)
    document.analyse()
    return hover(document, text.index(needle) + offset)[0]


def test_the_checker_stores_what_flowed_through_each_call():
    program = analyze_text(NET).program
    info = program.runs["default"].model
    (seen,) = [c for c in info.shapes.calls if c.span.start_pos == NET.index("fc(x)")]
    assert (fmt(seen.inputs[0]), fmt(seen.output), seen.dtype) == ("(N, 4)", "(N, 8)", "float")
    assert seen.layer is info.layers["fc"]
    h = program.spec.models[0].forwards[0].body[0].target
    assert fmt(info.shapes.variable(h)) == "(N, 8)"


def test_a_used_models_walks_are_stored_per_hyperparameter_values():
    program = analyze_text(BLOCKS).program
    net = program.runs["default"].model
    (up,) = [c for c in net.shapes.calls if c.layer is net.layers["up"]]  # forward's up(x)
    assert (fmt(up.inputs[0]), fmt(up.output)) == ("(N, 4)", "(N, 6)")
    walked = {(net.layers[name].model.hypers["c"], fmt(walk.input))
              for name in ("up", "down") for walk in net.layers[name].model.layer_shapes.values()}
    # Net checked alone walks each block with unknown inputs, the run with its data's
    assert walked == {(4, "(unknown)"), (4, "(N, 4)"), (6, "(unknown)"), (6, "(N, 6)")}


def test_hover_labels_the_shapes_of_each_hyperparameter_values():
    text = _hover(BLOCKS, "fc(x)")
    assert "`(N, 4) -> (N, 6)` · float32 · in `Block(c = 4, out = 6)`" in text
    assert "`(N, 6) -> (N, 2)` · float32 · in `Block(c = 6, out = 2)`" in text
    assert "(unknown)" not in text  # Block checked alone knows no input shape
    variable = _hover(BLOCKS, "h = fc")
    assert "h: (N, 6)  # Block(c = 4, out = 6)\nh: (N, 2)  # Block(c = 6, out = 2)" in variable


def test_hover_on_a_used_model_called_in_forward_and_on_its_definition():
    call = _hover(BLOCKS, "up(x)")  # the shapes of forward's call of the used model
    assert call.startswith("**up: Block**") and "`(N, 4) -> (N, 6)` · float32" in call
    assert "model Block used as a layer" in call and " in `" not in call
    definition = _hover(BLOCKS, "down = Block", 1)
    assert "**down: Block**" in definition and "`(N, 6) -> (N, 2)`" in definition
    assert "14 parameters" in definition  # linear(6, 2)


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


def _labels(text: str) -> list[str]:
    return [i.label for i in complete(Document("u", "x.lit", text), len(text))]


def test_a_bracket_left_open_on_an_earlier_line_ends_with_its_statement():
    # a name cannot follow a finished argument: the next line is a new layers item
    text = "model Net {\n    layers {\n        linear(4, 8\n        rel"
    assert context_at(text, len(text)).brackets == []
    assert "relu" in _labels(text) and "out_features" not in _labels(text)
    # after a comma, a name at the statement's own indent begins the next statement
    text = "model Net {\n    fc = linear(4,\n    forward(x) {\n        h = re"
    context = context_at(text, len(text))
    assert [kind for kind, _ in context.blocks] == ["model", "forward"]
    assert context.brackets == [] and "relu" in _labels(text)
    earlier = "model Net {\n    layers {\n        linear(4,\n        relu()\n        dr"
    assert context_at(earlier, len(earlier)).brackets == [] and "dropout" in _labels(earlier)


def test_a_continuation_line_indented_further_stays_in_the_call():
    text = "model Net {\n    fc = linear(4,\n                out"
    assert context_at(text, len(text)).brackets == [("(", "linear")]
    assert _labels(text) == ["out_features"]
    text = "data d {\n    labels = [1, 2,\n              3]\n    batch"
    assert context_at(text, len(text)).brackets == [] and _labels(text) == ["batch_size"]


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


def test_hover_names_the_run_of_each_shape_when_runs_differ():
    text = _hover(TWO_RUNS, "relu(x)")
    assert "`(N, 4) -> (N, 4)` · float32 · in `run first`" in text
    assert "`(N, 6) -> (N, 6)` · float32 · in `run second`" in text
    assert _hover(TWO_RUNS, "h = relu", 0).startswith(
        "```lightdsl\nh: (N, 4)  # run first\nh: (N, 6)  # run second\n```")
    assert "forward(x: (N, 4), (N, 6)) -> (N, 4), (N, 6)" in _hover(TWO_RUNS, "forward(x)", 2)


INTS = ("model Bag {\n    emb = embedding(10, 4)\n    fc  = linear(4, 2)\n    forward(pairs) {\n"
        "        ids = relu(sum(pairs, dim = 2))\n        e = emb(ids)\n"
        "        return fc(mean(e, dim = 1))\n    }\n}\n"
        "data ids {\n    inputs = [[[1, 2], [3, 4], [0, 1]]]\n    labels = [1]\n}\n"
        "train {\n    model = Bag\n    data  = ids\n    loss  = cross_entropy\n}\n")


def test_hover_gives_a_functions_dtype_integers_kept_or_not():
    assert "`(N, 3, 2) -> (N, 3)` · int64\n" in _hover(INTS, "sum(pairs")
    assert "`(N, 3) -> (N, 3)` · int64\n" in _hover(INTS, "relu(sum")
    assert "`(N, 3) -> (N, 3, 4)` · int64 -> float32\n" in _hover(INTS, "emb(ids")
    assert "`(N, 3, 4) -> (N, 4)` · float32\n" in _hover(INTS, "mean(e")
    calls = analyze_text(INTS).program.runs["default"].shapes.calls
    assert [(c.name, c.dtype) for c in calls] == [
        ("sum", "int"), ("relu", "int"), ("embedding", "int"), ("mean", "float"),
        ("linear", "float")]
