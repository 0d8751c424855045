"""Every layer entry's ``tensors`` rule is torch's ``state_dict()``: the same names, shapes and
dtypes, for arguments drawn from the entry's own argument types (issue 17). A layer entry
without the rule fails here, so a new layer must say what tensors it holds."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lightdsl.vocab import REGISTRY
from lightdsl.vocab.registry import resolve

from .test_vocab_vs_torch import values_of

LAYERS = REGISTRY.names("layer")


def torch_tensors(module: torch.nn.Module) -> dict:
    return {name: (tuple(t.shape), str(t.dtype).removeprefix("torch."))
            for name, t in module.state_dict().items()}


def build(entry, values: dict) -> torch.nn.Module:
    """The module lightdsl builds (``build`` where it differs from the printed target)."""
    cls = resolve(entry.build or entry.target)
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def test_every_layer_entry_names_its_tensors():
    assert len(LAYERS) >= 29
    assert [name for name in LAYERS if REGISTRY.get("layer", name).tensors is None] == []


@pytest.mark.parametrize("name", LAYERS)
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_layer_tensors_are_torchs_state_dict(name, data):
    entry = REGISTRY.get("layer", name)
    values = {a.name: data.draw(values_of(a.type), label=a.name) for a in entry.args}
    assume(not (entry.validate and entry.validate(values)))
    assert entry.tensors(values) == torch_tensors(build(entry, values))


@pytest.mark.parametrize("name, values, names", [
    ("lstm", {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bias": True,
              "dropout": 0.0, "bidirectional": True, "output": "sequence"},
     {"weight_ih_l1_reverse": ((16, 8), "float32")}),
    ("batchnorm2d", {"num_features": 3, "eps": 1e-5, "momentum": 0.1, "affine": False},
     {"num_batches_tracked": ((), "int64")}),
    ("multihead_attention", {"embed_dim": 4, "num_heads": 2, "dropout": 0.0, "bias": True,
                             "kdim": 3, "vdim": None},
     {"k_proj_weight": ((4, 3), "float32"), "out_proj.bias": ((4,), "float32")}),
])
def test_the_tricky_names_are_there(name, values, names):
    """The draws above cover these; spelt out so that a weakened strategy cannot skip them."""
    entry = REGISTRY.get("layer", name)
    found = entry.tensors(values)
    assert found == torch_tensors(build(entry, values))
    assert names.items() <= found.items()
