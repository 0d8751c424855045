"""`lightdsl evaluate`: a checkpoint's metrics as a table and as JSON."""

from __future__ import annotations

import json

import pytest

from lightdsl.cli import main
from lightdsl.deploy import load_trained
from lightdsl.trainer import Trainer


def test_evaluate_prints_a_table_and_writes_json(in_trained, capsys):
    code = main(["evaluate", "iris_csv.lit", "--ckpt", "last", "--json", "metrics.json"])
    out = capsys.readouterr().out
    assert code == 0
    header, val = out.splitlines()[:2]
    assert header.split() == ["split", "samples", "loss", "accuracy"]
    assert val.split()[:2] == ["val", "60"]
    saved = json.loads((in_trained / "metrics.json").read_text())
    module = load_trained("iris_csv.lit", "last").module
    expected = Trainer(accelerator="cpu", logger=None, enable_progress_bar=False).validate(module)
    assert saved["metrics"]["val"]["loss"] == pytest.approx(expected["val_loss"], rel=1e-6)
    assert saved["metrics"]["val"]["accuracy"] == pytest.approx(expected["val_accuracy"])
    assert saved["metrics"]["val"]["accuracy"] > 0.9


def test_statquest_without_val_data_is_evaluated_on_its_training_data(in_trained, capsys):
    code = main(["evaluate", "statquest.lit", "--ckpt", "last", "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0
    metrics = json.loads(captured.out)["metrics"]
    assert list(metrics) == ["train"] and metrics["train"]["samples"] == 3
    assert metrics["train"]["loss"] < 1e-4  # the fitted net passes through all three points
    assert "training-data metrics" in captured.err


def test_asking_for_a_split_the_spec_lacks_is_a_usage_error(in_trained, capsys):
    assert main(["evaluate", "statquest.lit", "--ckpt", "last", "--split", "test"]) == 2
    assert "has no test data" in capsys.readouterr().err


def test_the_confusion_matrix_table_uses_the_class_names(in_trained, capsys):
    """iris_csv's labels are names: the table is headed by them, as predict prints them."""
    confusion = ["--set", "train.metrics=[accuracy, confusion_matrix]"]
    assert main(["evaluate", "iris_csv.lit", "--ckpt", "last", *confusion]) == 0
    lines = capsys.readouterr().out.split("val confusion_matrix")[1].splitlines()
    assert lines[1].split() == ["alpina", "borealis", "coastal"]
    assert [line.split()[0] for line in lines[2:5]] == ["alpina", "borealis", "coastal"]
    counts = [[int(c) for c in line.split()[1:]] for line in lines[2:5]]
    assert sum(map(sum, counts)) == 60
    assert main(["evaluate", "iris_csv.lit", "--ckpt", "last", *confusion, "--format",
                 "json"]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert saved["classes"] == ["alpina", "borealis", "coastal"]
    assert saved["metrics"]["val"]["confusion_matrix"] == counts
