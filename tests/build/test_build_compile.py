"""Compiled specs compute what hand-written torch computes (micrograd-style numeric checks)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

import lightdsl
from lightdsl.api import load_source
from lightdsl.source import SourceFile

SPECS = Path(__file__).resolve().parents[2] / "specs"


def compile_text(text: str, tmp_path: Path, name: str = "spec.lit"):
    path = tmp_path / name
    path.write_text(text)
    return lightdsl.load(str(path))


def test_statquest_forward_matches_hand_written_torch():
    module = lightdsl.load(str(SPECS / "statquest.lit")).module
    doses = torch.rand(50)
    top = F.relu(doses * 1.70 - 0.85) * -40.8
    bottom = F.relu(doses * 12.6 + 0.0) * 2.70
    assert torch.equal(module(doses), F.relu(top + bottom + 0.0))
    frozen = {n for n, p in module.named_parameters() if not p.requires_grad}
    assert frozen == {"w00", "b00", "w01", "w10", "b10", "w11"}
    assert [n for n, p in module.named_parameters() if p.requires_grad] == ["final_bias"]


def test_mlp_layers_match_torch_sequential():
    source = SourceFile((SPECS / "mnist_mlp.lit").read_text().replace(
        'mnist(root = "data", download = true)', "digits()").replace(
        'val        = mnist(root = "data", split = "test")', "").replace("784", "64"),
        str(SPECS / "mlp_digits_variant.lit"))
    module = load_source(source).module
    reference = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 500), torch.nn.ReLU(),
                                    torch.nn.Linear(500, 10))
    reference.load_state_dict({k.removeprefix("layers."): v for k, v in module.state_dict().items()})
    x = torch.randn(7, 1, 8, 8)
    assert torch.equal(module(x), reference(x))
    assert module.hparams["hidden_size"] == 500


CNN = """
model Cnn(c = 4) {
    conv = conv2d(1, c, kernel_size = 3, padding = 1)
    pool = maxpool2d(2)
    fc   = linear(c * 4 * 4, 3)
    param scale = [[2.0, 0.5, 1.0]]
    forward(x) {
        h = pool(relu(conv(x)))
        y = fc(reshape(h, [-1, c * 4 * 4])) * scale
        return cat([y, sum(y, dim = 1, keepdim = true)], dim = 1) - mean(y) @ [1.0] ** 2
    }
}
data d {
    inputs = IMAGE
    labels = [3]
}
train { model = Cnn  data = d  loss = cross_entropy }
"""


IMAGE = str([[[[float(i * j) for j in range(8)] for i in range(8)]]])


def test_dataflow_forward_matches_functional_torch(tmp_path):
    text = CNN.replace(" - mean(y) @ [1.0] ** 2", "").replace("IMAGE", IMAGE)
    module = compile_text(text, tmp_path).module
    x = torch.randn(5, 1, 8, 8)
    h = F.max_pool2d(F.relu(F.conv2d(x, module.conv.weight, module.conv.bias, padding=1)), 2)
    y = F.linear(h.reshape(-1, 64), module.fc.weight, module.fc.bias) * module.scale
    expected = torch.cat([y, y.sum(dim=1, keepdim=True)], dim=1)
    assert torch.allclose(module(x), expected, atol=0, rtol=0)


def test_hyperparameter_override_changes_the_built_model(tmp_path):
    path = tmp_path / "cnn.lit"
    text = CNN.replace(" - mean(y) @ [1.0] ** 2", "").replace("IMAGE", IMAGE)
    path.write_text(text.replace("model = Cnn ", "model = Cnn(c = 6) "))
    module = lightdsl.load(str(path)).module
    assert module.conv.out_channels == 6 and module.fc.in_features == 96
    assert module.hparams["c"] == 6
