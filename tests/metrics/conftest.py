"""Small classification and regression specs for the metric tests (tiny data, fast)."""

from __future__ import annotations

import numpy as np
import pytest

CLASSIFIER = """
model Net {
    layers {
        linear(4, 6)
        tanh()
        linear(6, 3)
    }
}

data blobs {
    source = npz("blobs.npz")
    val = split(0.5, seed = 1)
    batch_size = 7
}

train {
    model = Net
    data = blobs
    loss = cross_entropy
    metrics = [accuracy, f1(average = "macro"), precision, recall(average = "micro"), auroc,
               confusion_matrix]
    max_epochs = 1
    seed = 3
}
"""

REGRESSOR = """
model Line {
    layers {
        linear(3, 1)
    }
}

data points {
    source = npz("points.npz")
    val = split(0.5, seed = 1)
    batch_size = 6
}

train {
    model = Line
    data = points
    loss = mse
    metrics = [mae, mse, r2]
    max_epochs = 1
    seed = 3
}
"""


@pytest.fixture
def classifier_spec(tmp_path):
    """A 3-class spec on 46 samples (uneven batches of 7) whose data shapes check leaves open."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=46)
    inputs = (rng.normal(size=(3, 4))[labels] + rng.normal(size=(46, 4))).astype(np.float32)
    np.savez(tmp_path / "blobs.npz", x=inputs, y=labels)
    spec = tmp_path / "classifier.lit"
    spec.write_text(CLASSIFIER, encoding="utf-8")
    return spec


@pytest.fixture
def regressor_spec(tmp_path):
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(40, 3)).astype(np.float32)
    targets = (inputs @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 * rng.normal(size=(40, 1)))
    np.savez(tmp_path / "points.npz", x=inputs, y=targets.astype(np.float32))
    spec = tmp_path / "regressor.lit"
    spec.write_text(REGRESSOR, encoding="utf-8")
    return spec
