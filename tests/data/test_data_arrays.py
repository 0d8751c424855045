"""Inline lists, .npz/.npy/.pt files and scikit-learn digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lightdsl.data import SOURCES, load_digits, load_inline, load_npy, load_npz, load_pt
from lightdsl.errors import DataError


def test_statquest_doses():
    ds = load_inline(inputs=[0.0, 0.5, 1.0], labels=[0.0, 1.0, 0.0])
    assert ds.inputs.shape == (3,) and ds.labels.shape == (3,)
    assert ds.inputs.dtype == torch.float32 and ds.labels.dtype == torch.float32
    assert ds.inputs.tolist() == [0.0, 0.5, 1.0] and ds.labels.tolist() == [0.0, 1.0, 0.0]


def test_inline_nested_and_class_labels():
    ds = load_inline([[1, 2], [3, 4], [5, 6]], ["b", "a", "b"])
    assert ds.inputs.shape == (3, 2) and ds.inputs.dtype == torch.float32
    assert ds.classes == ["a", "b"] and ds.labels.tolist() == [1, 0, 1]
    assert load_inline([[1.0], [2.0]], [1, 0]).labels.dtype == torch.int64


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([[1, 2], [3]], r"inputs\[1\] has 1 values, inputs\[0\] has 2"),
        ([[1, 2], 3], r"inputs\[1\] is a number but inputs\[0\] is not"),
        ([[[1], [2]], [[1], [2, 3]]], r"inputs\[1\]\[1\] has 2 values, inputs\[1\]\[0\] has 1"),
        ([], "non-empty list"),
    ],
)
def test_inline_ragged(inputs, message):
    with pytest.raises(DataError, match=message):
        load_inline(inputs)


def test_inline_count_mismatch():
    with pytest.raises(DataError, match="3 inputs but 2 labels"):
        load_inline([1.0, 2.0, 3.0], [0.0, 1.0])


def test_npz_by_key_and_dtypes(tmp_path):
    path = tmp_path / "d.npz"
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 1, 3, 4)
    np.savez(
        path,
        images=images,
        target=np.array([3, 1], dtype=np.int32),
        names=np.array(["x", "y"]),
        table=np.ones((2, 5), dtype=np.float64),
    )
    ds = load_npz(path, inputs="images", labels="target")
    assert ds.inputs.dtype == torch.uint8 and ds.inputs.shape == (2, 1, 3, 4)
    assert ds.labels.dtype == torch.int64 and ds.labels.tolist() == [3, 1]
    named = load_npz(path, inputs="table", labels="names")
    assert named.inputs.dtype == torch.float32 and named.classes == ["x", "y"]
    assert load_npz(path, inputs="table", labels=None).labels is None


def test_npz_missing_key_did_you_mean(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, inputs=np.zeros((2, 2)), labels=np.zeros(2))
    with pytest.raises(DataError, match="no array named 'x'") as err:
        load_npz(path)
    assert str(path) in str(err.value) and err.value.hint == "available: 'inputs', 'labels'"
    with pytest.raises(DataError) as err:
        load_npz(path, inputs="input", labels="labels")
    assert err.value.hint == 'did you mean "inputs"?'


def test_npz_count_mismatch_and_object_arrays(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((3, 2)), y=np.zeros(2))
    with pytest.raises(DataError, match="3 input samples but 2 labels"):
        load_npz(path)
    bad = tmp_path / "obj.npz"
    np.savez(bad, x=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(DataError, match="cannot read as a NumPy file"):
        load_npz(bad)


def test_npy_with_labels_file(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(6, dtype=np.int16).reshape(3, 2))
    np.save(tmp_path / "y.npy", np.array([0.5, 1.5, 2.5]))
    ds = load_npy(tmp_path / "x.npy", labels_path=tmp_path / "y.npy")
    assert ds.inputs.dtype == torch.float32 and ds.inputs.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert ds.labels.dtype == torch.float32 and ds.labels_source == str(tmp_path / "y.npy")


def test_npy_and_npz_confused(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(3))
    np.savez(tmp_path / "a.npz", x=np.zeros(3))
    with pytest.raises(DataError, match="not an .npz archive"):
        load_npz(tmp_path / "x.npy")
    with pytest.raises(DataError, match="is an .npz archive"):
        load_npy(tmp_path / "a.npz")
    (tmp_path / "junk.npy").write_bytes(b"junk")
    with pytest.raises(DataError, match="cannot read as a NumPy file") as err:
        load_npy(tmp_path / "junk.npy")
    assert "junk.npy" in str(err.value)


def test_pt_dict_pair_and_tensor(tmp_path):
    x, y = torch.randn(4, 3, dtype=torch.float64), torch.tensor([0, 1, 1, 0])
    torch.save({"x": x, "y": y}, tmp_path / "d.pt")
    ds = load_pt(tmp_path / "d.pt")
    assert ds.inputs.dtype == torch.float32 and torch.allclose(ds.inputs, x.float())
    assert ds.labels.tolist() == [0, 1, 1, 0]
    torch.save((x, ["no", "yes", "yes", "no"]), tmp_path / "pair.pt")
    assert load_pt(tmp_path / "pair.pt").classes == ["no", "yes"]
    torch.save(x, tmp_path / "t.pt")
    assert load_pt(tmp_path / "t.pt", labels=None).labels is None
    with pytest.raises(DataError, match="holds one tensor"):
        load_pt(tmp_path / "t.pt")
    with pytest.raises(DataError, match='did you mean "y"'):
        load_pt(tmp_path / "d.pt", labels="yy")


class Evil:
    """Any non-tensor class: loading it would need unpickling arbitrary code."""


def test_pt_refuses_pickled_code(tmp_path):
    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(DataError, match="cannot read as a torch file") as err:
        load_pt(tmp_path / "evil.pt")
    assert "evil.pt" in str(err.value)


def test_digits():
    pytest.importorskip("sklearn")
    ds = load_digits()
    assert ds.inputs.shape == (1797, 1, 8, 8) and ds.inputs.dtype == torch.float32
    assert float(ds.inputs.min()) == 0.0 and float(ds.inputs.max()) == 16.0
    assert ds.labels.dtype == torch.int64 and ds.labels.shape == (1797,)
    assert torch.bincount(ds.labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digits_without_sklearn(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DataError, match="needs scikit-learn") as err:
        load_digits()
    assert err.value.hint == "pip install scikit-learn"


def test_source_table_names():
    assert set(SOURCES) == {
        "inline",
        "csv",
        "npz",
        "npy",
        "pt",
        "idx",
        "mnist",
        "fashion_mnist",
        "kmnist",
        "cifar10",
        "digits",
    }


def test_digits_pipeline_trains_to_95_percent():
    """Digits -> stratified 20% split -> flatten + normalize(auto) -> a small MLP in plain torch."""
    pytest.importorskip("sklearn")
    from lightdsl.data import fit_transforms, split

    train, val = split(load_digits(), 0.2, seed=0)
    train, others, _ = fit_transforms(train, {"val": val}, ["flatten", ("normalize", {})])
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = train.tensors
    for _ in range(150):  # full-batch steps: about half a second on a CPU
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    vx, vy = others["val"].tensors
    accuracy = (model(vx).argmax(1) == vy).float().mean().item()
    assert accuracy >= 0.95, accuracy
