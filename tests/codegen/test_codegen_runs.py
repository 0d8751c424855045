"""Generated scripts run where a user puts them (issue 16 items 2 and 3): data paths start at
the spec's folder as seen from the script (or ``--data-root``), a missing file is one line, and
the torch script writes a run folder like lightdsl's, saves weights lightdsl loads and ends
with what ``lightdsl train`` prints."""

from __future__ import annotations

import io
import re
import runpy
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import lightdsl
from lightdsl.cli import main as cli
from lightdsl.trainer import load_checkpoint

from ..helpers.runner import run_python
from ..helpers.scripts import ROOT, load_script, write_script

QUIET = {"logger": None, "enable_progress_bar": False, "enable_model_summary": False,
         "enable_checkpointing": False}


@pytest.fixture
def repo(tmp_path) -> Path:
    """A folder laid out as the repository: specs/iris_csv.lit and specs/data/iris_like.csv."""
    (tmp_path / "repo" / "specs" / "data").mkdir(parents=True)
    for name in ("iris_csv.lit", "data/iris_like.csv"):
        shutil.copy(ROOT / "specs" / name, tmp_path / "repo" / "specs" / name)
    return tmp_path / "repo"


def test_the_readme_example_runs_from_the_repo_root_and_from_anywhere(repo, tmp_path,
                                                                      monkeypatch):
    # `lightdsl codegen specs/iris_csv.lit -o model.py && python model.py` from the root: the
    # script used to read model.py's folder + data/iris_like.csv (FileNotFoundError)
    monkeypatch.chdir(repo)
    assert cli(["codegen", "specs/iris_csv.lit", "-o", "model.py"]) == 0
    text = (repo / "model.py").read_text(encoding="utf-8")
    assert 'SPEC_DIR = Path(__file__).resolve().parent / "specs"' in text
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_python(repo / "model.py", "--max-epochs", "1", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "Training finished: 1 epoch, 8 steps" in done.stdout  # as lightdsl: not "1 epochs"
    # the run folder is made where the script runs, as `lightdsl train` makes it
    assert (elsewhere / "lightning_logs" / "iris_csv" / "version_0" / "weights.ckpt").is_file()


def test_a_missing_data_file_is_one_line_naming_it_and_data_root(repo, tmp_path, monkeypatch,
                                                                 capsys):
    (tmp_path / "out").mkdir()
    script = write_script(repo / "specs" / "iris_csv.lit", tmp_path / "out" / "model.py")
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["model.py", "--data-root", str(empty)])
    with pytest.raises(SystemExit) as stopped:  # the script's __main__ block, --data-root
        runpy.run_path(str(script), run_name="__main__")
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {empty / 'data' / 'iris_like.csv'}: No such file or directory (the data's "
        f"relative paths start at {empty}; --data-root DIR reads them from DIR)")
    assert not (tmp_path / "lightning_logs").exists()  # nothing claimed before the data


def test_data_root_replaces_the_specs_folder(repo, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(repo / "specs" / "data", moved / "data")
    module = load_script(write_script(repo / "specs" / "iris_csv.lit", tmp_path / "m.py"))
    (train_x, _), (val_x, _) = module.load_data(moved)
    data = lightdsl.load(str(repo / "specs" / "iris_csv.lit")).data
    assert torch.equal(train_x, data.train.inputs) and torch.equal(val_x, data.val.inputs)


def test_the_lightning_script_reports_a_missing_file_in_one_line(repo, tmp_path, capsys):
    pytest.importorskip("pytorch_lightning")
    path = write_script(repo / "specs" / "iris_csv.lit", tmp_path / "pl.py", target="lightning")
    module = load_script(path, "iris_pl")
    with pytest.raises(SystemExit) as stopped:
        module.main(data_root=tmp_path / "nowhere", default_root_dir=str(tmp_path), **QUIET)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'nowhere' / 'data' / 'iris_like.csv'}: No such file" in err


def test_the_spec_folder_as_the_script_finds_it(tmp_path, monkeypatch):
    from lightdsl.codegen.script import spec_dir_expression

    spec = tmp_path / "a" / "specs" / "x.lit"
    # next to it, above it, beside it
    assert spec_dir_expression(str(spec), str(spec.parent / "m.py"))[0] == \
        "Path(__file__).resolve().parent"
    assert spec_dir_expression(str(spec), str(tmp_path / "a" / "m.py"))[0] == \
        'Path(__file__).resolve().parent / "specs"'
    assert spec_dir_expression(str(spec), str(tmp_path / "b" / "c" / "m.py"))[0] == \
        'Path(__file__).resolve().parents[2] / "a/specs"'
    # only the file system's root in common: absolute, and the comment says why
    value, note = spec_dir_expression(str(spec), "/nowhere_else/m.py")
    assert value == f'Path("{spec.parent.resolve()}")' and "absolute" in note[0]
    # stdout: relative to the folder codegen ran in
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    assert spec_dir_expression("specs/x.lit", None)[0] == 'Path("specs")'
    assert "stdout" in " ".join(spec_dir_expression("specs/x.lit", None)[1])


def test_stdout_scripts_read_data_from_the_current_folder(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    assert cli(["codegen", "specs/iris_csv.lit", "-o", "-"]) == 0
    text = capsys.readouterr().out
    assert 'SPEC_DIR = Path("specs")' in text and not (repo / "-").exists()
    (repo / "stdout.py").write_text(text, encoding="utf-8")
    (train_x, _), _ = load_script(repo / "stdout.py", "stdout").load_data()
    assert train_x.shape == (240, 4)


# ---- item 3: the torch script's run folder, weights and closing summary ----

def _lightdsl_statquest(epochs: int, tmp_path: Path) -> torch.Tensor:
    experiment = lightdsl.load(str(ROOT / "specs" / "statquest.lit"),
                               overrides=[f"train.max_epochs={epochs}"])
    experiment.fit(default_root_dir=str(tmp_path / "lightdsl_logs"), **QUIET)
    return experiment.module.final_bias.detach().cpu()


def test_statquest_script_writes_a_run_folder_prints_final_bias_and_saves_lightdsl_weights(
        tmp_path, capsys):
    spec = ROOT / "specs" / "statquest.lit"
    script = write_script(spec, tmp_path / "statquest.py")
    work = tmp_path / "work"
    work.mkdir()
    done = run_python(script, "--max-epochs", "5", cwd=work)
    assert done.returncode == 0, done.stderr
    expected = _lightdsl_statquest(5, tmp_path)
    # the lines `lightdsl train` ends with: summary, learning rate, every parameter
    assert re.search(r"^Training finished: 5 epochs, 15 steps in [\d.]+ s$", done.stdout, re.MULTILINE)
    assert "\n  last metrics: train_loss_epoch=" in done.stdout
    assert "\n  learning rate: 0.002137962089502232\n" in done.stdout
    assert f"\n  final_bias = {float(expected):.4f}\n" in done.stdout
    assert "\n  w01 = -40.8000 (frozen)\n" in done.stdout
    run = work / "lightning_logs" / "statquest" / "version_0"  # lightdsl's log folder
    assert Path(lightdsl.load(str(spec)).log_folder()) == Path("lightning_logs/statquest")
    assert f"  run folder: {Path('lightning_logs/statquest/version_0')}" in done.stdout
    assert not (work / "checkpoints").exists()
    state = load_checkpoint(run / "weights.ckpt")  # lightdsl's own reader accepts it
    assert torch.equal(state["state_dict"]["final_bias"], expected)  # exact parity
    assert state["loop"] == {"epoch": 4, "global_step": 15, "epoch_finished": True}
    assert cli(["evaluate", str(spec), "--ckpt", str(run / "weights.ckpt")]) == 0
    evaluated = capsys.readouterr()
    assert f"checkpoint {run / 'weights.ckpt'} (epoch 4, step 15)" in evaluated.err
    assert re.search(r"^train\s+3\s+\d", evaluated.out, re.MULTILINE)


def test_version_folders_are_claimed_with_mkdir(tmp_path, monkeypatch):
    module = load_script(write_script(ROOT / "specs" / "statquest.lit", tmp_path / "sq.py"))
    parent = tmp_path / "logs" / "run"
    (parent / "version_0").mkdir(parents=True)
    (parent / "version_3").mkdir()
    assert module.claim_version_dir(tmp_path / "logs", "run") == parent / "version_4"
    assert module.claim_version_dir(tmp_path / "logs", "run") == parent / "version_5"
    # another run took version_0 after the scan (here: a scan that sees nothing): mkdir
    # fails there, and the next free number is taken
    monkeypatch.setattr(Path, "iterdir", lambda self: iter([]))
    assert module.claim_version_dir(tmp_path / "logs", "run") == parent / "version_1"


CALLBACK_SPEC = """
model M { layers { linear(2, 3) } }

data d {
    source = npz("d.npz")
    val = split(0.25, seed = 1)
    batch_size = 4
}

train {
    model = M
    data = d
    loss = cross_entropy
    optimizer = sgd(lr = 0.5)
    max_epochs = 6
    callbacks = [checkpoint(monitor = "val_loss"), early_stopping(monitor = "val_loss", patience = 1)]
    seed = 3
}
"""


def test_checkpoints_and_early_stopping_go_into_the_run_folder(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(16, 2)).astype(np.float32),
             y=rng.integers(0, 3, 16))
    spec = tmp_path / "cb.lit"
    spec.write_text(CALLBACK_SPEC, encoding="utf-8")
    module = load_script(write_script(spec, tmp_path / "cb.py"), "callbacks")
    monkeypatch.chdir(tmp_path)
    model = module.main(out=tmp_path / "run")
    out = capsys.readouterr().out
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "lightning_logs").exists()
    best = load_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")
    last = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    weights = load_checkpoint(tmp_path / "run" / "weights.ckpt")
    for key, value in model.state_dict().items():
        assert torch.equal(weights["state_dict"][key], value)
        assert torch.equal(last["state_dict"][key], value)
    # the summary `lightdsl train` prints for the same run: why it stopped, the best epoch
    quiet = {**QUIET, "enable_checkpointing": True}
    result = lightdsl.load(str(spec)).fit(default_root_dir=str(tmp_path / "logs"), **quiet)
    assert result.stop_reason.startswith("early stopping: val_loss did not improve")
    assert f"Training {result.stop_reason}: {result.epochs} epochs, " \
        f"{result.global_step} steps in " in out
    best_line = ", ".join(f"{k}={v:.6g}" for k, v in result.best_metrics.items())
    assert f"\n  best (val_loss, epoch {result.best_epoch}): {best_line}\n" in out
    assert best["loop"]["epoch"] == result.best_epoch
    assert best["callback_metrics"]["val_loss"] == result.best_metrics["val_loss"]


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if "__pycache__" not in p.parts}


def test_a_fast_dev_run_script_writes_nothing_as_lightdsl_train(repo, tmp_path):
    """Before: the torch script claimed lightning_logs/<run>/version_N and saved weights.ckpt
    and the checkpoint callback's files; lightdsl train --fast-dev-run writes nothing (and
    runs no lr_find)."""
    from lightdsl.trainer.hints import Hints

    spec = repo / "specs" / "iris_csv.lit"
    spec.write_text(spec.read_text(encoding="utf-8").replace("    seed       = 0\n", (
        "    seed       = 0\n    fast_dev_run = 2\n    lr_find(num_training = 5)\n"
        '    callbacks = [checkpoint(monitor = "val_accuracy", mode = "max")]\n')),
        encoding="utf-8")
    script = write_script(spec, repo / "model.py")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = _files(repo), _files(elsewhere)
    done = run_python(script, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert (_files(repo), _files(elsewhere)) == before  # no folder, no file
    hint = io.StringIO()
    Hints(stream=hint).fast_dev_run(2)
    assert done.stderr == hint.getvalue()  # lightdsl's words, to stderr as lightdsl's
    lines = done.stdout.splitlines()
    assert lines[-2:] == ["  fast_dev_run: nothing written", "  learning rate: 0.01"]
    # the checkpoint callback is off, as in lightdsl: "best" is val_loss's, as lightdsl's
    assert lines[-3].startswith("  best (val_loss, epoch 0): ")
    assert lines[-5].startswith("Training finished: 1 epoch, 2 steps in ")
    assert not [line for line in lines if "lr_find" in line or "run folder" in line]
    assert "--out" not in run_python(script, "--help", cwd=elsewhere).stdout
