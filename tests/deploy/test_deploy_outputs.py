"""Unusable output paths (issue 11 item 13): every command that writes says which path cannot
be written and why, with exit code 2, never a traceback; nothing is left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lightdsl.cli import main
from lightdsl.outputs import check_file, check_folder

RUN_DIR = "lightning_logs/statquest"


def commands(blocked: str) -> dict[str, list[str]]:
    """Each writing command with its output under ``blocked`` (a path that cannot hold one)."""
    return {
        "train": ["train", "statquest.lit", "--default-root-dir", f"{blocked}/logs"],
        "graph": ["graph", "statquest.lit", "-o", f"{blocked}/net.svg"],
        "graph-dot": ["graph", "statquest.lit", "-o", f"{blocked}/net.dot"],
        "codegen": ["codegen", "statquest.lit", "-o", f"{blocked}/sub/model.py"],
        "predict": ["predict", "statquest.lit", "--ckpt", "last", "-i", "doses.csv",
                    "--output", f"{blocked}/out.csv"],
        "predict-npz": ["predict", "statquest.lit", "--ckpt", "last", "-i", "doses.csv",
                        "--output", f"{blocked}/out.npz"],
        "export": ["export", "statquest.lit", "--ckpt", "last", "-f", "torchscript",
                   "-o", f"{blocked}/model.ts"],
        "evaluate": ["evaluate", "statquest.lit", "--ckpt", "last", "--json",
                     f"{blocked}/metrics.json"],
        "plot-run": ["plot", RUN_DIR, "-o", f"{blocked}/curves.png"],
        "plot-spec": ["plot", "statquest.lit", "--ckpt", "last", "-o", f"{blocked}/r.png"],
        "lr-find": ["lr-find", "statquest.lit", "--num-training", "5", "-o",
                    f"{blocked}/lr.png"],
    }


@pytest.mark.parametrize("name", list(commands("x")))
def test_a_path_under_a_regular_file(in_trained, capsys, name):
    (in_trained / "doses.csv").write_text("dose\n0.5\n")
    blocker = in_trained / "a_file"
    blocker.write_text("not a folder\n")
    argv = commands(str(blocker))[name]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert f"{blocker}/" in err and "cannot " in err
    assert f"{blocker} is a file, not a folder" in err
    assert blocker.read_text() == "not a folder\n"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc here")
@pytest.mark.parametrize("name", ["train", "graph", "codegen", "lr-find"])
def test_a_path_in_proc(in_trained, capsys, name):
    code = main(commands("/proc")[name])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "error: " in err and "/proc/" in err and "Traceback" not in err


def test_output_that_is_a_folder(in_trained, capsys):
    (in_trained / "doses.csv").write_text("dose\n0.5\n")
    (in_trained / "out.csv").mkdir(exist_ok=True)
    code = main(["predict", "statquest.lit", "--ckpt", "last", "-i", "doses.csv",
                 "-o", "out.csv"])
    assert code == 2
    assert "--output out.csv: cannot write: it is a folder" in capsys.readouterr().err


def test_checks_leave_nothing_behind(tmp_path):
    target = tmp_path / "a" / "b" / "c"
    assert check_folder(target) == target
    assert check_file(target / "x.png") == target / "x.png"
    assert list(tmp_path.iterdir()) == []


def test_a_folder_another_run_removes_meanwhile_is_made_again(tmp_path, monkeypatch):
    """Runs started together in one folder each make and remove lightning_logs: the other
    run's clean-up removing it between this probe's mkdir and its entry is not an error."""
    import tempfile

    from lightdsl import outputs

    real, calls = tempfile.mkdtemp, []

    def other_run_cleans_up_first(dir, prefix):
        calls.append(dir)
        if len(calls) == 1:
            os.rmdir(dir)  # the other run's probe ends: the folder it saw empty goes
        return real(dir=dir, prefix=prefix)

    monkeypatch.setattr(outputs.tempfile, "mkdtemp", other_run_cleans_up_first)
    target = tmp_path / "lightning_logs"
    assert check_folder(target) == target
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []


def test_a_folder_another_run_makes_meanwhile_is_taken_as_there(tmp_path, monkeypatch):
    real = Path.mkdir

    def made_by_another_run_first(self, *args, **kwargs):
        if self.name == "lightning_logs" and not self.exists():
            real(self)  # the other run's probe, a moment earlier
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", made_by_another_run_first)
    target = tmp_path / "lightning_logs"
    assert check_folder(target) == target
    assert target.is_dir()  # the other run's: left for it to remove


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_folder_without_write_permission(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(Exception, match="permission denied"):
            check_folder(Path(locked) / "logs", "--default-root-dir")
    finally:
        locked.chmod(0o755)
