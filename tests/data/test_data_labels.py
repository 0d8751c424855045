"""Class labels are checked where data meets the model (issue 11 item 9, the data side): every
source's labels must be class indices below the model's output width for cross_entropy/nll,
reported at load as a DataError naming the file and the row, never an IndexError or a CUDA
assert inside the loss. NaN/inf/huge CSV labels are refused at load for every loss."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lightdsl
from lightdsl.api import SpecError
from lightdsl.compile import data as build_data
from lightdsl.data import load_csv, write_idx
from lightdsl.errors import DataError


def spec(source: str, width: int = 3, loss: str = "cross_entropy", features: int = 2) -> str:
    last = "flatten(0)" if loss == "mse" else ""  # regression: (N, 1) -> (N,) like the labels
    return f"""
model Net() {{
    layers {{
        flatten()
        linear({features}, {width})
        {last}
    }}
}}
data d {{
    source = {source}
    batch_size = 4
}}
train {{
    model = Net()
    data = d
    loss = {loss}
    optimizer = sgd(lr = 0.1)
    max_epochs = 1
}}
"""


def load_data(tmp_path, source: str, **kwargs):
    """The data of a spec, after the model is built on it (as train and evaluate do)."""
    path = tmp_path / "s.lit"
    path.write_text(spec(source, **kwargs))
    experiment = lightdsl.load(str(path))
    assert experiment.module is not None
    return experiment.data


def write_csv(path, labels: list[str], header: bool = True) -> None:
    rows = [f"{i * 0.5},{1 - i * 0.25},{label}" for i, label in enumerate(labels)]
    path.write_text(("a,b,y\n" if header else "") + "\n".join(rows) + "\n")


def test_csv_label_out_of_range_names_file_and_line(tmp_path):
    write_csv(tmp_path / "d.csv", ["0", "1", "2", "5", "1"])
    with pytest.raises(DataError) as err:
        load_data(tmp_path, 'csv("d.csv", label = "y")')
    # line 5 as an editor shows it: the header is line 1, the 4th data row line 5
    assert str(err.value).startswith(f"{tmp_path / 'd.csv'}:5: label 5 is outside 0..2 "
                                     "(num_classes = 3)")


def test_csv_negative_label_after_a_blank_line(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n0,1,0\n\n1,0,-1\n")
    with pytest.raises(DataError, match=r"d\.csv:4: label -1 is outside 0\.\.2"):
        load_data(tmp_path, 'csv("d.csv", label = "y")')


def test_labels_in_range_load(tmp_path):
    write_csv(tmp_path / "d.csv", ["0", "1", "2", "2"])
    data = load_data(tmp_path, 'csv("d.csv", label = "y")')
    assert data.train.labels.tolist() == [0, 1, 2, 2]


def test_regression_loss_does_not_bound_labels(tmp_path):
    write_csv(tmp_path / "d.csv", ["10.5", "-3", "7", "2"])
    data = load_data(tmp_path, 'csv("d.csv", label = "y")', width=1, loss="mse")
    assert data.train.labels.tolist() == [10.5, -3.0, 7.0, 2.0]


@pytest.mark.parametrize("token", ["nan", "NaN", "inf", "-inf", "1e39", "-1e300"])
def test_non_finite_or_huge_csv_label_for_any_loss(tmp_path, token):
    write_csv(tmp_path / "d.csv", ["0.5", "1", token, "2"])
    with pytest.raises(DataError) as err:
        load_csv(tmp_path / "d.csv", label="y")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'd.csv'}:4: label {token!r} in column 'y' is ")
    assert "finite" in message or "too large" in message


@pytest.mark.parametrize("token, says", [("1e30", r"label 1e\+30 is outside 0\.\.2"),
                                         ("1.5", "label 1.5 is not a class index"),
                                         ("2.0", "class labels must be integers")])
def test_float_labels_for_class_index_loss(tmp_path, token, says):
    write_csv(tmp_path / "d.csv", ["0", token, "1"])
    with pytest.raises(DataError, match=says) as err:
        load_data(tmp_path, 'csv("d.csv", label = "y")')
    assert str(err.value).startswith(f"{tmp_path / 'd.csv'}:")


def test_class_names_beyond_the_output_width(tmp_path):
    write_csv(tmp_path / "d.csv", ["ant", "bee", "cat", "dog"])
    with pytest.raises(DataError, match=r"d\.csv:5: label 3 \('dog', one of 4 class names\) "
                       r"is outside 0\.\.2 \(num_classes = 3\)\n  hint: .*width of the model's"):
        load_data(tmp_path, 'csv("d.csv", label = "y")')


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.lists(st.integers(0, 2), min_size=1, max_size=12),
       bad=st.sampled_from(["3", "-1", "99", "nan", "inf", "1e30", "0.5", "1e400"]),
       at=st.integers(0, 12), header=st.booleans())
def test_any_bad_label_is_located(tmp_path, labels, bad, at, header):
    """One bad label anywhere in a CSV (with or without header): DataError at its line."""
    at = min(at, len(labels))
    tokens = [str(v) for v in labels]
    tokens.insert(at, bad)
    write_csv(tmp_path / "d.csv", tokens, header=header)
    label = '"y"' if header else '"2"'
    source = f'csv("d.csv", label = {label}, header = {"true" if header else "false"})'
    try:
        load_data(tmp_path, source)
    except SpecError as error:
        # `check` reads the header and first row: a float first label is its error, in the spec
        assert header and at == 0 and not bad.lstrip("-").isdigit()
        assert "cross_entropy wants integer class labels" in str(error)
        return
    except DataError as error:
        err = error
    else:
        pytest.fail("no error for a bad label")
    line = at + 1 + header
    assert str(err).startswith(f"{tmp_path / 'd.csv'}:{line}: label ")


def test_idx_labels_out_of_range(tmp_path):
    images = write_idx(tmp_path / "img", np.zeros((4, 2, 1), dtype=np.uint8))
    labels = write_idx(tmp_path / "lab", np.array([0, 2, -4, 1], dtype=np.int16))
    with pytest.raises(DataError) as err:
        load_data(tmp_path, f'idx("{images}", "{labels}")')
    assert str(err.value).startswith(f"{labels}:index 2: label -4 is outside 0..2")


def test_npz_labels_out_of_range_and_float(tmp_path):
    x = np.zeros((3, 2), dtype=np.float32)
    np.savez(tmp_path / "a.npz", x=x, y=np.array([0, 1, 3]))
    with pytest.raises(DataError, match=r"a\.npz:index 2: label 3 is outside 0\.\.2"):
        load_data(tmp_path, 'npz("a.npz")')
    np.savez(tmp_path / "b.npz", x=x, y=np.array([0.0, np.nan, 1.0]))
    with pytest.raises(DataError, match=r"b\.npz:index 1: label nan is not a class index"):
        load_data(tmp_path, 'npz("b.npz")')


def test_soft_targets_are_not_class_indices(tmp_path):
    x = np.zeros((3, 2), dtype=np.float32)
    np.savez(tmp_path / "p.npz", x=x, y=np.full((3, 3), 1 / 3, dtype=np.float32))
    assert load_data(tmp_path, 'npz("p.npz")').train.labels.shape == (3, 3)


def test_mnist_labels_beyond_the_output_width(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((5, 28, 28), dtype=np.uint8))
    write_idx(raw / "train-labels-idx1-ubyte", np.array([0, 1, 2, 12, 1], dtype=np.uint8))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte:index 3: label 12 is outside "
                       r"0\.\.9"):
        load_data(tmp_path, f'mnist(root = "{tmp_path}")', width=10, features=784)


def test_digits_go_through_the_same_check(tmp_path):
    # the checker already refuses a 5-wide model for 10 digit classes; the loader's check is
    # the same function for every source, so it catches the labels too
    pytest.importorskip("sklearn")
    path = tmp_path / "s.lit"
    path.write_text(spec("digits()", width=10, features=64))
    info = lightdsl.load(str(path)).run.data
    with pytest.raises(DataError, match=r"digits \(scikit-learn\):index \d+: label [5-9] is "
                       r"outside 0\.\.4 \(num_classes = 5\)"):
        build_data.load_data(info, str(tmp_path), num_classes=5)


def test_a_label_found_after_a_split_is_located_in_the_file(tmp_path):
    # npz data: the output width is only known once the model runs; by then the data is split,
    # and the message still gives the index in the file, not in the split
    x = np.zeros((10, 2), dtype=np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 9, 1, 2])
    np.savez(tmp_path / "a.npz", x=x, y=y)
    source = 'npz("a.npz")\n    val = split(0.5, seed = 0)'
    with pytest.raises(DataError) as err:
        load_data(tmp_path, source)
    assert str(err.value).startswith(f"{tmp_path / 'a.npz'}:index 7: label 9 is outside 0..2")
