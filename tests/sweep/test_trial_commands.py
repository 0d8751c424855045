"""``--trial N`` of codegen, evaluate, predict, export and plot: the trial's values applied to
the spec, its checkpoints found in ``<sweep folder>/trial_N``."""

from __future__ import annotations

import json

import pytest

from lightdsl.analysis import analyze_file
from lightdsl.cli import main

from .helpers import BASE, write_spec

optuna = pytest.importorskip("optuna")

from lightdsl.sweep.engine import SweepOptions
from lightdsl.sweep.launch import run_sweep

BLOCK = """sweep {
    hidden           = choice(8, 32)
    train.max_epochs = 1
    sampler          = grid
}"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A finished 2-trial grid sweep over the hidden width (the spec's default: 16), in the
    default folder lightning_logs/iris-sweep of its own working folder."""
    folder = tmp_path_factory.mktemp("swept")
    spec = write_spec(folder, BLOCK)
    analysis = analyze_file(str(spec))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        study, where, _ = run_sweep(analysis, analysis.sweeps["default"], SweepOptions())
        assert where.resolve() == folder / "lightning_logs" / "iris-sweep"
        assert sorted(t.state.name for t in study.trials) == ["COMPLETE", "COMPLETE"]
    return folder


def _width(folder, trial: int) -> int:
    path = folder / "lightning_logs" / "iris-sweep" / f"trial_{trial}" / "values.json"
    return json.loads(path.read_text())["values"]["hidden"]


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_evaluate_trial_loads_the_trials_checkpoint(swept, capsys, monkeypatch):
    monkeypatch.chdir(swept)
    assert {_width(swept, 0), _width(swept, 1)} == {8, 32}
    code, out, err = _cli(capsys, "evaluate", "iris.lit", "--trial", "1", "--ckpt", "last",
                          "--format", "json")
    assert code == 0, err
    assert f"hidden = {_width(swept, 1)}" in err
    assert "iris-sweep/trial_1/version_0/checkpoints/last.ckpt" in err  # the file used
    results = json.loads(out)
    assert "trial_1" in results["checkpoint"]
    # the same checkpoint does not fit the spec's own width (16)
    ckpt = "lightning_logs/iris-sweep/trial_1/version_0/checkpoints/last.ckpt"
    code, _, err = _cli(capsys, "evaluate", "iris.lit", "--ckpt", ckpt)
    assert code != 0 and "does not fit the model" in err


def test_codegen_trial_prints_the_trials_width(swept, capsys, monkeypatch):
    monkeypatch.chdir(swept)
    width = _width(swept, 1)
    code, script, err = _cli(capsys, "codegen", "iris.lit", "--trial", "1")
    assert code == 0, err
    assert f"model = IrisNet(hidden={width})" in script and "IrisNet()" not in script
    # the same script as a spec that writes the trial's values itself
    written = BASE.replace("model      = IrisNet()", f"model      = IrisNet(hidden = {width})")
    written = written.replace("max_epochs = 30", "max_epochs = 1")
    (swept / "written").mkdir(exist_ok=True)
    write_spec(swept / "written", BLOCK).write_text(written + "\n" + BLOCK)
    monkeypatch.chdir(swept / "written")
    code, expected, err = _cli(capsys, "codegen", "iris.lit")
    assert code == 0, err
    assert script == expected


def test_a_missing_trial_names_the_trials_there(swept, capsys, monkeypatch):
    monkeypatch.chdir(swept)
    code, _, err = _cli(capsys, "codegen", "iris.lit", "--trial", "7")
    assert code == 2
    assert "has no trial 7; its trials: 0-1" in err and "Traceback" not in err


def test_a_missing_sweep_folder_names_the_folders_there(swept, capsys, monkeypatch):
    monkeypatch.chdir(swept)
    code, _, err = _cli(capsys, "evaluate", "iris.lit", "--trial", "0", "--ckpt", "last",
                        "--sweep-dir", "lightning_logs/nothing-sweep")
    assert code == 2
    assert "no sweep folder lightning_logs/nothing-sweep" in err
    assert "sweep folders there: lightning_logs/iris-sweep" in err
    code, _, err = _cli(capsys, "evaluate", "iris.lit", "--sweep-dir", "x", "--ckpt", "last")
    assert code == 2 and "--sweep-dir go with --trial N" in err


def test_plot_trial_of_a_classifier_points_at_the_trials_curves(swept, capsys, monkeypatch):
    monkeypatch.chdir(swept)
    code, _, err = _cli(capsys, "plot", "iris.lit", "--trial", "0")
    assert code == 2
    assert "lightdsl plot lightning_logs/iris-sweep/trial_0" in err
