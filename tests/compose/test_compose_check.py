"""The checker through composition: shapes, parameter counts, recursion, several tensors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightdsl.analysis import analyze_text

from .specs import DATA, RESIDUAL, SPECS


def analysis_of(text: str):
    return analyze_text(text, "spec.lit")


def errors(text: str) -> list:
    return [d for d in analysis_of(text).diagnostics if d.severity == "error"]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_composed_specs_check_clean(name):
    analysis = analysis_of(SPECS[name])
    assert [d.message for d in analysis.diagnostics] == []
    assert analysis.program.runs["default"].output_shape == (None, 2)


def test_used_models_are_not_reported_unused():
    warnings = [d.message for d in analysis_of(SPECS["nested"]).diagnostics]
    assert not any("is not used" in w for w in warnings)


def test_parameter_count_includes_used_models_and_copies():
    info = analysis_of(RESIDUAL).program.runs["default"].model
    block = 8 * 16 + 16 + 16 * 8 + 8  # ResBlock(8): hidden = 16, derived from c
    last = 8 * 4 + 4 + 4 * 8 + 8  # ResBlock(c = 8, hidden = 4)
    assert info.parameter_count() == (4 * 8 + 8) + 3 * block + last + (8 * 2 + 2)


def test_recursion_names_the_cycle():
    text = """
model A { b = B()  forward(x) { return b(x) } }
model B { layers { A } }
train { model = A  data = points  loss = mse }
""" + DATA
    messages = [d.message for d in errors(text)]
    assert any("A -> B -> A" in m for m in messages), messages


def test_a_model_using_itself_is_an_error():
    text = "model A { layers { linear(4, 4) A } }\ntrain { model = A data = points loss = mse }" \
        + DATA
    assert [d.message for d in errors(text)] == ["model A uses itself: A -> A"]


def test_wrong_input_count_at_the_use_site():
    text = SPECS["attention"].replace("mix(h, h, h)", "mix(h, h)")
    found = errors(text)
    assert [d.message for d in found] == ["Mix takes 3 inputs (q, k, v), but 2 were given"]
    assert found[0].span.line == text.splitlines().index(
        "        a, w = mix(h, h)") + 1


def test_unpacking_the_wrong_number_of_outputs():
    text = SPECS["attention"].replace("a, w = mix(h, h, h)", "a, w, z = mix(h, h, h)")
    assert "3 names to unpack, but this returns 2 tensors" in [d.message for d in errors(text)]


def test_several_outputs_used_as_one_tensor():
    text = SPECS["attention"].replace("a, w = mix(h, h, h)", "a = mix(h, h, h)\n w = a")
    assert any("mix returns 2 tensors" in d.message for d in errors(text))


def test_trained_model_takes_one_input_and_returns_one_tensor():
    text = SPECS["attention"].replace("model = Seq", "model = Mix")
    messages = [d.message for d in errors(text)]
    assert any("forward must take exactly one input" in m for m in messages), messages
    text = SPECS["attention"].replace("model = Seq", "model = Mix").replace(
        "forward(q, k, v)", "forward(q)").replace("proj(q) * k", "proj(q) * q").replace(
        "w * v, w", "w * q, w")
    messages = [d.message for d in errors(text)]
    assert "the model a train block trains must return one tensor, not 2 tensors" in messages


def test_repeat_of_a_named_layer_is_an_error():
    text = RESIDUAL.replace("repeat(depth) { ResBlock(width) }", "repeat(depth) { last }")
    assert any("every copy would share it" in d.message for d in errors(text))


@settings(max_examples=15, deadline=None)
@given(width=st.integers(1, 12), depth=st.integers(1, 4), hidden=st.integers(1, 9))
def test_hyperparameters_flow_into_used_models(width, depth, hidden):
    """Shape errors inside a used model appear only when the use site's values break it."""
    text = RESIDUAL.replace("last   = ResBlock(c = width, hidden = 4)",
                            f"last   = ResBlock(c = {hidden}, hidden = 4)").replace(
        "model Net(width = 8, depth = 3)", f"model Net(width = {width}, depth = {depth})")
    found = errors(text)
    if hidden == width:
        assert found == []
    else:
        assert found and all(d.code == "shape" for d in found)
        assert all(d.notes and "in ResBlock(c = " in d.notes[0].message for d in found)


def test_deeply_nested_uses_check_in_linear_time():
    """40 models, each using the one before twice: walked once per model, not 2**40 times. The
    only error is the module bound (M12 would build 2**14 - 1 modules), counted, not built."""
    models = ["model M0(c = 4) { layers { linear(c, 2) } }"]
    for i in range(1, 40):
        models.append(f"model M{i}(c = 4) {{ a = M{i - 1}(c)  b = M{i - 1}(c)  "
                      "forward(x) { return a(x) + b(x) } }")
    text = "\n".join(models) + "\ntrain { model = M39  data = points  loss = cross_entropy }" \
        + DATA
    analysis = analysis_of(text)
    found = [d.message for d in analysis.diagnostics if d.severity == "error"]
    bound = ("model M12 builds 16,383 torch modules; lightdsl builds at most 10,000 "
             "(a few seconds' work)")
    assert found == [bound]
    assert analysis.program.runs["default"].output_shape == (None, 2)
    assert analysis.program.runs["default"].model.parameter_count() == 2**39 * 10
    assert any(d.code == "memory" for d in analysis.diagnostics)  # the size is real


@pytest.mark.parametrize("call, expected", [
    ("Net(width = 6)", {"width": 6, "hidden": 12}),
    ("Net(6)", {"width": 6, "hidden": 12}),
    ("Net(width = 6, hidden = 5)", {"width": 6, "hidden": 5}),
    ("Net", {"width": 4, "hidden": 8}),
])
def test_a_runs_values_rederive_dependent_defaults(call, expected):
    """`model = Net(width = 6)` in a train block: a default written with another
    hyperparameter (`hidden = 2 * width`) follows the value given, as at a use site."""
    text = f"""
model Net(width = 4, hidden = 2 * width) {{
    layers {{
        linear(3, width)
        linear(width, hidden)
        linear(hidden, 2)
    }}
}}
data d {{
    inputs = [[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]
    labels = [0, 1]
}}
train {{
    model = {call}
    data = d
    loss = cross_entropy
}}
"""
    analysis = analyze_text(text)
    assert analysis.ok, analysis.diagnostics
    (run,) = analysis.program.runs.values()
    assert run.model.hypers == expected
