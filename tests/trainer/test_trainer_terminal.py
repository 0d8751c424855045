"""What a user sees in a terminal (issue 16 items 7, 8, 11): `lightdsl train` in a real
pseudo-terminal, its output rendered as a terminal shows it (pyte emulates one: carriage
returns, erased lines, wrapping), at 80 and 60 columns. Every epoch's bar stays with its final
count, Ctrl-C's message starts its own line and gives the CLI's resume command, a mid-epoch
resume ends its bars at 14/14; fast_dev_run shows no v_num and writes nothing; a resume with
nothing left to do writes nothing; the model summary shows (N, 64) and fits 60 columns."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pyte
import pytest
import torch
from trainer_modules import FakeTerminal

from lightdsl.api import load
from lightdsl.cli import main
from lightdsl.trainer.progress import BarProgress, PlainProgress, epoch_stride
from lightdsl.trainer.summary import model_summary
from lightdsl.vocab.shapes import fmt
from tests.helpers.runner import run_in_terminal
from tests.helpers.specs import iris_spec as write_iris_spec

HERE = Path(__file__).parent
SPECS = HERE.parent.parent / "specs"
linux_pty = pytest.mark.skipif(not sys.platform.startswith("linux"),
                               reason="needs a Linux pseudo-terminal")

# no metrics: a child process that imports torchmetrics takes seconds longer to start
# 240 training rows: in batches of 120, 2 batches an epoch; of 60, 4
def iris_spec(tmp_path: Path, epochs: int, batch_size: int = 120) -> Path:
    return write_iris_spec(tmp_path, epochs, batch_size, "logger = csv()")


def screen(output: str, columns: int) -> list[str]:
    """The rows a terminal of ``columns`` columns shows for ``output`` (scrolled-off rows
    included), trailing blanks removed, empty rows dropped."""
    terminal = pyte.HistoryScreen(columns, 24, history=100_000, ratio=1)
    pyte.Stream(terminal).feed(output)
    rows = [*terminal.history.top, *(terminal.buffer[y] for y in range(terminal.lines))]
    text = ["".join(row[x].data for x in range(columns)).rstrip() for row in rows]
    return [row for row in text if row]


def tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


# ------------------------------------------------------------------ the bar, in a real terminal


@linux_pty
@pytest.mark.parametrize("columns", [80, 60])
def test_every_epoch_keeps_its_line_with_its_final_count(tmp_path, columns):
    """Short epochs were erased by a 1-second timer (epochs 10, 11, 13, 17 never appeared)."""
    spec = iris_spec(tmp_path, 12)
    code, output = run_in_terminal("-m", "lightdsl", "train", spec, "--default-root-dir",
                                   tmp_path / "logs", columns=columns)
    assert code == 0, output
    rows = [row for row in screen(output, columns) if row.startswith("Epoch")]
    finals = {}
    for row in rows:
        match = re.fullmatch(r"Epoch (\d+)/11 .*\b2/2 .*v_num=0 loss=\S+ val_loss=\S+", row)
        assert match, rows  # whole: nothing wrapped onto the next row
        finals[int(match.group(1))] = row
    assert sorted(finals) == list(range(12)) and len(rows) == 12, rows


@linux_pty
def test_ctrl_c_message_has_its_own_line_and_a_mid_epoch_resume_ends_at_4_of_4(tmp_path):
    """The message was glued to the bar (``loss=2.77Interrupted: ...``) and told a CLI user
    to call fit(); the resumed epoch's bar ended at 8/14 (the batches it ran), not 14/14."""
    spec, root = iris_spec(tmp_path, 2, batch_size=60), tmp_path / "logs"
    args = ["train", str(spec), "--default-root-dir", str(root)]
    # Ctrl-C after step 6: epoch 1, batch 2 of 4
    code, output = run_in_terminal(HERE / "ctrl_c_script.py", 6, *args, columns=60)
    assert code == 130, output
    rows = screen(output, 60)
    said = next(i for i, row in enumerate(rows) if "Interrupted" in row)
    assert rows[said].startswith("Interrupted: saved "), rows  # not glued to the bar
    assert re.match(r"Epoch 1/1 .*\b2/4 ", rows[said - 1]), rows  # the bar where it stopped
    assert (f"(resumes at epoch 1, batch 2); continue with lightdsl train {spec} "
            f"--default-root-dir {root} --resume last\r\n") in output  # one line, wrapped
    assert "fit(module" not in output
    code, output = run_in_terminal("-m", "lightdsl", *args, "--resume", "last", columns=60)
    assert code == 0, output
    bars = [row for row in screen(output, 60) if row.startswith("Epoch")]
    assert [re.match(r"Epoch (\d)/1 .*?(\d+/4) ", row).groups() for row in bars] == [
        ("1", "4/4")], bars


class CtrlC:
    """Asks the loop to stop after the first batch, as the first Ctrl-C does."""

    def on_train_batch_end(self, trainer, *_):
        trainer.state.interrupt_requested = True


def test_the_python_api_keeps_the_fit_advice(tmp_path, capsys):
    experiment = load(str(iris_spec(tmp_path, 1)))
    trainer = experiment.trainer(default_root_dir=str(tmp_path), enable_progress_bar=False,
                                 callbacks=[CtrlC()])
    assert trainer.fit(experiment.module).interrupted
    out = capsys.readouterr().out
    last = next(Path(tmp_path).rglob("last.ckpt"))
    assert f"continue with fit(module, ckpt_path={str(last)!r})" in out


# ------------------------------------------------------------------ which epochs keep a line


def test_epoch_stride_keeps_at_most_100_lines_by_epoch_number():
    assert [epoch_stride(n) for n in (-1, 1, 20, 100, 101, 250, 1000, 2000, 2001, 10**6)] == [
        1, 1, 1, 1, 2, 5, 10, 20, 50, 10000]


@pytest.mark.parametrize("bar", [True, False])
def test_many_epochs_keep_every_stride_th_line_and_the_last_one_reached(bar):
    """250 epochs: every 5th stays, whatever their speed; a run stopped at epoch 123 (early
    stopping, Ctrl-C) keeps epoch 123's line."""
    for last in (249, 123):
        terminal = FakeTerminal()
        progress = BarProgress(terminal, ncols=60) if bar else PlainProgress(terminal)
        progress.set_context(Path("logs/version_4"))
        for epoch in range(last + 1):
            progress.start_epoch(epoch, 250, 3)
            for _ in range(3):
                progress.update(torch.tensor(0.5))
            progress.end_epoch({"train_loss_epoch": 0.5})
        progress.close()
        rows = screen(terminal.text.replace("\n", "\r\n"), 60)
        shown = [int(re.match(r"Epoch (\d+)/249 .*3/3 .*v_num=4 loss=0.5$", row).group(1))
                 for row in rows]
        assert shown == sorted({*range(0, last + 1, 5), last}), rows


# ------------------------------------------------------------------ nothing written, nothing left


def test_fast_dev_run_shows_no_version_and_says_1_epoch(tmp_path, capsys):
    spec, root = iris_spec(tmp_path, 3), tmp_path / "logs"
    for n in range(3):  # without the fix the bar said v_num=3: a folder it never writes
        (root / "iris" / f"version_{n}").mkdir(parents=True)
    before = tree(root)
    assert main(["train", str(spec), "--default-root-dir", str(root), "--fast-dev-run"]) == 0
    out = capsys.readouterr().out
    epochs = [line for line in out.splitlines() if line.startswith("Epoch")]
    assert len(epochs) == 1 and re.match(r"Epoch 0/0 1/1 .*loss=", epochs[0]), out
    assert "v_num" not in out and "Training finished: 1 epoch, 1 step in " in out
    assert tree(root) == before


def test_cli_resume_with_nothing_left_creates_nothing_and_says_so(tmp_path, capsys):
    spec, root = iris_spec(tmp_path, 1), tmp_path / "logs"
    args = ["train", str(spec), "--default-root-dir", str(root)]
    assert main(args) == 0
    before = tree(root)
    capsys.readouterr()
    assert main([*args, "--resume", "last"]) == 0
    err = capsys.readouterr().err
    assert tree(root) == before  # no empty version_1
    ckpt = root / "iris" / "version_0" / "checkpoints" / "last.ckpt"
    assert (f"nothing left to do: {ckpt} already completed max_epochs=1 (1 epoch, 2 steps); "
            "nothing was trained or written. Raise max_epochs to train further.") in err


# ------------------------------------------------------------------ the model summary


def test_summary_shows_check_shapes_and_fits_60_columns(tmp_path, capsys, monkeypatch):
    """The output shapes were the dummy batch's ([2, 64]); the table wrapped at 60 columns."""
    monkeypatch.setenv("COLUMNS", "60")
    spec = SPECS / "digits_mlp.lit"
    assert main(["train", str(spec), "--fast-dev-run", "--default-root-dir",
                 str(tmp_path)]) == 0
    out = capsys.readouterr().out
    table = out[out.index("Name"):out.index("Size: ")].splitlines()
    assert "0 | layers.0 | Flatten | (N, 64)      | 0      | -" in table
    assert "4 | layers.4 | Linear  | (N, 10)      | 1,290  | trainable" in table
    assert all(len(line) <= 60 for line in table), table
    experiment = load(str(spec))
    assert fmt(experiment.run.output_shape) == "(N, 10)"  # what check infers, the same


def test_a_long_summary_is_clipped_to_the_width_and_its_batch_is_n():
    experiment = load(str(SPECS / "transformer_classifier.lit"))
    module = experiment.module
    example = module.example_input_array
    for width in (60, 80):
        lines = model_summary(module, example, width=width).splitlines()
        assert all(len(line) <= width for line in lines), lines
    lines = model_summary(module, example, width=60).splitlines()
    assert lines[0].split() == ["Name", "|", "Type", "|", "Output", "shape", "|", "Params", "|",
                                "Train"]
    assert any(re.fullmatch(r"encoder\.0~\S+ +\| Par~eter \| \(96, 32\) +\| 3,072  \| yes",
                            line) for line in lines), lines
    head = next(line for line in lines if line.startswith("head "))
    # a size that equals the example's batch (2 classes, 2 samples) is no batch dimension
    assert head.split(" | ")[2].strip() == "(N, 2)" and example.shape[0] == 2
