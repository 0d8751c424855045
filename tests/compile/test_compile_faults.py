"""Faults that passed check and then ended in a torch or torchmetrics traceback (issue 16
item 18): bce on an (N, 1) output with (N,) class labels, r2 with one sample, a 0-d label
array."""

from __future__ import annotations

import numpy as np
import pytest

import lightdsl
from lightdsl.cli import main
from lightdsl.errors import DataError
from lightdsl.frontend.analysis import analyze_text

DATA = "data D {{ inputs = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]  labels = {labels}" \
    "  batch_size = {batch}{more} }}\n"


def spec(model: str, loss: str, labels: str = "[0, 1, 1, 0]", metrics: str = "[]",
         batch: int = 2, more: str = "") -> str:
    return (model + DATA.format(labels=labels, batch=batch, more=more)
            + f"train {{ model = M  data = D  loss = {loss}  metrics = {metrics}  "
            "optimizer = sgd(lr = 0.1)  max_epochs = 1  logger = none }\n")


LINEAR = "model M { layers { linear(2, 1) } }\n"
FLAT = "model M {\n    l = linear(2, 1)\n    forward(x) { return reshape(l(x), [-1]) }\n}\n"


@pytest.mark.parametrize("loss", ["bce", "bce_with_logits"])
def test_bce_with_class_labels_and_an_n_by_1_output_is_a_check_error(loss):
    errors = analyze_text(spec(LINEAR, loss), "s.lit").errors
    assert [(e.line, e.code) for e in errors] == [(3, "loss-labels")]
    assert errors[0].message == (f"{loss} compares the output (N, 1) with labels (N,); torch "
                                 "needs the same shape: end the model with reshape(x, [-1]) for "
                                 "an output (N,), or give the labels as [[0], [1], ...]")


@pytest.mark.parametrize("model,labels", [(FLAT, "[0, 1, 1, 0]"),
                                          (LINEAR, "[[0], [1], [1], [0]]")])
def test_both_suggested_fixes_train(tmp_path, model, labels):
    path = tmp_path / "s.lit"
    path.write_text(spec(model, "bce_with_logits", labels))
    result = lightdsl.load(str(path)).fit(enable_progress_bar=False, enable_model_summary=False,
                                          enable_checkpointing=False)
    assert result.global_step == 2


@pytest.mark.parametrize("more,batch,message", [
    ("  val = split(0.25)", 3, "metric r2 needs at least 2 samples, and the val data has 1"),
    ("", 3, ("metric r2 needs at least 2 samples in every batch, and with batch_size = 3 "
             "and 4 training samples a batch has 1")),
    ("", 1, "with batch_size = 1 and 4 training samples a batch has 1"),
])
def test_r2_with_one_sample_is_refused_before_training(tmp_path, capsys, more, batch, message):
    path = tmp_path / "s.lit"
    path.write_text(spec("model M { layers { linear(2, 1) } }\n", "mse", "[[0.0], [1.0], "
                         "[1.0], [0.0]]", "[r2]", batch, more))
    assert main(["train", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_r2_with_drop_last_trains(tmp_path):
    path = tmp_path / "s.lit"
    path.write_text(spec(LINEAR, "mse", "[[0.0], [1.0], [1.0], [0.0]]", "[r2]", 3,
                         "  drop_last = true"))
    experiment = lightdsl.load(str(path))
    result = experiment.fit(enable_progress_bar=False, enable_model_summary=False,
                            enable_checkpointing=False)
    assert result.global_step == 1


def test_a_scalar_label_array_is_a_check_error_and_a_data_error(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((3, 2), np.float32), y=np.array(1))
    text = ("model M { layers { linear(2, 1) } }\ndata D { source = npz(path = \"d.npz\") }\n"
            "train { model = M  data = D  loss = mse }\n")
    errors = analyze_text(text, str(tmp_path / "s.lit")).errors
    assert [(e.line, e.column, e.message) for e in errors] == [
        (2, 30, "d.npz: array 'y' is a scalar (shape ()); labels need one row per sample")]
    from lightdsl.data.sources import load_npz
    with pytest.raises(DataError, match="the labels are a single scalar .1., not one label per"):
        load_npz(tmp_path / "d.npz")
