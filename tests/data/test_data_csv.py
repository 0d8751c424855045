"""CSV loading: values, label kinds, column selection, and each bad-file message."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from lightdsl.data import load_csv
from lightdsl.errors import DataError

SPECS_DATA = Path(__file__).resolve().parents[2] / "specs" / "data"


def write(tmp_path, text: str, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_string_classes_are_sorted_and_mapped(tmp_path):
    path = write(tmp_path, "a,b,kind\n1,2,cat\n3,4.5,dog\n-1,0,ant\n5,6,cat\n")
    ds = load_csv(path, label="kind")
    assert ds.classes == ["ant", "cat", "dog"]
    assert ds.labels.tolist() == [1, 2, 0, 1] and ds.labels.dtype == torch.int64
    assert ds.inputs.dtype == torch.float32
    assert ds.inputs.tolist() == [[1, 2], [3, 4.5], [-1, 0], [5, 6]]


def test_integer_and_float_labels(tmp_path):
    ints = load_csv(write(tmp_path, "x,y\n0.5,2\n1.5,0\n"), label="y")
    assert ints.labels.dtype == torch.int64 and ints.labels.tolist() == [2, 0]
    assert ints.classes is None
    floats = load_csv(write(tmp_path, "x,y\n0.5,2\n1.5,0.25\n", "f.csv"), label="y")
    assert floats.labels.dtype == torch.float32 and floats.labels.tolist() == [2.0, 0.25]


def test_feature_selection_order_and_index(tmp_path):
    path = write(tmp_path, "a,b,c,y\n1,2,3,0\n4,5,6,1\n")
    ds = load_csv(path, label=-1, features=["c", 0])
    assert ds.inputs.tolist() == [[3, 1], [6, 4]]
    assert load_csv(path, label="y", features=["b"]).inputs.tolist() == [[2], [5]]


def test_no_header_semicolon(tmp_path):
    ds = load_csv(write(tmp_path, "1;2;x\n3;4;y\n"), label=2, delimiter=";", header=False)
    assert ds.inputs.tolist() == [[1, 2], [3, 4]] and ds.classes == ["x", "y"]


def test_without_label_all_columns_are_features(tmp_path):
    ds = load_csv(write(tmp_path, "a,b\n1,2\n"))
    assert ds.labels is None and ds.inputs.tolist() == [[1, 2]]


def test_whitespace_bom_and_blank_lines(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffa, b ,y\n 1 , 2,  p \n\n3,4,q\n".encode())
    ds = load_csv(path, label="y", features=["a", "b"])
    assert ds.inputs.tolist() == [[1, 2], [3, 4]] and ds.classes == ["p", "q"]


def test_ragged_row_names_file_and_line(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,0\n\n3,4\n")
    with pytest.raises(DataError) as err:
        load_csv(path, label="y")
    assert str(err.value).startswith(f"{path}:4: row has 2 fields, expected 3")


def test_non_numeric_cell_names_line_and_column(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,0\n3,4,1\n5,abc,1\n")
    with pytest.raises(DataError) as err:
        load_csv(path, label="y")
    assert str(err.value) == f"{path}:4: non-numeric value 'abc' in column 'b' (column 2)"


def test_empty_cell(tmp_path):
    path = write(tmp_path, "a,b,y\n1,,0\n")
    with pytest.raises(DataError, match=r":2: empty cell in column 'b' \(column 2\)"):
        load_csv(path, label="y")


def test_value_too_large_for_float32(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n1e39,1\n")
    with pytest.raises(DataError, match=r":3: value '1e39' in column 'a' is too large for float32"):
        load_csv(path, label="y")


def test_empty_label(tmp_path):
    path = write(tmp_path, "a,y\n1,cat\n2, \n")
    with pytest.raises(DataError, match=r":3: empty label in column 'y'"):
        load_csv(path, label="y")


def test_missing_label_column_did_you_mean(tmp_path):
    path = write(tmp_path, "sepal,petal,species\n1,2,a\n")
    with pytest.raises(DataError) as err:
        load_csv(path, label="specis")
    assert f"{path}:1: no label column named 'specis'" in str(err.value)
    assert err.value.hint == 'did you mean "species"?'


def test_missing_feature_lists_columns(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,0\n")
    with pytest.raises(DataError, match="no feature column named 'zzz'") as err:
        load_csv(path, label="y", features=["zzz"])
    assert err.value.hint == "available: 'a', 'b', 'y'"


def test_empty_file_and_header_only(tmp_path):
    with pytest.raises(DataError, match="the file is empty") as err:
        load_csv(write(tmp_path, "\n\n"), label="y")
    assert "table.csv" in str(err.value)
    with pytest.raises(DataError, match="header but no data rows"):
        load_csv(write(tmp_path, "a,y\n", "h.csv"), label="y")


def test_other_mistakes(tmp_path):
    path = write(tmp_path, "a,a,y\n1,2,0\n")
    with pytest.raises(DataError, match="2 columns are named 'a'"):
        load_csv(path, label="y", features=["a"])
    with pytest.raises(DataError, match="both the label and a feature"):
        load_csv(path, label="y", features=[0, "y"])
    with pytest.raises(DataError, match="label column index 7 is out of range"):
        load_csv(path, label=7)
    with pytest.raises(DataError, match="file not found"):
        load_csv(tmp_path / "missing.csv", label="y")


def test_shipped_iris_like_csv_is_reproducible(tmp_path):
    shipped = SPECS_DATA / "iris_like.csv"
    spec = importlib.util.spec_from_file_location(
        "make_iris_like", SPECS_DATA / "make_iris_like.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(tmp_path / "again.csv").read_bytes() == shipped.read_bytes()
    ds = load_csv(shipped, label="species")
    assert ds.inputs.shape == (300, 4)
    assert ds.classes == ["alpina", "borealis", "coastal"]
    assert torch.bincount(ds.labels).tolist() == [100, 100, 100]
