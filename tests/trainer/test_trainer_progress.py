"""The progress display (issue 11 item 20): v_num, the loss and the latest validation metrics,
compact, within 80 columns; the monitored metric always visible; bar and plain lines alike."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from trainer_modules import FakeTerminal

from lightdsl.cli import main
from lightdsl.trainer.progress import (
    BAR,
    ELAPSED,
    KEEP,
    RATE,
    TRAIN_METRIC,
    BarProgress,
    Piece,
    PlainProgress,
    fit,
    short_names,
    short_number,
)
from tests.helpers.runner import run_in_terminal
from tests.helpers.specs import iris_spec as write_iris_spec

CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # cursor moves a terminal does not show


def screen_lines(text: str) -> list[str]:
    """Every line as a terminal shows it at some moment: split at carriage returns too."""
    parts = re.split(r"[\r\n]", CONTROL.sub("", text))
    return [part.rstrip() for part in parts if part.strip()]


class Monitor:
    def __init__(self, monitor):
        self.monitor = monitor


names = st.text("abcdefghijklmnopqrstuvwxyz_{}0123456789", min_size=1, max_size=30)
values = st.floats(allow_nan=True, allow_infinity=True, width=64)


@st.composite
def epochs(draw):
    """An epoch's metrics: train_loss_epoch, some train_* and val_* metrics, one monitored."""
    val = draw(st.dictionaries(names.map(lambda n: "val_" + n), values, min_size=1, max_size=8))
    train = draw(st.dictionaries(names.map(lambda n: f"train_{n}_epoch"), values, max_size=4))
    monitor = draw(st.sampled_from(sorted(val)))
    metrics = {**train, "train_loss_epoch": draw(values), **val}
    return metrics, monitor


@settings(max_examples=150, deadline=None)
@given(epoch_metrics=epochs(), v_num=st.integers(0, 9999), max_epochs=st.integers(1, 10000),
       total=st.one_of(st.none(), st.integers(1, 10**6)), bar=st.booleans())
def test_every_line_fits_80_columns_and_keeps_v_num_loss_and_the_monitor(
        epoch_metrics, v_num, max_epochs, total, bar):
    metrics, monitor = epoch_metrics
    terminal = FakeTerminal()
    progress = BarProgress(terminal, ncols=80) if bar else PlainProgress(terminal)
    progress.set_context(Path(f"logs/run/version_{v_num}"), [Monitor(monitor), Monitor(None)])
    progress.start_epoch(0, max_epochs, total)
    for loss in (0.9, 0.5):
        progress.update(torch.tensor(loss))
    progress.end_epoch(metrics)
    progress.close()
    lines = screen_lines(terminal.text)
    assert lines and all(len(line) <= 80 for line in lines), lines
    last = lines[-1]
    shown = short_names({"loss": 0, **metrics})
    assert last.startswith("Epoch 0") and f" v_num={v_num}" in last
    assert f" loss={short_number(metrics['train_loss_epoch'])}" in last
    assert f" {shown[monitor]}={short_number(metrics[monitor])}" in last, (last, monitor)


def test_the_issue_example_line():
    """150 batches, v_num 2, loss and two val metrics: the bar stays, nothing is cut off."""
    terminal = FakeTerminal()
    progress = BarProgress(terminal, ncols=80)
    progress.set_context(Path("lightning_logs/mnist/version_2"), [Monitor("val_accuracy")])
    progress.start_epoch(3, 10, 150)
    for _ in range(150):
        progress.update(torch.tensor(0.3))
    progress.end_epoch({"train_loss_epoch": 0.3124, "val_loss": 0.28134, "val_accuracy": 0.9123})
    last = screen_lines(terminal.text)[-1]
    assert re.fullmatch(r"Epoch 3/9 #{6,} 150/150 00:0\d v_num=2 loss=0\.312 val_loss=0\.281 "
                        r"val_acc=0\.912", last), last


def test_val_metrics_stay_visible_in_the_next_epoch_and_after_a_mid_epoch_validation():
    terminal = FakeTerminal()
    progress = PlainProgress(terminal, interval_s=0.0)
    progress.set_context(Path("logs/version_0"), [], {"val_loss": 1.5})  # a resumed run's
    progress.start_epoch(1, 3, 4)
    progress.update(torch.tensor(2.0))
    progress.show_metrics({"val_loss": 0.75, "val_mae": 0.5})  # val_check_interval < 1 epoch
    progress.update(torch.tensor(1.0))
    first, second = terminal.text.splitlines()
    assert first.endswith("v_num=0 loss=2 val_loss=1.5")
    assert second.endswith("v_num=0 loss=1 val_loss=0.75 val_mae=0.5")


@pytest.mark.parametrize("value, text", [(0.31234, "0.312"), (999.7, "1000"), (1234.4, "1234"),
                                         (123456.0, "1.23e5"), (1e-5, "1e-5"), (-2.5e-308,
                                         "-2.5e-308"), (0.0, "0"), (float("nan"), "nan"),
                                         (float("-inf"), "-inf"), (12.345, "12.3")])
def test_short_numbers(value, text):
    assert short_number(value) == text


@given(values)
def test_short_numbers_are_at_most_10_characters_and_3_significant_digits(value):
    text = short_number(value)
    assert len(text) <= 10
    if text not in ("nan", "inf", "-inf") and 1e-4 <= abs(value) < 1000:
        assert float(text) == pytest.approx(value, rel=5e-3)


def test_short_names():
    assert short_names(["train_loss_epoch", "val_accuracy", "train_accuracy_epoch",
                        "val_a_really_long_metric_name"]) == {
        "train_loss_epoch": "loss", "val_accuracy": "val_acc", "train_accuracy_epoch": "train_acc",
        "val_a_really_long_metric_name": "val_a_r~ric_name"}
    # two names that would look alike keep their own
    assert short_names(["val_acc", "val_accuracy"]) == {"val_acc": "val_acc",
                                                         "val_accuracy": "val_accuracy"}


def test_the_bar_goes_before_any_metric():
    pieces = [Piece("Epoch 0/9", KEEP), Piece("#" * 10, BAR), Piece("00:00", ELAPSED),
              Piece("1.0it/s", RATE), Piece("v_num=0", KEEP), Piece("x" * 40, TRAIN_METRIC),
              Piece("val_acc=0.5", KEEP)]
    kept = [p.text for p in fit(pieces, 72)]
    assert kept == ["Epoch 0/9", "v_num=0", "x" * 40, "val_acc=0.5"]


def iris_spec(tmp_path) -> Path:
    return write_iris_spec(tmp_path, 2, 64, "metrics    = [accuracy]",
                           'callbacks  = [checkpoint(monitor = "val_accuracy", mode = "max")]')


def test_train_prints_val_metrics_in_plain_lines(tmp_path, capsys):
    spec = iris_spec(tmp_path)
    assert main(["train", str(spec), "--default-root-dir", str(tmp_path / "logs")]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Epoch")]
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    assert re.fullmatch(r"Epoch 1/1 4/4 .* v_num=0 loss=\S+ .*val_loss=\S+ val_acc=0\.\d+",
                        lines[1]), lines[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a Linux pseudo-terminal")
def test_train_on_an_80_column_terminal_shows_val_metrics_in_the_bar(tmp_path):
    spec = iris_spec(tmp_path)
    code, output = run_in_terminal("-m", "lightdsl", "train", spec, "--default-root-dir",
                                   tmp_path / "logs", columns=80)
    assert code == 0, output
    lines = [ln for ln in screen_lines(output) if ln.startswith("Epoch")]
    assert lines and all(len(line) <= 80 for line in lines), lines
    assert re.search(r"^Epoch 1/1 .*4/4 .*v_num=0 loss=\S+ .*val_loss=\S+ val_acc=0\.\d+$",
                     lines[-1]), lines
