"""The layers of issue 12 item 3 (recurrent, attention, transformer, positional embedding,
adaptive pooling, transposed convolution, dropout2d, groupnorm) agree with real torch: shape
rules, parameter counts and the cross-argument rules; and the checker locates their mistakes
in spec text (several inputs to a named layer, residual adds)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from lightdsl.analysis import analyze_file, analyze_text
from lightdsl.compile.resolve import resolve, torch_kwargs
from lightdsl.plots.graph import build_graph
from lightdsl.vocab import REGISTRY
from lightdsl.vocab.shapes import ShapeError

B = 3  # the batch; the checker sees it as None

SHAPE_CASES = [
    ("gru", {"input_size": 4, "hidden_size": 6}, [(B, 7, 4)]),
    ("gru", {"input_size": 4, "hidden_size": 6, "num_layers": 2, "bidirectional": True,
             "output": "last"}, [(B, 7, 4)]),
    ("lstm", {"input_size": 4, "hidden_size": 5, "bidirectional": True}, [(B, 2, 4)]),
    ("lstm", {"input_size": 4, "hidden_size": 5, "num_layers": 3, "output": "last"},
     [(B, 9, 4)]),
    ("multihead_attention", {"embed_dim": 8, "num_heads": 2}, [(B, 5, 8)]),
    ("multihead_attention", {"embed_dim": 8, "num_heads": 4}, [(B, 5, 8), (B, 3, 8)]),
    ("multihead_attention", {"embed_dim": 6, "num_heads": 3, "kdim": 4, "vdim": 7},
     [(B, 5, 6), (B, 2, 4), (B, 2, 7)]),
    ("transformer_encoder_layer", {"d_model": 8, "nhead": 2, "dim_feedforward": 16},
     [(B, 5, 8)]),
    ("transformer_encoder_layer", {"d_model": 6, "nhead": 3, "norm_first": True,
                                   "activation": "gelu", "bias": False}, [(B, 4, 6)]),
    ("positional_embedding", {"max_length": 10, "embedding_dim": 4}, [(B, 7, 4)]),
    ("positional_embedding", {"max_length": 7, "embedding_dim": 4}, [(B, 7, 4)]),
    ("adaptive_avgpool1d", {"output_size": 3}, [(B, 4, 10)]),
    ("adaptive_avgpool2d", {"output_size": [2, 5]}, [(B, 4, 7, 9)]),
    ("adaptive_avgpool2d", {"output_size": 1}, [(B, 8, 3, 3)]),
    ("conv_transpose1d", {"in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": 2,
                          "padding": 1, "output_padding": 1}, [(B, 2, 9)]),
    ("conv_transpose2d", {"in_channels": 4, "out_channels": 6, "kernel_size": [3, 2],
                          "stride": [2, 3], "padding": [1, 0], "output_padding": [1, 2],
                          "groups": 2, "dilation": [1, 2]}, [(B, 4, 5, 6)]),
    ("conv_transpose2d", {"in_channels": 3, "out_channels": 2, "kernel_size": 4,
                          "stride": 2, "padding": 1}, [(B, 3, 8, 8)]),
    ("dropout2d", {"p": 0.3}, [(B, 4, 5, 5)]),
    ("groupnorm", {"num_groups": 2, "num_channels": 6}, [(B, 6, 5, 5)]),
    ("groupnorm", {"num_groups": 3, "num_channels": 3, "affine": False}, [(B, 3, 7)]),
]


def _values(name, given):
    entry = REGISTRY.get("layer", name)
    values = entry.defaults()
    values.update(given)
    return entry, values


def _build(entry, values):
    return resolve(entry.target)(**torch_kwargs(values))


def _static(shape):
    return (None, *shape[1:])


@pytest.mark.parametrize("name,args,shapes", SHAPE_CASES, ids=lambda v: str(v)[:40])
def test_shape_rule_and_parameter_count_match_torch(name, args, shapes):
    entry, values = _values(name, args)
    assert not entry.validate or not entry.validate(values)
    layer = _build(entry, values).eval()
    output = layer(*[torch.randn(s) for s in shapes])
    assert isinstance(output, torch.Tensor)  # one tensor, not torch's tuples
    assert entry.shape([_static(s) for s in shapes], values) == _static(tuple(output.shape))
    count = (entry.params or (lambda args: 0))(values)
    assert count == sum(p.numel() for p in layer.parameters())


@pytest.mark.parametrize("name,args", [
    ("gru", {"input_size": 3, "hidden_size": 4, "num_layers": 3, "bidirectional": True,
             "bias": False}),
    ("lstm", {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True}),
    ("multihead_attention", {"embed_dim": 6, "num_heads": 2, "kdim": 4, "vdim": 5,
                             "bias": False}),
    ("multihead_attention", {"embed_dim": 6, "num_heads": 2}),
    ("transformer_encoder_layer", {"d_model": 6, "nhead": 2, "dim_feedforward": 10}),
    ("transformer_encoder_layer", {"d_model": 6, "nhead": 2, "bias": False}),
    ("positional_embedding", {"max_length": 9, "embedding_dim": 5}),
    ("conv_transpose2d", {"in_channels": 4, "out_channels": 6, "kernel_size": [3, 2],
                          "groups": 2}),
    ("groupnorm", {"num_groups": 2, "num_channels": 6}),
])
def test_parameter_count_matches_torch(name, args):
    entry, values = _values(name, args)
    layer = _build(entry, values)
    assert entry.params(values) == sum(p.numel() for p in layer.parameters())


def test_last_is_the_final_hidden_state():
    """output = "last" of a bidirectional GRU is torch's h_n of the top layer, both
    directions: the forward direction's last step and the backward direction's first."""
    entry, values = _values("gru", {"input_size": 3, "hidden_size": 4, "num_layers": 2,
                                    "bidirectional": True})
    torch.manual_seed(0)
    sequence = _build(entry, values).eval()
    last = _build(entry, {**values, "output": "last"}).eval()
    last.load_state_dict(sequence.state_dict())
    x = torch.randn(2, 5, 3)
    steps, final = sequence(x), last(x)
    torch.testing.assert_close(final[:, :4], steps[:, -1, :4])
    torch.testing.assert_close(final[:, 4:], steps[:, 0, 4:])


@pytest.mark.parametrize("name,args,bad", [
    ("multihead_attention", {"embed_dim": 6, "num_heads": 4}, "num_heads"),
    ("transformer_encoder_layer", {"d_model": 10, "nhead": 3}, "nhead"),
    ("groupnorm", {"num_groups": 4, "num_channels": 6}, "num_groups"),
    ("conv_transpose2d", {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "groups": 2},
     "in_channels"),
])
def test_cross_argument_rules_reject_what_torch_rejects(name, args, bad):
    entry, values = _values(name, args)
    assert bad in [arg for arg, _ in entry.validate(values)]
    with pytest.raises((AssertionError, ValueError, RuntimeError)):
        _build(entry, values)


@pytest.mark.parametrize("name,args,shape", [
    ("conv_transpose2d", {"in_channels": 2, "out_channels": 2, "kernel_size": 3,
                          "output_padding": 1}, (B, 2, 5, 5)),
    ("conv_transpose1d", {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2,
                          "output_padding": 2}, (B, 2, 5)),
])
def test_output_padding_rule_rejects_what_torch_rejects_when_run(name, args, shape):
    entry, values = _values(name, args)
    assert "output_padding" in [arg for arg, _ in entry.validate(values)]
    with pytest.raises(RuntimeError):
        _build(entry, values)(torch.randn(shape))


def test_dropout_on_one_recurrent_layer_is_an_error_where_torch_warns():
    entry, values = _values("lstm", {"input_size": 2, "hidden_size": 3, "dropout": 0.5})
    assert [arg for arg, _ in entry.validate(values)] == ["dropout"]
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        _build(entry, values)
    assert not entry.validate({**values, "num_layers": 2})


@pytest.mark.parametrize("name,args,shapes,arg", [
    ("gru", {"input_size": 4, "hidden_size": 6}, [(B, 7, 5)], "input_size"),
    ("multihead_attention", {"embed_dim": 8, "num_heads": 2}, [(B, 5, 8), (B, 3, 6)],
     "embed_dim"),
    ("multihead_attention", {"embed_dim": 8, "num_heads": 2},
     [(B, 5, 8), (B, 3, 8), (B, 4, 8)], None),
    ("transformer_encoder_layer", {"d_model": 8, "nhead": 2}, [(B, 5, 6)], "d_model"),
    ("positional_embedding", {"max_length": 6, "embedding_dim": 4}, [(B, 7, 4)], "max_length"),
    ("conv_transpose2d", {"in_channels": 3, "out_channels": 2, "kernel_size": 3},
     [(B, 2, 5, 5)], "in_channels"),
    ("conv_transpose1d", {"in_channels": 2, "out_channels": 2, "kernel_size": 1,
                          "padding": 1}, [(B, 2, 1)], "padding"),
    ("groupnorm", {"num_groups": 2, "num_channels": 6}, [(B, 4, 5)], "num_channels"),
    ("adaptive_avgpool2d", {"output_size": 2}, [(B, 4)], None),
])
def test_shape_rule_rejects_what_torch_rejects(name, args, shapes, arg):
    """(A batched model never gives a recurrent layer 2-d input: torch would read (N, F) as
    one unbatched sequence, so the rule's rank-3 requirement is deliberately stricter.)"""
    entry, values = _values(name, args)
    with pytest.raises(ShapeError) as error:
        entry.shape([_static(s) for s in shapes], values)
    assert error.value.arg == arg
    with warnings.catch_warnings(), pytest.raises((RuntimeError, ValueError, AssertionError)):
        warnings.simplefilter("ignore")
        _build(entry, values)(*[torch.randn(s) for s in shapes])


# ---- the checker on spec text ----------------------------------------------------------------

DATA = """
data steps {
    inputs = [[[0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 1.0, 0.0], [0.5, 0.5, 0.5, 0.5]]]
    labels = [1]
    num_classes = 3
}
train {
    model = Net
    data = steps
    loss = cross_entropy
}
"""


def _errors(model: str):
    text = model + DATA
    analysis = analyze_text(text, "spec.lit")
    return text, [(d.code, d.line, d.column, d.message, d.hint) for d in analysis.diagnostics
                  if d.severity == "error"]


def _at(text: str, needle: str) -> tuple[int, int]:
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _net(*lines: str, layers: str = "") -> str:
    body = "\n".join(f"        {line}" for line in lines)
    return f"model Net {{\n{layers}\n    forward(x) {{\n{body}\n    }}\n}}\n"


LAYERS = """    attn = multihead_attention(4, 2)
    proj = linear(4, 6)
    head = gru(4, 3, output = "last")"""


def test_attention_and_residual_check_clean():
    _, errors = _errors(_net("h = x + attn(x)", "h = h + attn(h, x)", "h = h + attn(h, x, x)",
                                "return head(h)", layers=LAYERS))
    assert errors == []


def test_too_many_inputs_to_a_layer_is_located_at_the_call():
    text, errors = _errors(_net("h = attn(x, x, x, x)", "return head(proj(h))", layers=LAYERS))
    assert [(e[0], e[1], e[2]) for e in errors] == [("arity", *_at(text, "attn(x, x, x, x)"))]
    assert "takes 1 to 3 inputs, not 4" in errors[0][3]
    text, errors = _errors(_net("return head(x, x)", layers=LAYERS))
    assert "exactly one input, not 2" in errors[0][3]


def test_mismatched_key_features_point_at_the_key():
    text, errors = _errors(_net("k = proj(x)", "return head(attn(x, k))", layers=LAYERS))
    assert [(e[0], e[1], e[2]) for e in errors] == [("shape", *_at(text, "k))"))]
    assert "key features of size 4 (embed_dim) but 6 arrive" in errors[0][3]
    assert errors[0][4] == "the layer is defined at line 2"


def test_mismatched_value_points_at_the_value():
    text, errors = _errors(_net("return head(attn(x, x, head(x)))", layers=LAYERS))
    assert [(e[0], e[1], e[2]) for e in errors] == [("shape", *_at(text, "head(x)))"))]
    assert "batch-first value" in errors[0][3]
    text, errors = _errors(_net("return head(attn(x, cat([x, x], dim = 1), x))", layers=LAYERS))
    assert [(e[0], e[1], e[2]) for e in errors] == [("shape", *_at(text, "x))"))]
    assert "key and value must have the same sequence length" in errors[0][3]


def test_residual_add_of_mismatched_shapes_is_located_at_the_add():
    text, errors = _errors(_net("h = x + proj(x)", "return head(h)", layers=LAYERS))
    assert [(e[0], e[1], e[2]) for e in errors] == [("shape", *_at(text, "x + proj(x)"))]
    assert errors[0][3] == "`+`: shapes (N, 3, 4) and (N, 3, 6) cannot be broadcast together"


def test_recurrent_input_size_error_points_at_the_argument():
    text, errors = _errors(_net("return head(proj(x))", layers=LAYERS))
    assert [(e[0], e[1], e[2]) for e in errors] == [("shape", *_at(text, "4, 3, output"))]
    assert errors[0][4] == "the layer is used at line 6"


@pytest.mark.parametrize("layer,needle", [
    ("multihead_attention(4, 3)", "3)"), ("groupnorm(2, 3)", "2, 3)"),
    ("lstm(4, 3, dropout = 0.2)", "0.2"), ("transformer_encoder_layer(4, 3)", "3)"),
])
def test_constructor_rules_are_check_errors(layer, needle):
    text, errors = _errors(f"model Net {{\n    l = {layer}\n    layers {{ l }}\n}}\n")
    line = text.splitlines()[1]
    located = [(e[0], e[1], e[2]) for e in errors if e[0] == "value"]
    assert located == [("value", 2, line.rindex(needle) + 1)]


def test_a_model_of_recurrent_layers_is_trainable():
    _, errors = _errors("model Net {\n    layers { gru(4, 3, output = \"last\") }\n}\n")
    assert errors == []


def test_graph_draws_every_input_of_a_layer_call():
    spec = Path(__file__).parents[1] / "codegen" / "specs" / "attention.lit"
    graph = build_graph(analyze_file(str(spec)).program.runs["attend"])
    (cross,) = [node.id for node in graph.nodes if node.label.startswith("cross:")]
    sources = {edge.source for edge in graph.edges if edge.target == cross}
    labels = {node.id: node.label.split(":")[0] for node in graph.nodes}
    assert sorted(labels[s] for s in sources) == ["+", "memory", "recurrent"]  # h, k, v
