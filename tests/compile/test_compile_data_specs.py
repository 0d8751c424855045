"""The shipped data specs train end to end: digits to >= 95% validation accuracy, the CSV
example with class names, and the DataLoader path when workers are asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

import lightdsl

SPECS = Path(__file__).resolve().parents[2] / "specs"
QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None}


def test_digits_mlp_reaches_95_percent_in_its_shipped_epochs(tmp_path):
    pytest.importorskip("sklearn")
    experiment = lightdsl.load(str(SPECS / "digits_mlp.lit"))
    result = experiment.fit(default_root_dir=str(tmp_path), **QUIET)
    assert result.epochs == 20
    assert result.last_metrics["val_accuracy"] >= 0.95
    data = experiment.data
    assert len(data.val) == 359 and len(data.train) == 1438  # a stratified 20% split


def test_csv_spec_trains_and_keeps_class_names(tmp_path):
    experiment = lightdsl.load(str(SPECS / "iris_csv.lit"))
    result = experiment.fit(default_root_dir=str(tmp_path), **QUIET)
    assert experiment.data.classes == ["alpina", "borealis", "coastal"]
    assert result.last_metrics["val_accuracy"] >= 0.9


def test_num_workers_uses_a_dataloader_and_trains(tmp_path):
    experiment = lightdsl.load(str(SPECS / "iris_csv.lit"),
                               overrides=["data.num_workers=1", "max_epochs=2"])
    loader = experiment.module.train_dataloader()
    assert type(loader).__name__ == "DataLoader"
    result = experiment.fit(default_root_dir=str(tmp_path), **QUIET)
    assert result.epochs == 2 and result.global_step == 16
