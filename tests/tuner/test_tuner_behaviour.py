"""The finders' behaviour on lightdsl's own modules: state restored, reports, batch-size search,
``batch_size = auto``, ``lr_find(...)`` in a spec, and the commands."""

from __future__ import annotations

import os
import random

import pytest
import torch

import lightdsl
from lightdsl.cli import main
from lightdsl.tuner import apply_lr_find, lr_find, scale_batch_size
from lightdsl.tuner.batch_size import is_oom_error

SPECS = os.path.join(os.path.dirname(__file__), "..", "..", "specs")
STATQUEST = os.path.join(SPECS, "statquest.lit")


LR_FIND = "lr_find(min_lr = 0.001, max_lr = 1.0, early_stop_threshold = none)"


def statquest_variant(tmp_path, old: str, new: str, name: str = "sq.lit") -> str:
    """The shipped StatQuest spec with one edit, its tutorial's 34 epochs and no lr_find
    (unless the edit puts one back)."""
    with open(STATQUEST) as f:
        text = f.read()
    assert old in text
    text = text.replace(old, new).replace(LR_FIND, "").replace("max_epochs  = 2000",
                                                                 "max_epochs  = 34")
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


def with_lr_find(tmp_path, call="lr_find(min_lr = 0.001, max_lr = 1.0, "
                 "early_stop_threshold = none)") -> str:
    return _with_call(tmp_path, call)


def _with_call(tmp_path, call: str) -> str:
    spec = statquest_variant(tmp_path, "seed        = 42", "seed        = 42")
    with open(spec) as f:
        text = f.read().replace("devices     = auto", f"devices     = auto\n    {call}")
    with open(spec, "w") as f:
        f.write(text)
    return spec


def test_module_weights_lr_and_random_state_are_restored():
    module = lightdsl.load(STATQUEST).module
    before = {k: v.clone() for k, v in module.state_dict().items()}
    torch.manual_seed(123)
    random.seed(5)
    lr_find(module, {"seed": 42}, min_lr=0.001, max_lr=1.0, early_stop_threshold=None)
    after = (torch.rand(3), random.random())
    torch.manual_seed(123)
    random.seed(5)
    assert torch.equal(after[0], torch.rand(3)) and after[1] == random.random()
    for key, value in module.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert module.learning_rate == 0.01
    assert "configure_optimizers" not in vars(module)


def test_too_few_points_give_no_suggestion_and_keep_the_spec_lr(tmp_path, capsys):
    experiment = lightdsl.load(with_lr_find(tmp_path, "lr_find(num_training = 5)"))
    result = apply_lr_find(experiment)
    assert result.suggestion() is None
    assert experiment.module.learning_rate == 0.01
    assert "could not suggest" in capsys.readouterr().out


def test_apply_lr_find_sets_the_suggestion(tmp_path, capsys):
    experiment = lightdsl.load(with_lr_find(tmp_path))
    result = apply_lr_find(experiment)
    assert experiment.module.learning_rate == result.suggestion() == pytest.approx(0.00214,
                                                                                   rel=1e-3)
    assert "suggested learning rate 0.00213796" in capsys.readouterr().out


def test_train_with_lr_find_writes_curve_and_response(tmp_path, capsys):
    spec = with_lr_find(tmp_path)
    code = main(["train", spec, "--default-root-dir", str(tmp_path / "logs")])
    out = capsys.readouterr().out
    assert code == 0
    run_dir = tmp_path / "logs" / "sq" / "version_0"
    assert (run_dir / "lr_find.png").is_file() and (run_dir / "response.png").is_file()
    assert "suggested learning rate 0.00213796" in out
    assert "final_bias = -2.17" in out  # the tutorial's 34 epochs at lr 0.00214
    assert f"{run_dir / 'lr_find.png'}" in out and f"{run_dir / 'response.png'}" in out


def test_lr_find_command(tmp_path, capsys):
    out_png = tmp_path / "curve.png"
    code = main(["lr-find", STATQUEST, "--min-lr", "0.001", "--max-lr", "1",
                 "--early-stop-threshold", "none", "-o", str(out_png), "--svg"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "suggested learning rate 0.00213796" in out
    assert out_png.is_file() and (tmp_path / "curve.svg").is_file()


def exit_code(argv) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse's own usage errors
        return stop.code


@pytest.mark.parametrize("argv", [["lr-find", "missing.lit"],
                                  ["lr-find", STATQUEST, "--early-stop-threshold", "x"],
                                  ["lr-find", STATQUEST, "--mode", "cubic"],
                                  ["tune-batch-size", STATQUEST, "--init-val", "two"],
                                  ["tune-batch-size", STATQUEST, "--max-trials", "0"]])
def test_command_usage_errors_exit_2(argv, capsys):
    assert exit_code(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error" in err


class FakeOOM(torch.nn.Module):
    """A module whose training step 'runs out of memory' above a batch size."""

    def __init__(self, samples=1000, limit=64):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.batch_size, self.limit, self.samples = 2, limit, samples
        self.tried: list[int] = []

    def training_step(self, batch, batch_idx):
        size = len(batch[0])
        self.tried.append(size)
        if size > self.limit:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return (self.weight * batch[0]).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        from lightdsl.trainer import InMemoryLoader

        return InMemoryLoader((torch.ones(self.samples),), batch_size=self.batch_size)


def test_power_scaling_stops_at_out_of_memory():
    module = FakeOOM(limit=64)
    assert scale_batch_size(module, log=lambda _: None) == 64
    assert sorted(set(module.tried)) == [2, 4, 8, 16, 32, 64, 128]
    assert module.batch_size == 64


def test_power_scaling_stops_at_the_dataset_size():
    module = FakeOOM(samples=100, limit=10_000)
    assert scale_batch_size(module, log=lambda _: None) == 100


def test_other_errors_are_not_taken_for_out_of_memory():
    assert is_oom_error(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert not is_oom_error(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))


def test_batch_size_auto_in_a_spec(tmp_path, capsys):
    spec = statquest_variant(tmp_path, "batch_size = 1", "batch_size = auto")
    experiment = lightdsl.load(spec)
    result = experiment.fit(enable_checkpointing=False, logger=None, enable_progress_bar=False,
                            enable_model_summary=False, default_root_dir=str(tmp_path))
    assert experiment.data.settings["batch_size"] == 3  # the whole (3-sample) dataset
    assert result.global_step == 34
    assert "batch_size = auto: using 3" in capsys.readouterr().out


def test_tune_batch_size_command(capsys):
    assert main(["tune-batch-size", STATQUEST]) == 0
    assert "batch size: 3" in capsys.readouterr().out
