"""The checker keeps each call's inferred shapes on the model (what graph, codegen and hover read)."""

from lightdsl.analysis import analyze_text

from ..helpers.specs import TWO_RUNS

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
                     ("relu", ((None, 3),), (None, 3), "float", None)]
    text = SPEC
    first = shapes.calls[0]
    assert text[first.span.start_pos:first.span.end_pos] == "l1(x)"
    assert shapes.at(first.span) is first


def test_a_model_checked_alone_has_unknown_input_shapes():
    analysis = analyze_text(SPEC.split("data d")[0])
    shapes = analysis.program.models["Net"].shapes
    assert shapes.input is None and [c.output for c in shapes.calls] == [None, None]


def test_each_run_keeps_its_own_walk_of_a_shared_model():
    analysis = analyze_text(TWO_RUNS)
    assert analysis.ok, analysis.diagnostics
    first, second = analysis.program.runs["first"], analysis.program.runs["second"]
    assert first.model is second.model  # one checked model, two data shapes
    assert first.shapes.input == (None, 4) and second.shapes.input == (None, 6)
    assert [c.output for c in first.shapes.calls] == [(None, 4)]
    assert [c.output for c in second.shapes.calls] == [(None, 6)]


def test_the_graph_of_each_run_shows_its_own_shapes():
    from lightdsl.plots.graph import build_graph, to_dot

    runs = analyze_text(TWO_RUNS).program.runs
    first, second = to_dot(build_graph(runs["first"])), to_dot(build_graph(runs["second"]))
    assert '"x (N, 4)"' in first and '"h (N, 4)"' in first and "6)" not in first
    assert '"x (N, 6)"' in second and '"h (N, 6)"' in second and "4)" not in second
