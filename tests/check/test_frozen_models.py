"""A fully frozen model (issue 16 item 13): ``check`` warns, evaluate/predict/export/plot use
it, and only the commands that train (train, lr-find, tune-batch-size) refuse it, located."""

from __future__ import annotations

from pathlib import Path

import pytest

import lightdsl
from lightdsl.analysis import analyze_text
from lightdsl.api import SpecError
from lightdsl.cli import main

STATQUEST = Path(__file__).resolve().parents[2] / "specs" / "statquest.lit"


@pytest.fixture
def frozen(tmp_path) -> Path:
    """The StatQuest spec with its one trainable bias frozen at the fitted value."""
    text = STATQUEST.read_text(encoding="utf-8")
    text = text.replace("param final_bias = 0.0 ", "param final_bias = -16.0 frozen")
    assert "final_bias = -16.0 frozen" in text
    spec = tmp_path / "frozen.lit"
    spec.write_text(text, encoding="utf-8")
    return spec


def _line_of_model(spec: Path) -> int:
    lines = spec.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith("model "))


def test_check_warns_and_passes(frozen, capsys):
    analysis = analyze_text(frozen.read_text(encoding="utf-8"), str(frozen))
    assert analysis.errors == []
    (warning,) = [d for d in analysis.diagnostics if d.code == "no-trainable"]
    assert warning.severity == "warning" and (warning.line, warning.column) == \
        (_line_of_model(frozen), 7)
    assert main(["check", str(frozen)]) == 0
    assert "Success: no errors in 1 file, 1 warning" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["train", "lr-find", "tune-batch-size"])
def test_the_commands_that_train_refuse_it_located(frozen, command, capsys):
    assert main([command, str(frozen)]) == 1
    err = capsys.readouterr().err
    assert f"{frozen}:{_line_of_model(frozen)}:7: error: model BasicLightningTrain has no " \
        f"trainable parameter, so training cannot change it (`lightdsl {command}` trains " \
        "it)" in err, err
    assert "hint: remove `frozen`" in err


def test_the_api_refuses_to_fit_it(frozen):
    with pytest.raises(SpecError, match="no trainable parameter"):
        lightdsl.load(str(frozen)).fit()


def test_evaluate_predict_export_and_plot_use_it(frozen, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # a checkpoint as `lightdsl train` writes it: train the unfrozen spec for one epoch
    assert main(["train", str(STATQUEST), "--max-epochs", "1", "--default-root-dir",
                 str(tmp_path / "logs"), "--set", "train.enable_progress_bar=false"]) == 0
    (ckpt,) = (tmp_path / "logs").rglob("last.ckpt")
    capsys.readouterr()
    assert main(["evaluate", str(frozen), "--ckpt", str(ckpt)]) == 0
    (tmp_path / "doses.csv").write_text("dose\n0.5\n")
    assert main(["predict", str(frozen), "--ckpt", str(ckpt), "--input",
                 str(tmp_path / "doses.csv")]) == 0
    assert main(["export", str(frozen), "--ckpt", str(ckpt), "--format", "torchscript",
                 "--output", str(tmp_path / "m.pt")]) == 0
    assert main(["plot", str(frozen), "--ckpt", str(ckpt), "-o", str(tmp_path / "r.png")]) == 0
    assert (tmp_path / "m.pt").stat().st_size > 0
    out = capsys.readouterr()
    assert "no trainable" not in out.out + out.err
