"""Faults that passed check and then ended in a torch or torchmetrics traceback (issue 16
item 18): bce on an (N, 1) output with (N,) class labels (now reshaped, as documented), r2
with one sample, a 0-d label array."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lightdsl
from lightdsl.analysis import analyze_text
from lightdsl.cli import main
from lightdsl.errors import DataError

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
def test_bce_with_class_labels_against_a_wider_output_is_a_check_error(loss):
    """(N,) class labels against (N, 3): torch refused it mid-training; now check does."""
    text = spec("model M { layers { linear(2, 3) } }\n", loss)
    errors = analyze_text(text, "s.lit").errors
    assert [(e.line, e.code) for e in errors] == [(3, "loss-labels")]
    assert errors[0].message.startswith(f"{loss} compares the output (N, 3) with labels (N,); "
                                        "the shapes must match")


@pytest.mark.parametrize("model,labels", [(LINEAR, "[0, 1, 1, 0]"), (FLAT, "[0, 1, 1, 0]"),
                                          (LINEAR, "[[0], [1], [1], [0]]")])
def test_bce_class_labels_meet_an_n_by_1_output_as_torch_would_want(tmp_path, model, labels):
    """(N,) 0/1 labels and an (N, 1) output passed check, then torch raised "Target size
    (torch.Size([2])) must be the same as input size": they are cast and reshaped like the
    output (as documented), and the loss is hand-written torch's."""
    path = tmp_path / "s.lit"
    path.write_text(spec(model, "bce_with_logits", labels))
    experiment = lightdsl.load(str(path))
    module = experiment.module
    inputs, targets = experiment.data.train.inputs[:2], experiment.data.train.labels[:2]
    output = module(inputs)
    expected = F.binary_cross_entropy_with_logits(output, targets.float().reshape(output.shape))
    assert torch.equal(module.training_step((inputs, targets), 0)["loss"], expected)
    result = experiment.fit(enable_progress_bar=False, enable_model_summary=False,
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
