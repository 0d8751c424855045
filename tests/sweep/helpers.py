"""A tiny iris spec with a sweep block, written into a temporary folder with its data."""

from __future__ import annotations

import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "specs" / "data" / "iris_like.csv"

BASE = """
model IrisNet(features = 4, hidden = 16, classes = 3) {
    layers {
        linear(features, hidden)
        relu()
        linear(hidden, classes)
    }
}

data iris {
    source     = csv("iris_like.csv", label = "species")
    val        = split(0.2, seed = 0)
    standardize()
    batch_size = 32
}

train {
    model      = IrisNet()
    data       = iris
    loss       = cross_entropy
    metrics    = [accuracy]
    optimizer  = adam(lr = 0.001)
    max_epochs = 30
    seed       = 0
}
"""


def write_spec(folder: Path, sweep: str, name: str = "iris.lit") -> Path:
    shutil.copy(DATA, folder / "iris_like.csv")
    path = folder / name
    path.write_text(BASE + "\n" + sweep)
    return path
