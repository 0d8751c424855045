"""The checker keeps each call's inferred shapes on the model (what graph, codegen and hover read)."""

from lightdsl.analysis import analyze_text

SPEC = """
model Net {
    l1 = linear(4, 3)
    forward(x) {
        h = relu(l1(x))
        return h * 2.0
    }
}
data d {
    inputs = [[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0]]
    labels = [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    batch_size = 2
}
train { model = Net  data = d  loss = mse  optimizer = sgd(lr = 0.1)  max_epochs = 1 }
"""


def test_the_runs_walk_is_stored_with_every_calls_shapes():
    analysis = analyze_text(SPEC)
    assert analysis.ok, analysis.diagnostics
    shapes = analysis.program.runs["default"].model.shapes
    assert shapes.input == (None, 4)
    calls = [(c.name, c.inputs, c.output, c.dtype, c.params) for c in shapes.calls]
    assert calls == [("linear", ((None, 4),), (None, 3), "float", 4 * 3 + 3),
                     ("relu", ((None, 3),), (None, 3), None, None)]
    text = SPEC
    first = shapes.calls[0]
    assert text[first.span.start_pos:first.span.end_pos] == "l1(x)"
    assert shapes.at(first.span) is first


def test_a_model_checked_alone_has_unknown_input_shapes():
    analysis = analyze_text(SPEC.split("data d")[0])
    shapes = analysis.program.models["Net"].shapes
    assert shapes.input is None and [c.output for c in shapes.calls] == [None, None]
