"""Trained checkpoints for the deploy tests: StatQuest, the iris CSV classifier and a small
MNIST-shaped MLP, each trained once per session in its own folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch

import lightdsl

SPECS = Path(__file__).resolve().parents[2] / "specs"
QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None}

MLP_SPEC = """
model NeuralNet(input_size = 784, hidden_size = 24, num_classes = 10) {
    layers {
        flatten()
        linear(input_size, hidden_size)
        relu()
        linear(hidden_size, num_classes)
    }
}
data digits {
    source     = pt(path = "train.pt")
    val        = pt(path = "val.pt")
    normalize(mean = 0.5, std = 0.25)
    batch_size = 16
}
train {
    model      = NeuralNet()
    data       = digits
    loss       = cross_entropy
    metrics    = [accuracy]
    optimizer  = adam(lr = 0.003)
    max_epochs = 2
    seed       = 5
}
"""


def fast_statquest(text: str) -> str:
    """The StatQuest spec trained to the same fit in a moment: SGD at lr 0.2 for 34 epochs
    instead of an lr_find suggestion and 2000 epochs (what predict and export see is the same
    network with final_bias near -16)."""
    lines = [line for line in text.splitlines() if "lr_find(" not in line]
    text = "\n".join(lines) + "\n"
    text = re.sub(r"optimizer(\s*)= sgd\(lr = [0-9.]+\)", r"optimizer\1= sgd(lr = 0.2)", text)
    return re.sub(r"max_epochs(\s*)= \d+", r"max_epochs\1= 34", text)


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory) -> Path:
    """A folder with statquest.lit, iris_csv.lit and mlp.lit, each trained (lightning_logs/)."""
    root = tmp_path_factory.mktemp("trained")
    (root / "statquest.lit").write_text(fast_statquest((SPECS / "statquest.lit").read_text()))
    shutil.copy(SPECS / "iris_csv.lit", root)
    (root / "data").mkdir()
    shutil.copy(SPECS / "data" / "iris_like.csv", root / "data")
    g = torch.Generator().manual_seed(0)
    for name, n in (("train", 96), ("val", 20)):
        x = torch.rand(n, 1, 28, 28, generator=g)
        torch.save({"x": x, "y": x.flatten(1)[:, :10].argmax(1)}, root / f"{name}.pt")
    (root / "mlp.lit").write_text(MLP_SPEC)
    for spec in ("statquest.lit", "iris_csv.lit", "mlp.lit"):
        lightdsl.load(str(root / spec)).fit(default_root_dir=str(root / "lightning_logs"),
                                            **QUIET)
    return root


@pytest.fixture
def in_trained(trained_dir, monkeypatch) -> Path:
    """Run the test inside the trained folder (so that `--ckpt last` finds the runs)."""
    monkeypatch.chdir(trained_dir)
    return trained_dir
