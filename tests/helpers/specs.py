"""Spec texts that tests in more than one file write, and writers for them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IRIS_CSV = ROOT / "specs" / "data" / "iris_like.csv"  # 240 training rows after the split

# the metric tests' small specs (tests/metrics/conftest.py writes their data)
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


IRIS = """
model IrisNet {
    layers {
        linear(4, 8)
        relu()
        linear(8, 3)
    }
}
data iris {
    source     = csv("DATA", label = "species")
    val        = split(0.2, seed = 0)
    batch_size = BATCH
}
train {
    model      = IrisNet
    data       = iris
    loss       = cross_entropy
SETTINGS    optimizer  = adam(lr = 0.01)
    max_epochs = EPOCHS
    seed       = 0
    enable_model_summary = false
}
"""


def iris_spec(folder: Path, epochs: int, batch_size: int, *settings: str) -> Path:
    """``folder/iris.lit``: a small seeded classifier of specs/data/iris_like.csv, trained
    with adam for ``epochs`` epochs, without a model summary; ``settings``: more lines of its
    train block (``'logger = csv()'``)."""
    spec = folder / "iris.lit"
    lines = "".join(f"    {line}\n" for line in settings)
    spec.write_text(IRIS.replace("DATA", str(IRIS_CSV)).replace("EPOCHS", str(epochs))
                    .replace("BATCH", str(batch_size)).replace("SETTINGS", lines),
                    encoding="utf-8")
    return spec


# one model trained by two runs on data of different widths (each run keeps its own shapes)
TWO_RUNS = """
model Scale {
    param scale = 1.0
    forward(x) {
        h = relu(x)
        return h * scale
    }
}
data narrow {
    inputs = [[1.0, 2.0, 3.0, 4.0]]
    labels = [[1.0, 2.0, 3.0, 4.0]]
}
data wide {
    inputs = [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]
    labels = [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]
}
train first { model = Scale  data = narrow  loss = mse }
train second { model = Scale  data = wide  loss = mse }
"""
