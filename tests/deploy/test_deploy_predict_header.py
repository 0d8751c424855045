"""predict's CSV header is checked against the training columns (issue 11 item 6): a first row
of numbers is data (the file has no header), a header is matched by name, a header that does not
name the training features is refused. Never a row lost."""

from __future__ import annotations

import random

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightdsl.cli import main
from lightdsl.deploy import load_trained, predict_file
from lightdsl.errors import DataError

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def iris(trained_dir):
    return load_trained(str(trained_dir / "iris_csv.lit"),
                        str(min(trained_dir.glob("lightning_logs/iris_csv/version_*/"
                                                 "checkpoints/last.ckpt"))))


def write(path, rows, header, label, order=FEATURES):
    names = [*order, "species"] if label else list(order)
    lines = [",".join(names)] if header else []
    for values, species in rows:
        by_name = dict(zip(FEATURES, values))
        cells = [f"{by_name[name]:.2f}" for name in order] + ([species] if label else [])
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")


row = st.tuples(st.lists(st.floats(0.1, 8.0), min_size=4, max_size=4),
                st.sampled_from(["alpina", "coastal", "7"]))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=1, max_size=15), header=st.booleans(), label=st.booleans(),
       shuffle=st.booleans())
def test_one_prediction_per_data_row(iris, tmp_path, rows, header, label, shuffle):
    order = list(FEATURES)
    if header and shuffle:  # with a header, columns are found by name in any order
        random.Random(len(rows)).shuffle(order)
    path = tmp_path / "new.csv"
    write(path, rows, header, label, order)
    got = predict_file(iris, str(path))
    assert len(got.outputs) == len(rows)
    write(tmp_path / "reference.csv", rows, header=True, label=False)
    expected = predict_file(iris, str(tmp_path / "reference.csv"))
    assert torch.allclose(got.outputs, expected.outputs)


def test_header_less_file_keeps_its_first_row_on_the_cli(in_trained, capsys):
    lines = (in_trained / "data" / "iris_like.csv").read_text().splitlines()[1:6]
    (in_trained / "no_header.csv").write_text("\n".join(lines) + "\n")
    code = main(["predict", "iris_csv.lit", "--ckpt", "last", "-i", "no_header.csv"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [row.split(",")[0] for row in out[1:]] == [line.split(",")[-1] for line in lines]


def test_a_header_that_does_not_name_the_features_is_refused(iris, tmp_path):
    path = tmp_path / "renamed.csv"
    path.write_text("a,b,petal_length,petal_width\n1,2,3,4\n")
    with pytest.raises(DataError) as err:
        predict_file(iris, str(path))
    assert str(err.value).startswith(
        f"{path}:1: the header lacks the training feature columns 'sepal_length', "
        "'sepal_width' (the model was trained on sepal_length, sepal_width, petal_length, "
        "petal_width)")


def test_header_less_rows_of_another_width_are_a_width_error(iris, tmp_path):
    path = tmp_path / "narrow.csv"
    path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="each sample has 3 values, but the model was trained "
                       "on samples of 4 values"):
        predict_file(iris, str(path))
