"""The generated script's metric values equal lightdsl's, on the same weights and data."""

from __future__ import annotations

import pytest
import torch

import lightdsl
from lightdsl.trainer import Trainer

from ..helpers.scripts import load_script, write_script
from .test_metrics_logging import INLINE

QUIET = {"logger": None, "enable_progress_bar": False, "enable_model_summary": False,
         "enable_checkpointing": False}


def _parity(spec, model_class, loss_fn, capsys):
    module = lightdsl.load(str(spec)).module
    expected = Trainer(accelerator="cpu", **QUIET).evaluate(module, module.val_dataloader(),
                                                            prefix="val")
    script = load_script(write_script(spec, spec.with_suffix(".py")))
    model = getattr(script, model_class)()
    model.load_state_dict(module.state_dict())
    _, val_set = script.load_data()
    capsys.readouterr()
    actual = script.evaluate(model, val_set, loss_fn)
    assert set(actual) == set(expected)
    for name, value in expected.items():
        assert actual[name] == pytest.approx(value, rel=1e-5, abs=1e-7), name
    return expected, capsys.readouterr().out


def test_generated_classification_metrics_equal_lightdsls(classifier_spec, monkeypatch,
                                                          capsys):
    """Open task (npz data: the script infers it from the output, as the builder does)."""
    monkeypatch.chdir(classifier_spec.parent)
    expected, printed = _parity(classifier_spec, "Net", torch.nn.CrossEntropyLoss(), capsys)
    matrix = expected.matrices["val_confusion_matrix"].tolist()
    assert f"val_confusion_matrix {matrix}" in printed


def test_generated_metrics_with_a_checked_task_equal_lightdsls(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "inline.lit"
    spec.write_text(INLINE.replace("split(0.5, seed = 1)", "split(0.5, seed = 2)"),
                    encoding="utf-8")
    _parity(spec, "Net", torch.nn.CrossEntropyLoss(), capsys)
    assert 'torchmetrics.F1Score(task="multiclass", num_classes=3, average="macro")' in \
        spec.with_suffix(".py").read_text(encoding="utf-8")


def test_generated_regression_metrics_equal_lightdsls(regressor_spec, monkeypatch, capsys):
    monkeypatch.chdir(regressor_spec.parent)
    _parity(regressor_spec, "Line", torch.nn.MSELoss(), capsys)


def test_lightning_script_metrics_equal_lightdsls(tmp_path, monkeypatch):
    """The Lightning target's logged validation metrics (torchmetrics objects in
    nn.ModuleDicts, logged with self.log) equal lightdsl's, on the same weights and data."""
    import inspect

    pl = pytest.importorskip("pytorch_lightning")
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "inline.lit"
    spec.write_text(INLINE.replace("split(0.5, seed = 1)", "split(0.5, seed = 2)"),
                    encoding="utf-8")
    module = lightdsl.load(str(spec)).module
    expected = Trainer(accelerator="cpu", **QUIET).evaluate(module, module.val_dataloader(),
                                                            prefix="val")
    script = load_script(write_script(spec, tmp_path / "lit.py", None, "lightning"))
    model = script.Net()
    model.load_state_dict(module.state_dict())
    (data_class,) = [c for _, c in inspect.getmembers(script, inspect.isclass)
                     if issubclass(c, pl.LightningDataModule) and c is not pl.LightningDataModule]
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False,
                         enable_model_summary=False, enable_checkpointing=False)
    (logged,) = trainer.validate(model, datamodule=data_class(), verbose=False)
    assert set(logged) == set(expected) and len(expected) >= 4, expected
    for name, value in expected.items():
        assert logged[name] == pytest.approx(value, rel=1e-5, abs=1e-7), name
