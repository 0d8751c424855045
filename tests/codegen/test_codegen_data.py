"""The generated load_data() gives the tensors lightdsl's data stage gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lightdsl
from lightdsl.data import write_idx

from ..helpers.scripts import load_script, write_script

TAIL = """
model M {
    layers { flatten()  linear(FEATURES, 3) }
}

train {
    model = M
    data = d
    loss = cross_entropy
}
"""


def _compare(spec_text: str, features: int, tmp_path, classes: int = 3):
    spec = tmp_path / "spec.lit"
    tail = TAIL.replace("FEATURES", str(features)).replace(", 3)", f", {classes})")
    spec.write_text(spec_text + tail, encoding="utf-8")
    data = lightdsl.load(str(spec)).data
    script = load_script(write_script(spec, tmp_path / "gen.py"))
    (train_x, train_y), val = script.load_data()
    torch.testing.assert_close(train_x, data.train.inputs, rtol=0, atol=0)
    assert torch.equal(train_y, data.train.labels)
    if data.val is None:
        assert val is None
    else:
        torch.testing.assert_close(val[0], data.val.inputs, rtol=0, atol=0)
        assert torch.equal(val[1], data.val.labels)


def test_mnist_raw_files_split_and_fitted_normalize(tmp_path):
    rng = np.random.default_rng(1)
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (40, 28, 28), np.uint8))
    write_idx(raw / "train-labels-idx1-ubyte", rng.integers(0, 3, 40).astype(np.uint8))
    spec = """
data d {
    source = mnist(root = "data")
    val = split(0.25, seed = 4)
    normalize(auto)
    batch_size = 8
}
"""
    _compare(spec, 784, tmp_path, classes=10)


def test_csv_with_class_names_and_standardize(tmp_path):
    rows = ["a,b,kind"] + [f"{i % 7}.5,{i * 1.25},{'xyz'[i % 3]}" for i in range(30)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = """
data d {
    source = csv("t.csv", label = "kind")
    val = split(0.2)
    standardize()
    batch_size = 4
}
"""
    _compare(spec, 2, tmp_path)


def test_npz_and_one_hot_free_inline(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.arange(24, dtype=np.float64).reshape(6, 4),
             y=np.array([0, 1, 2, 0, 1, 2]))
    spec = """
data d {
    source = npz("a.npz")
    normalize(mean = 1.5, std = 2)
    flatten()
}
"""
    _compare(spec, 4, tmp_path)


def test_digits(tmp_path):
    pytest.importorskip("sklearn")
    spec = """
data d {
    source = digits()
    val = split(0.1, seed = 0)
    normalize(auto)
}
"""
    _compare(spec, 64, tmp_path, classes=10)
