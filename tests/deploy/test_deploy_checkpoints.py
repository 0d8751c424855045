"""`last` and `best` choose a checkpoint the same way for every command, and every command that
loads one says which file, epoch, step and monitored value it uses (issue 11 item 19)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch

import lightdsl
from lightdsl.cli import main

SPECS = Path(__file__).resolve().parents[2] / "specs"
QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": "csv"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """iris_csv trained twice: version_0 (3 epochs) and version_1 (1 epoch), and a
    version_2 that holds logs but no checkpoint (a run stopped before its first save)."""
    root = tmp_path_factory.mktemp("runs")
    shutil.copy(SPECS / "iris_csv.lit", root)
    (root / "data").mkdir()
    shutil.copy(SPECS / "data" / "iris_like.csv", root / "data")
    for epochs in (3, 1):
        lightdsl.load(str(root / "iris_csv.lit")).fit(
            default_root_dir=str(root / "lightning_logs"), max_epochs=epochs, **QUIET)
    (root / "lightning_logs" / "iris_csv" / "version_2").mkdir()
    return root


@pytest.fixture
def in_runs(runs, monkeypatch) -> Path:
    monkeypatch.chdir(runs)
    return runs


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_last_is_the_newest_version_with_a_checkpoint_and_says_so(in_runs, capsys):
    code, _, err = run_cli(capsys, "evaluate", "iris_csv.lit", "--ckpt", "last")
    assert code == 0, err
    last = Path("lightning_logs/iris_csv/version_1/checkpoints/last.ckpt")
    assert re.search(rf"checkpoint {re.escape(str(last))} \(epoch 0, step 8, val_loss [0-9.]+\)",
                     err), err
    assert ("chosen as `last`: version_1 of lightning_logs/iris_csv (the newest of 2 versions "
            "with a checkpoint; --ckpt PATH picks another)") in err


def test_best_is_the_best_checkpoint_recorded_in_last(in_runs, capsys):
    code, _, err = run_cli(capsys, "evaluate", "iris_csv.lit", "--ckpt", "best")
    assert code == 0, err
    last = torch.load(in_runs / "lightning_logs/iris_csv/version_1/checkpoints/last.ckpt",
                      weights_only=True)
    recorded = Path(last["callbacks"]["ModelCheckpoint[val_loss]"]["best_model_path"])
    used = Path("lightning_logs/iris_csv/version_1/checkpoints") / recorded.name
    assert f"checkpoint {used} (epoch 0, step 8, val_loss " in err
    assert used.samefile(recorded) and recorded.name == "epoch=0-step=8.ckpt"
    assert "chosen as `best` by val_loss, as recorded in version_1" in err


def test_a_path_picks_another_version(in_runs, capsys):
    path = "lightning_logs/iris_csv/version_0/checkpoints/last.ckpt"
    code, _, err = run_cli(capsys, "evaluate", "iris_csv.lit", "--ckpt", path)
    assert code == 0, err
    assert f"checkpoint {path} (epoch 2, step 24, val_loss " in err and "chosen as" not in err


def test_best_found_next_to_last_when_trained_from_another_folder(in_runs, capsys, tmp_path,
                                                                  monkeypatch):
    # best_model_path is recorded relative to where training ran; from elsewhere it is found
    # next to last.ckpt
    monkeypatch.chdir(tmp_path)
    root = in_runs / "lightning_logs"
    code, _, err = run_cli(capsys, "evaluate", str(in_runs / "iris_csv.lit"), "--ckpt", "best",
                           "--set", f'train.default_root_dir="{root}"')
    assert code == 0, err
    assert f"checkpoint {root}/iris_csv/version_1/checkpoints/epoch=0-step=8.ckpt" in err


@pytest.mark.parametrize("which", ["last", "best"])
def test_every_loading_command_names_its_checkpoint(in_runs, capsys, which):
    lines = (in_runs / "data" / "iris_like.csv").read_text().splitlines()[:4]
    (in_runs / "new.csv").write_text("\n".join(lines) + "\n")
    commands = [
        ["predict", "iris_csv.lit", "--ckpt", which, "-i", "new.csv"],
        ["export", "iris_csv.lit", "--ckpt", which, "-f", "torchscript", "-o", "m.ts"],
    ]
    for argv in commands:
        code, _, err = run_cli(capsys, *argv)
        assert code == 0, (argv, err)
        assert re.search(r"checkpoint \S+\.ckpt \(epoch 0, step 8, val_loss [0-9.]+\)", err), argv
        assert f"chosen as `{which}`" in err


def test_train_resume_names_its_checkpoint(runs, tmp_path, monkeypatch, capsys):
    # a copy: resuming adds a version; and best is found in the copy, not where it was recorded
    shutil.copytree(runs, tmp_path / "copy")
    monkeypatch.chdir(tmp_path / "copy")
    code, _, err = run_cli(capsys, "train", "iris_csv.lit", "--resume", "best",
                             "--max-epochs", "2")
    assert code == 0, err
    best = "lightning_logs/iris_csv/version_1/checkpoints/epoch=0-step=8.ckpt"
    assert re.search(rf"checkpoint {re.escape(best)} \(epoch 0, step 8, val_loss [0-9.]+\)",
                     err), err
    assert "chosen as `best` by val_loss, as recorded in version_1" in err


def test_best_without_a_monitor_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    spec = (SPECS / "statquest.lit").read_text()
    spec = "\n".join(line for line in spec.splitlines() if "lr_find(" not in line)
    Path("s.lit").write_text(re.sub(r"max_epochs(\s*)= \d+", r"max_epochs\1= 1", spec))
    lightdsl.load("s.lit").fit(**{**QUIET, "logger": None})
    code, _, err = run_cli(capsys, "evaluate", "s.lit", "--ckpt", "best")
    assert code == 2
    assert "--ckpt best: the run of lightning_logs/s/version_0/checkpoints/last.ckpt " \
           "monitored no metric, so it recorded no best checkpoint" in err


def test_no_checkpoint_at_all(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(SPECS / "statquest.lit", "s.lit")
    code, _, err = run_cli(capsys, "evaluate", "s.lit", "--ckpt", "best")
    assert code == 2 and "--ckpt best: no checkpoint matches lightning_logs/s/version_*" in err


def test_plot_names_the_version_it_draws(in_runs, capsys):
    pytest.importorskip("matplotlib")
    code, out, err = run_cli(capsys, "plot", "lightning_logs/iris_csv", "-o", "curves.png")
    assert code == 0, err
    assert ("plotting lightning_logs/iris_csv/version_1 (the newest of 2 versions with logs; "
            "give lightning_logs/iris_csv/version_N for another)") in out
