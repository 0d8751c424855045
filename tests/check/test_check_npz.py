"""`check` reads the shapes of an .npz source from the .npy headers in the archive (no array is
read, no NumPy imported), so a model that does not fit the data is a located error at check
time, as for CSV, IDX and text files (found by specs/transformer_classifier.lit)."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from lightdsl.analysis import analyze_file
from lightdsl.vocab.data import npz_sample

ARRAYS = {
    "float32 sequences": (np.zeros((5, 16, 8), np.float32), np.arange(5) % 2),
    "uint8 images, bool labels": (np.zeros((3, 1, 4, 4), np.uint8), np.array([1, 0, 1], bool)),
    "fortran order, string labels": (np.asfortranarray(np.ones((4, 3, 2))),
                                     np.array(["a", "bb", "a", "c"])),
    "float targets": (np.ones((6, 4), np.float64), np.ones((6, 2), np.float32)),
    "scalar samples": (np.arange(7, dtype=np.int16), np.arange(7, dtype=np.uint32)),
}


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("name", list(ARRAYS))
def test_shapes_are_numpys(tmp_path, name, compressed):
    x, y = ARRAYS[name]
    path = tmp_path / "a.npz"
    (np.savez_compressed if compressed else np.savez)(path, inputs=x, targets=y)
    shape, labels = npz_sample({"path": str(path), "inputs": "inputs", "labels": "targets"})
    assert shape == x.shape[1:]
    if y.dtype.kind == "f":  # targets, or class probabilities: left to the loader
        assert (labels.kind, labels.shape) == (None, None)
    else:
        assert (labels.kind, labels.shape) == ("class", (None, *y.shape[1:]))
    assert labels.num_classes is None  # that would need the values


def test_version_2_headers(tmp_path):
    path = tmp_path / "v2.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in (("x", np.zeros((2, 3))), ("y", np.zeros(2, np.int64))):
            with archive.open(f"{key}.npy", "w") as handle:
                np.lib.format.write_array(handle, array, version=(2, 0))
    assert np.load(path)["x"].shape == (2, 3)
    shape, labels = npz_sample({"path": str(path), "inputs": "x", "labels": "y"})
    assert (shape, labels.kind, labels.shape) == ((3,), "class", (None,))


@pytest.mark.parametrize("content", [None, b"not a zip", "no key"])
def test_what_cannot_be_read_stays_unknown(tmp_path, content):
    path = tmp_path / "a.npz"
    if content == "no key":
        np.savez(path, other=np.zeros(3))
    elif content is not None:
        path.write_bytes(content)
    shape, labels = npz_sample({"path": str(path), "inputs": "x", "labels": "y"})
    assert shape is None and (labels.kind, labels.shape) == (None, None)


SPEC = """
model M {{
    layers {{
        linear({features}, 3)
    }}
}}

data d {{
    source = npz(path = "d.npz")
    batch_size = 2
}}

train {{
    model = M()
    data = d
    loss = {loss}
}}
"""


def _check(tmp_path, features: int, loss: str = "cross_entropy", labels=None):
    labels = np.array([0, 1, 2, 0]) if labels is None else labels
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 5), np.float32), y=labels)
    spec = tmp_path / "s.lit"
    spec.write_text(SPEC.format(features=features, loss=loss), encoding="utf-8")
    return analyze_file(str(spec))


def test_a_model_that_does_not_fit_the_arrays_is_a_check_error(tmp_path):
    assert _check(tmp_path, 5).errors == []
    assert _check(tmp_path, 5).program.runs["default"].output_shape == (None, 3)
    [error] = _check(tmp_path, 4).errors
    assert "linear expects 4 input features (in_features) but 5 arrive" in error.message
    [error] = _check(tmp_path, 5, loss="mse").errors
    assert "mse compares the output (N, 3) with labels (N,)" in error.message
