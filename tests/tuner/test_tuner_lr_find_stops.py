"""How long the learning-rate finder runs and what it says about why it ended (issue 11 item 7):
``num_training`` optimizer steps whatever ``max_epochs`` says (Lightning stops at max_epochs,
its #16561), and a true reason: all steps run, the loss diverged, the data ran out, Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lightdsl
from lightdsl.cli import main
from lightdsl.tuner import lr_find
from lightdsl.tuner.lr_find import _Recorder

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "trainer"))
from trainer_modules import StatQuest

SPECS = os.path.join(os.path.dirname(__file__), "..", "..", "specs")
STATQUEST = os.path.join(SPECS, "statquest.lit")
LR_FIND = "lr_find(min_lr = 0.001, max_lr = 1.0, early_stop_threshold = none)"


def spec_with(tmp_path, lr_find_call: str, max_epochs: int = 1) -> str:
    """The shipped StatQuest spec (3 batches an epoch) with another lr_find and max_epochs."""
    with open(STATQUEST) as f:
        text = f.read()
    text = text.replace(LR_FIND, lr_find_call).replace("max_epochs  = 2000",
                                                       f"max_epochs  = {max_epochs}")
    (tmp_path / "sq.lit").write_text(text)
    return str(tmp_path / "sq.lit")


def expected_points(num_training: int, batches: int, accumulate: int) -> int:
    """Steps recorded, as Lightning's _LRCallback records them: a step that closes an epoch's
    incomplete accumulation window is run but not recorded."""
    per_epoch = -(-batches // accumulate)  # optimizer steps in one epoch
    full = batches // accumulate  # ... of which close a full window
    epochs, rest = divmod(num_training, per_epoch)
    return epochs * full + min(rest, full)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(max_epochs=st.integers(1, 3), num_training=st.integers(2, 40),
       batches=st.integers(1, 3), accumulate=st.integers(1, 3))
def test_runs_num_training_steps_whatever_max_epochs(max_epochs, num_training, batches,
                                                     accumulate):
    kwargs = {"max_epochs": max_epochs, "limit_train_batches": batches,
              "accumulate_grad_batches": accumulate}
    result = lr_find(StatQuest(use_dataloader=False), kwargs, num_training=num_training,
                     early_stop_threshold=None)
    assert result.steps == num_training
    assert result.stop_reason == "finished" and not result.stopped_early
    assert len(result.lrs) == len(result.losses) == expected_points(num_training, batches,
                                                                     accumulate)
    assert result.describe_stop().startswith(f"ran all {num_training} steps")


def test_issue_example_gets_50_points_not_3(tmp_path, capsys):
    """max_epochs = 1, num_training = 50, 3 batches an epoch: 50 points, "ran all 50 steps"."""
    spec = spec_with(tmp_path, "lr_find(num_training = 50, early_stop_threshold = none)")
    code = main(["lr-find", spec, "-o", str(tmp_path / "curve.png")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "lr_find: the search ran all 50 steps\n" in out
    assert "diverged" not in out
    assert "suggested learning rate" in out


def test_a_diverging_loss_says_so_with_its_numbers(tmp_path, capsys):
    """The default threshold 4: StatQuest's first batch has loss 0, so step 2 exceeds 4 x 0."""
    spec = spec_with(tmp_path, "lr_find(num_training = 50)")
    code = main(["lr-find", spec, "-o", str(tmp_path / "curve.png")])
    out = capsys.readouterr().out
    assert code == 1
    assert ("the search stopped early after 2 of 50 steps: the loss diverged (smoothed loss "
            "87.17 > early_stop_threshold 4 x best loss 0)") in out
    assert ("could not suggest a learning rate: too few points (2 recorded, at least 13 "
            "needed: the first 10 and the last 1 are left out); lower max_lr, or raise "
            "early_stop_threshold (none disables it); keeping the spec's lr = 0.01") in out


def test_too_few_points_say_so_in_the_report_and_on_the_curve(tmp_path, capsys, monkeypatch):
    from lightdsl.plots import lr_curve

    figures = []
    monkeypatch.setattr(lr_curve, "save_figure", lambda fig, path, formats: figures.append(fig)
                        or [str(path)])
    spec = spec_with(tmp_path, "lr_find(num_training = 8, early_stop_threshold = none)")
    assert main(["lr-find", spec, "-o", str(tmp_path / "curve.png")]) == 1
    out = capsys.readouterr().out
    assert "the search ran all 8 steps\n" in out
    assert "too few points (8 recorded, at least 13 needed" in out and "raise num_training" in out
    (axes,) = figures[0].axes
    texts = [text.get_text().replace("\n", " ") for text in axes.texts]
    assert any(t.startswith("no suggestion: too few points (8 recorded") for t in texts), texts
    assert "the search ran all 8 steps" in axes.get_title().replace("\n", " ")


class OneShot(torch.utils.data.IterableDataset):
    """Gives its batches once: the second epoch is empty (a consumed stream)."""

    def __init__(self, batches: int) -> None:
        self.left = batches

    def __iter__(self):
        while self.left > 0:
            self.left -= 1
            yield torch.tensor(0.5), torch.tensor(1.0)


class StreamStatQuest(StatQuest):
    def __init__(self, batches: int) -> None:
        super().__init__()
        self.stream = OneShot(batches)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(self.stream, batch_size=None)


@pytest.mark.parametrize("batches", [0, 5])
def test_a_stream_that_runs_dry_ends_the_search_as_out_of_data(batches):
    result = lr_find(StreamStatQuest(batches), {}, num_training=20, early_stop_threshold=None)
    assert result.stop_reason == "out_of_data" and result.steps == len(result.lrs) == batches
    assert result.describe_stop() == (f"stopped after {batches} of 20 steps: the training data "
                                      "gave no more batches")


def test_no_training_batches_is_out_of_data():
    result = lr_find(StatQuest(use_dataloader=False), {"limit_train_batches": 0},
                     num_training=20)
    assert (result.stop_reason, result.steps, result.lrs) == ("out_of_data", 0, [])


def press_ctrl_c_at(monkeypatch, step: int) -> None:
    """Send a real SIGINT to this process after optimizer step ``step`` of the search."""
    record = _Recorder.on_train_batch_end

    def on_train_batch_end(self, trainer, *args):
        record(self, trainer, *args)
        if trainer.global_step == step and not trainer.state.pending_batches:
            signal.raise_signal(signal.SIGINT)  # delivered to this thread before it returns

    monkeypatch.setattr(_Recorder, "on_train_batch_end", on_train_batch_end)


def test_ctrl_c_stops_the_search_and_says_so(monkeypatch):
    press_ctrl_c_at(monkeypatch, 7)
    module = StatQuest(use_dataloader=False)
    result = lr_find(module, {"max_epochs": 1}, num_training=30, early_stop_threshold=None)
    assert result.stop_reason == "interrupted" and result.steps == len(result.lrs) == 7
    assert result.describe_stop() == "was interrupted (Ctrl-C) after 7 of 30 steps"
    assert module.final_bias.detach().item() == 0.0  # the module is restored all the same


def test_ctrl_c_during_lr_find_does_not_start_training(tmp_path, monkeypatch, capsys):
    press_ctrl_c_at(monkeypatch, 7)
    spec = spec_with(tmp_path, "lr_find(num_training = 30, early_stop_threshold = none)")
    assert main(["train", spec, "--default-root-dir", str(tmp_path / "logs")]) == 130
    out = capsys.readouterr().out
    assert ("lr_find: the search was interrupted (Ctrl-C) after 7 of 30 steps; training not "
            "started") in out
    assert not (tmp_path / "logs").exists()


def test_lr_find_command_exits_130_after_ctrl_c(tmp_path, monkeypatch, capsys):
    press_ctrl_c_at(monkeypatch, 4)
    spec = spec_with(tmp_path, "lr_find(num_training = 30, early_stop_threshold = none)")
    assert main(["lr-find", spec, "-o", str(tmp_path / "curve.png")]) == 130
    assert "the search was interrupted (Ctrl-C) after 4 of 30 steps" in capsys.readouterr().out


def test_train_trains_with_the_full_search_suggestion(tmp_path, capsys):
    """In a spec whose max_epochs is smaller than the search: train still uses a suggestion
    from all num_training steps (Lightning would have 3 points and none)."""
    spec = spec_with(tmp_path, "lr_find(num_training = 30, early_stop_threshold = none)", 2)
    experiment = lightdsl.load(spec)
    from lightdsl.tuner import apply_lr_find

    result = apply_lr_find(experiment)
    assert result.steps == 30 and experiment.module.learning_rate == result.suggestion()
    assert "the search ran all 30 steps" in capsys.readouterr().out
