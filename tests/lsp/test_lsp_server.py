"""``lightdsl lsp`` end to end: a real LSP client (pygls's) talking to the server over stdio.

One server process for the module; every wait is for the server's answer or its
notification, with a timeout, never a sleep.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pygls")

from lsprotocol import types

from lightdsl.analysis import analyze_text
from lightdsl.lsp.positions import Lines

from .session import Session

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
SHAPE_ERROR = """\
model Net {
    layers {
        linear(4, 8)
        relu()
        linear(6, 2)
    }
}

data points {
    inputs = [[1.0, 2.0, 3.0, 4.0]]
    labels = [1]
}

train {
    model = Net
    data  = points
    loss  = cross_entropy
}
"""


@pytest.fixture(scope="module")
def lsp():
    session = Session()
    yield session
    session.close()


def _line_of(path: Path, needle: str) -> tuple[int, int]:
    """(0-based line, character) of the first ``needle`` in a file."""
    for number, line in enumerate(path.read_text().splitlines()):
        if needle in line:
            return number, line.index(needle)
    raise AssertionError(f"{needle!r} not in {path}")


def _errors(params: types.PublishDiagnosticsParams) -> list[types.Diagnostic]:
    return [d for d in params.diagnostics if d.severity == types.DiagnosticSeverity.Error]


def test_server_says_what_it_can(lsp):
    capabilities = lsp.result.capabilities
    assert capabilities.hover_provider and capabilities.definition_provider
    assert capabilities.references_provider and capabilities.document_formatting_provider
    assert capabilities.completion_provider is not None
    assert lsp.result.server_info.name == "lightdsl"


def test_shape_error_is_published_at_checks_range_and_a_fix_clears_it(lsp, tmp_path):
    path = tmp_path / "net.lit"
    path.write_text(SHAPE_ERROR)
    uri = lsp.open(path)
    (error,) = _errors(lsp.next_diagnostics(uri))
    (expected,) = analyze_text(SHAPE_ERROR, str(path)).errors  # what `lightdsl check` says
    (start, end) = Lines(SHAPE_ERROR).span_range(expected.span)
    assert (error.code, error.source) == ("shape", "lightdsl") == (expected.code, "lightdsl")
    assert error.message.startswith(expected.message)
    assert (error.range.start.line, error.range.start.character) == start == (4, 15)
    assert (error.range.end.line, error.range.end.character) == end
    lsp.edit(uri, 2, line=4, start=15, end=16, text="8")  # linear(6, 2) -> linear(8, 2)
    fixed = lsp.next_diagnostics(uri)
    assert fixed.version == 2 and _errors(fixed) == []


def test_a_syntax_error_while_typing_is_a_diagnostic_and_hover_still_works(lsp, tmp_path):
    path = tmp_path / "typing.lit"
    text = (SPECS / "char_gru.lit").read_text()
    path.write_text(text)
    uri = lsp.open(path)
    assert _errors(lsp.next_diagnostics(uri)) == []
    line, column = _line_of(path, "gru(dim")
    lsp.edit(uri, 2, line=line + 1, start=0, end=0, text="        linear(hidden,\n")
    (syntax,) = _errors(lsp.next_diagnostics(uri))
    assert syntax.code == "syntax"
    hovered = lsp.hover(uri, line, column + 1)  # from the last text that parsed
    assert "`(N, 64, 32) -> (N, 64, 128)`" in hovered.contents.value


def test_hover_on_resnet_layers_gives_their_shapes(lsp):
    path = SPECS / "resnet_cifar.lit"
    uri = lsp.open(path)
    lsp.next_diagnostics(uri)
    line, column = _line_of(path, "fc(flat(pool(x)))")
    text = lsp.hover(uri, line, column).contents.value
    assert "`(N, 64) -> (N, 10)`" in text and "650 parameters" in text
    assert "linear(in_features, out_features, bias = true)" in text
    line, column = _line_of(path, "conv2a(x)")
    assert "`(N, 16, 32, 32) -> (N, 32, 16, 16)`" in lsp.hover(uri, line, column).contents.value
    line, column = _line_of(path, "model ResNet")
    summary = lsp.hover(uri, line, column + len("model ")).contents.value
    assert "78,042 parameters" in summary and "(N, 3, 32, 32) -> (N, 10)" in summary


def test_hover_on_the_gru_spec(lsp):
    path = SPECS / "char_gru.lit"
    uri = lsp.open(path)
    lsp.next_diagnostics(uri)
    line, column = _line_of(path, "gru(dim")
    hovered = lsp.hover(uri, line, column + 1)
    assert "`(N, 64, 32) -> (N, 64, 128)`" in hovered.contents.value
    assert "62,208 parameters" in hovered.contents.value
    assert (hovered.range.start.line, hovered.range.start.character) == (line, column)
    line, column = _line_of(path, "embedding(vocab")
    assert "`(N, 64) -> (N, 64, 32)` · int64 -> float32" in lsp.hover(
        uri, line, column).contents.value


def test_completion_lists_linear_after_lin(lsp, tmp_path):
    path = tmp_path / "complete.lit"
    text = "model Net {\n    layers {\n        lin\n    }\n}\n"
    uri = lsp.open(path, text)
    lsp.next_diagnostics(uri)
    items = lsp.complete(uri, 2, len("        lin"))
    linear = next(item for item in items if item.label == "linear")
    assert linear.detail == "linear(in_features, out_features, bias = true)"
    assert all(item.label.startswith("lin") for item in items)


def test_completion_on_broken_text_offers_names_settings_and_keywords(lsp, tmp_path):
    text = ("model Net(width = 4) {\n    layers {\n        linear(width, 2)\n    }\n}\n"
            "data points {\n    inputs = [[1.0]]\n    labels = [1]\n}\n"
            "train {\n    model = N\n    prec\n    optimizer = sgd(lr = 0.1, mom")
    uri = lsp.open(tmp_path / "broken.lit", text)
    assert _errors(lsp.next_diagnostics(uri))  # it does not parse
    assert [i.label for i in lsp.complete(uri, 10, len("    model = N"))] == ["Net"]
    assert [i.label for i in lsp.complete(uri, 11, len("    prec"))] == ["precision"]
    assert [i.label for i in lsp.complete(uri, 12, len("    optimizer = sgd(lr = 0.1, mom"))] \
        == ["momentum"]


def test_diagnostic_in_a_used_model_relates_the_line_inside_it(lsp):
    path = ROOT / "tests" / "check" / "bad" / "compose_shape_in_used_model.lit"
    uri = lsp.open(path)
    (error,) = _errors(lsp.next_diagnostics(uri))
    assert (error.range.start.line, error.code) == (11, "shape")
    (note,) = error.related_information
    assert note.location.uri == uri and note.location.range.start.line == 4
    assert note.message.startswith("in ResBlock(c = 6), defined at")


def test_definition_references_and_symbols(lsp):
    path = SPECS / "mnist_cnn.lit"
    uri = lsp.open(path)
    lsp.next_diagnostics(uri)
    line, column = _line_of(path, "fc2(x)")
    (found,) = [lsp.definition(uri, line, column)]
    assert found.range.start.line == _line_of(path, "= linear(hidden")[0]
    uses = lsp.references(uri, line, column)
    assert len(uses) == 2
    line, column = _line_of(path, "channels * 2 * 7")
    found = lsp.references(uri, line, column)  # the definition, conv1, conv2 (twice), fc1
    assert [(r.range.start.line, r.range.start.character) for r in found] == [
        (3, 14), (4, 22), (5, 19), (5, 29), (8, 19)]
    names = [(s.name, [c.name for c in s.children or []]) for s in lsp.symbols(uri)]
    assert names[0][0] == "ConvNet" and "conv1" in names[0][1] and "forward" in names[0][1]
    assert [name for name, _ in names[1:]] == ["mnist", "default"]


def test_python_target_opens_the_class(lsp, tmp_path):
    (tmp_path / "mylayers.py").write_text("import math\n\n\nclass Swish:\n    pass\n")
    text = ('model Net {\n    layers {\n        python("mylayers:Swish")\n    }\n}\n')
    uri = lsp.open(tmp_path / "py.lit", text)
    lsp.next_diagnostics(uri)
    found = lsp.definition(uri, 2, 20)
    assert found.uri == (tmp_path / "mylayers.py").resolve().as_uri()
    assert found.range.start.line == 3


def test_formatting_returns_fmts_text(lsp, tmp_path):
    text = "model Net{layers{linear(4,2)}}\n"
    uri = lsp.open(tmp_path / "fmt.lit", text)
    lsp.next_diagnostics(uri)
    (edit,) = lsp.formatting(uri)
    assert edit.new_text == "model Net {\n    layers {\n        linear(4, 2)\n    }\n}\n"
