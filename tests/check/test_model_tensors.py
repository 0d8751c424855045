"""The checker's torch-free names of a model's tensors are the compiled model's
``state_dict()``: every model of every spec in specs/ and of the test specs that compile, with
the same names, shapes and dtypes (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightdsl.analysis import analyze_text
from lightdsl.checker.tensors import model_tensors, part_tensors
from lightdsl.compile import model as compile_model
from lightdsl.compile.model import SpecModel

from ..compose.specs import SPECS
from .test_tensors_vs_torch import torch_tensors

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("specs/*.lit"), *ROOT.glob("tests/codegen/specs/*.lit")])

SHARED = """
model Body(width = 4) {
    param scale = [1.0, 2.0, 3.0, 4.0]
    stem = linear(4, width)
    layers {
        stem
        batchnorm1d(width)
        repeat(2) { linear(width, width) relu layernorm(width) }
        repeat(3) { Block }
        stem
    }
}
model Block {
    attn = multihead_attention(4, 2)
    forward(x) { return x }
}
model Net {
    body = Body(4)
    odd  = python("mylayers:Odd", size = 4)
    seq  = lstm(4, 3, num_layers = 2, bidirectional = true)
    forward(x) { return odd(body(x)) }
}
"""
PYTHON = """
import torch
from torch import nn

class Odd(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.secret = nn.Parameter(torch.zeros(size, 2))
        self.register_buffer("counter", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        return x
"""


def _models(text: str, path: str) -> dict:
    analysis = analyze_text(text, path)
    assert not [d for d in analysis.diagnostics if d.severity == "error"], \
        [d.message for d in analysis.diagnostics]
    return analysis.program.models


def _compare(info, monkeypatch) -> None:
    # init weights(...) on a part would load a file while building: not what is compared
    monkeypatch.setattr(compile_model, "warm_start", lambda *args, **kwargs: None)
    found = model_tensors(info)
    state = torch_tensors(SpecModel(info))
    hidden = {k for k in state if any(k.startswith(u) for u in found.unknown)}
    assert found.expected == {k: v for k, v in state.items() if k not in hidden}
    return found, hidden


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_spec_models_tensors_are_the_compiled_state_dict(path, monkeypatch):
    models = _models(path.read_text(encoding="utf-8"), str(path))
    assert models
    for info in models.values():
        found, hidden = _compare(info, monkeypatch)
        assert not found.unknown and not hidden


@pytest.mark.parametrize("name", sorted(SPECS))
def test_composed_models_tensors_are_the_compiled_state_dict(name, monkeypatch, tmp_path):
    for info in _models(SPECS[name], str(tmp_path / "s.lit")).values():
        _compare(info, monkeypatch)


def test_shared_layers_repeats_params_and_python_layers(monkeypatch, tmp_path):
    (tmp_path / "mylayers.py").write_text(PYTHON, encoding="utf-8")
    net = _models(SHARED, str(tmp_path / "s.lit"))["Net"]
    found, hidden = _compare(net, monkeypatch)
    assert found.unknown == ["odd."] and hidden == {"odd.secret", "odd.counter"}
    names = found.expected
    # a named layer used in layers { } is under both names, as in state_dict
    assert names["body.stem.weight"] == names["body.layers.0.weight"] == ((4, 4), "float32")
    assert names["body.layers.4.weight"] == ((4, 4), "float32")
    assert names["body.scale"] == ((4,), "float32")
    assert names["body.layers.1.num_batches_tracked"] == ((), "int64")
    assert "body.layers.2.1.2.bias" in names  # repeat copy 1, its third layer
    assert "body.layers.3.2.attn.in_proj_weight" in names  # repeat of a used model
    assert names["seq.weight_hh_l1_reverse"] == ((12, 3), "float32")


def test_a_part_is_named_as_its_own_module(monkeypatch, tmp_path):
    (tmp_path / "mylayers.py").write_text(PYTHON, encoding="utf-8")
    models = _models(SHARED, str(tmp_path / "s.lit"))
    monkeypatch.setattr(compile_model, "warm_start", lambda *args, **kwargs: None)
    module = SpecModel(models["Net"])
    assert part_tensors(models["Net"], "body").expected == torch_tensors(module.body)
    body = models["Net"].layers["body"].model
    assert part_tensors(body, "layers.3").expected == torch_tensors(module.body.layers[3])
    assert part_tensors(models["Net"], "odd").unknown == [""]


def test_a_checkpoint_holds_the_walks_names(tmp_path):
    """What load_weights matches: the whole SpecModule's state_dict (loss, metrics and data
    are not children), as a lightdsl checkpoint saves it."""
    import shutil

    import lightdsl

    shutil.copy(ROOT / "specs" / "iris_csv.lit", tmp_path)
    shutil.copytree(ROOT / "specs" / "data", tmp_path / "data")
    experiment = lightdsl.load(str(tmp_path / "iris_csv.lit"))
    assert model_tensors(experiment.run.model).expected == torch_tensors(experiment.module)
