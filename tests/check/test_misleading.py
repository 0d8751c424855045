"""Wrong or misleading reports (issue 16 item 19): a hyperparameter given twice in ``--set``,
a float where an integer is wanted, and a uint64 label above 2**63 - 1."""

from __future__ import annotations

import numpy as np
import pytest

from lightdsl.analysis import analyze_text
from lightdsl.cli import main

SPEC = """
model Net(width = 4) {
    layers {
        linear(4, width)
        linear(width, 2)
    }
}
data d { inputs = [[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0]]  labels = [0, 1]  batch_size = 1 }
train { model = Net(width = WIDTH)  data = d  loss = cross_entropy }
"""


@pytest.mark.parametrize("value", ["Net(width = 4, width = 5)", "Net(4, width = 5)"])
def test_a_hyperparameter_given_twice_in_set_is_a_located_error(tmp_path, capsys, value):
    spec = tmp_path / "spec.lit"
    spec.write_text(SPEC.replace("WIDTH", "4"))
    assert main(["train", str(spec), "--set", f"train.model={value}", "--fast-dev-run"]) == 1
    err = capsys.readouterr().err
    column = 1 + len("train.model=") + value.index("width = 5")
    assert f'--set:1:{column}: error: hyperparameter "width" of model Net is given ' \
        "twice  [duplicate]" in err, err


@pytest.mark.parametrize("second", [["--set", "train.max_epochs=2"], ["--max-epochs", "2"]])
def test_a_setting_given_twice_on_the_command_line_is_refused(tmp_path, capsys, monkeypatch,
                                                              second):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "spec.lit"
    spec.write_text(SPEC.replace("WIDTH", "4"))
    code = main(["train", str(spec), "--set", "train.max_epochs=1", *second, "--fast-dev-run"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{' '.join(second)}: train.max_epochs is already set by " \
        "--set train.max_epochs=1; give each setting once" in err, err
    assert not (tmp_path / "lightning_logs").exists()


@pytest.mark.parametrize("width, problem", [
    ("1e9", ("got 1000000000.0, which is a float (an exponent or a decimal point makes one): "
            "write 1000000000")),
    ("4.0", "got 4.0, which is a float (an exponent or a decimal point makes one): write 4"),
    ("2.5", "got 2.5, which is not a whole number"),
    ("1e20", ("got 1e+20, which is a float (an exponent or a decimal point makes one), and "
             "too large"))])
def test_a_float_for_an_integer_says_so_not_out_of_range(width, problem):
    errors = analyze_text(SPEC.replace("WIDTH", width), "spec.lit").errors
    assert errors[0].message == f'argument "out_features" of linear: expected an integer, {problem}'


def test_a_uint64_label_above_int64_is_reported_as_it_is(tmp_path, capsys):
    np.savez(tmp_path / "d.npz", x=np.zeros((2, 4), np.float32),
             y=np.array([0, 2**63], dtype=np.uint64))
    spec = tmp_path / "spec.lit"
    spec.write_text('model Net { layers { linear(4, 3) } }\n'
                    'data d { source = npz("d.npz")  batch_size = 1 }\n'
                    'train { model = Net  data = d  loss = cross_entropy }\n')
    assert main(["train", str(spec), "--fast-dev-run"]) == 1
    err = capsys.readouterr().err
    assert "index 1: label 9223372036854775808 (uint64) is too large for a class label" in err
    assert "-9223372036854775808" not in err
