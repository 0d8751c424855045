"""What the trainer shows and writes, and its settings: precision, devices, loggers, progress,
summary, hints, argument checks, data loaders and the validate/test/predict entry points."""

from __future__ import annotations

import csv
import time

import pytest
import torch
from torch.utils.data import DataLoader, Dataset
from trainer_modules import MLP, FakeTerminal, Regression, StatQuest, fast_trainer_kwargs

from lightdsl.errors import ConfigError, DeviceError
from lightdsl.trainer import InMemoryLoader, Trainer


def fit(tmp_path, module, **kw):
    return Trainer(**fast_trainer_kwargs(tmp_path, **kw)).fit(module)


# ------------------------------------------------------------------ precision and devices


def test_64_true_trains_in_float64(tmp_path):
    module = Regression(val_size=8)
    seen = []
    step = module.training_step
    module.training_step = lambda batch, i: seen.append(batch[0].dtype) or step(batch, i)
    result = fit(tmp_path, module, max_epochs=1, precision=64)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    assert set(seen) == {torch.float64}  # float inputs were converted once, with the data
    assert result.last_metrics["val_loss"] > 0


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed", "bf16-true", "16-true"])
def test_reduced_precisions_run_on_cpu(tmp_path, precision):
    module = Regression(val_size=8)
    dtypes = []
    forward = module.forward
    module.forward = lambda x: dtypes.append(forward(x).dtype) or forward(x)
    result = fit(tmp_path, module, max_epochs=2, precision=precision)
    assert torch.isfinite(torch.tensor(result.last_metrics["train_loss_epoch"]))
    # 16-mixed on the CPU trains as bf16-mixed, as in Lightning (see the next test)
    half = torch.float16 if precision == "16-true" else torch.bfloat16
    assert dtypes[0] == half  # the forward pass really ran in reduced precision
    weights = torch.float32 if precision.endswith("mixed") else half
    assert module.net[0].weight.dtype == weights


def test_16_mixed_on_the_cpu_says_it_trains_as_bf16_mixed_as_lightning_does(tmp_path, capsys):
    """Issue 16 item 11: it ran silently (float16 autocast, no gradient scaler on the CPU)."""
    import pytorch_lightning as pl

    trainer = Trainer(**fast_trainer_kwargs(tmp_path, accelerator="cpu", max_epochs=1,
                                            precision="16-mixed"))
    trainer.fit(Regression(val_size=8))
    assert trainer.precision.autocast_dtype is torch.bfloat16 and trainer.scaler is None
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if "16-mixed" in ln]
    assert warnings == [("warning: precision='16-mixed' on the CPU: float16 autocast there has "
                         "no gradient scaler, so small gradients would underflow to zero; "
                         "training with 'bf16-mixed' instead, as Lightning does (write "
                         'precision = "bf16-mixed" to say so, or "32-true" for full precision)')]
    with pytest.warns(UserWarning, match="Using `precision='bf16-mixed'` instead"):
        lightning = pl.Trainer(accelerator="cpu", precision="16-mixed", logger=False,
                               enable_checkpointing=False, enable_progress_bar=False)
    assert lightning.precision == "bf16-mixed"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["16-mixed", "bf16-mixed"])
def test_mixed_precision_on_gpu(tmp_path, precision):
    trainer = Trainer(
        **fast_trainer_kwargs(tmp_path, accelerator="gpu", max_epochs=3, precision=precision)
    )
    module = Regression(val_size=16, batch_size=16, n=256, optimizer="adam")
    result = trainer.fit(module)
    assert (trainer.scaler is not None) == (precision == "16-mixed")
    assert next(module.parameters()).device.type == "cuda"
    assert result.history[-1]["train_loss_epoch"] < result.history[0]["train_loss_epoch"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_an_absent_gpu_is_a_device_error(tmp_path):
    with pytest.raises(DeviceError, match="accelerator='gpu' was asked for") as err:
        fit(tmp_path, Regression(), max_epochs=1, accelerator="gpu")
    assert "accelerator='auto'" in str(err.value)
    result = fit(tmp_path, Regression(), max_epochs=1, accelerator="auto")  # falls back quietly
    assert result.global_step == 8


def test_deterministic_is_on_during_training_and_restored_after(tmp_path):
    module = Regression()
    seen = []
    step = module.training_step
    module.training_step = lambda b, i: (
        seen.append(torch.are_deterministic_algorithms_enabled()) or step(b, i)
    )
    fit(tmp_path, module, max_epochs=1, deterministic=True)
    assert all(seen) and not torch.are_deterministic_algorithms_enabled()


def test_same_seed_same_run(tmp_path):
    runs = []
    for _ in range(2):
        module = Regression(dropout=0.5, shuffle=True)
        runs.append(fit(tmp_path, module, max_epochs=2, seed=3).last_metrics["train_loss_epoch"])
    other = fit(tmp_path, Regression(dropout=0.5, shuffle=True), max_epochs=2, seed=4)
    assert runs[0] == runs[1] != other.last_metrics["train_loss_epoch"]


# ------------------------------------------------------------------ argument checks


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"precision": "17"}, "precision='17' is not valid; choose one of '32-true'"),
        ({"precision": "bf17"}, 'did you mean "bf16"?'),
        ({"gradient_clip_algorithm": "nrom"}, 'did you mean "norm"?'),
        ({"accelerator": "cuad"}, 'did you mean "cuda"?'),
        ({"max_epochs": True}, "max_epochs=True is not valid"),
        ({"limit_val_batches": 1.5}, "fraction of the data"),
        ({"devices": 0}, "devices=0 is not valid"),
        ({"strategy": "fsdp"}, "strategy='fsdp' is not valid; choose one of 'auto', 'ddp'"),
        ({"num_nodes": 0}, "num_nodes=0 is not valid"),
        ({"logger": "wandb"}, "logger='wandb' is not valid"),
        ({"enable_progress_bar": "no"}, "expected true or false"),
        ({"val_check_interval": 0}, "val_check_interval=0 is not valid"),
    ],
)
def test_bad_settings_are_config_errors_naming_the_argument(kwargs, message):
    with pytest.raises(ConfigError) as err:
        Trainer(**kwargs)
    assert message in str(err.value)


def test_precision_aliases():
    names = [Trainer(precision=p).config.precision for p in (32, "64", 16, "bf16")]
    assert names == ["32-true", "64-true", "16-mixed", "bf16-mixed"]


def test_training_step_without_a_loss_is_a_config_error(tmp_path):
    module = Regression()
    module.training_step = lambda batch, i: {"accuracy": torch.tensor(1.0)}
    with pytest.raises(ConfigError, match="has no 'loss'"):
        fit(tmp_path, module, max_epochs=1)


# ------------------------------------------------------------------ loggers


def test_csv_logger_writes_steps_epochs_and_hparams(tmp_path):
    result = fit(
        tmp_path,
        Regression(val_size=8),
        max_epochs=2,
        logger="csv",
        log_every_n_steps=4,
        run_name="reg",
    )
    assert result.log_dir == str(tmp_path / "reg" / "version_0")
    with open(tmp_path / "reg" / "version_0" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    # Lightning's logging steps (global_step - 1) and layout: a row per log call, with epoch
    assert [int(r["step"]) for r in rows if r["train_loss_step"]] == [3, 7, 11, 15]
    epoch_rows = [r for r in rows if r["train_loss_epoch"]]
    val_rows = [r for r in rows if r["val_loss"]]
    assert [(r["epoch"], r["step"]) for r in epoch_rows] == [("0", "7"), ("1", "15")]
    assert [(r["epoch"], r["step"]) for r in val_rows] == [("0", "7"), ("1", "15")]
    assert float(val_rows[-1]["val_loss"]) == pytest.approx(result.last_metrics["val_loss"])
    assert (tmp_path / "reg" / "version_0" / "hparams.json").read_text().count('"lr"') == 1
    again = fit(tmp_path, Regression(), max_epochs=1, logger="csv", run_name="reg")
    assert again.log_dir.endswith("version_1")  # each run gets its own version


def test_tensorboard_event_file_has_scalars_hparams_and_spec(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = fit(
        tmp_path, StatQuest(lr=0.2), max_epochs=3, logger="tensorboard", log_every_n_steps=1
    )
    events = EventAccumulator(result.log_dir, size_guidance={"tensors": 0})
    events.Reload()
    scalars = events.Tags()["scalars"]
    assert {"train_loss_step", "train_loss_epoch", "epoch"} <= set(scalars)
    assert "train_loss" not in scalars  # Lightning's name for a step's value: train_loss_step
    assert [e.step for e in events.Scalars("train_loss_step")] == list(range(9))
    assert [e.step for e in events.Scalars("train_loss_epoch")] == [2, 5, 8]
    tensors = events.Tags()["tensors"]
    assert "spec/text_summary" in tensors
    spec = events.Tensors("spec/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "model BasicLightningTrain" in spec
    assert "_hparams_/session_start_info" in events.summary_metadata


# ------------------------------------------------------------------ progress and summaries


def test_plain_progress_lines_when_stdout_is_not_a_terminal(tmp_path, capsys):
    fit(tmp_path, Regression(val_size=8), max_epochs=2, enable_progress_bar=True, logger="csv")
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Epoch")]
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 0/1 8/8 ") and " v_num=0 loss=" in lines[0]
    assert " val_loss=" in lines[1] and len(lines[1]) <= 80
    # a run that writes nothing has no version folder to name (issue 16 item 7)
    fit(tmp_path, Regression(val_size=8), max_epochs=1, enable_progress_bar=True)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Epoch")]
    assert len(lines) == 1 and "v_num" not in lines[0] and " loss=" in lines[0]


def test_model_summary_table(tmp_path, capsys):
    fit(tmp_path, MLP(), max_steps=1, enable_model_summary=True)
    out = capsys.readouterr().out
    assert "Name     | Type    | Output shape | Params  | Trainable" in out
    assert "1 | layers.1 | Linear  | (N, 500)     | 392,500 | trainable" in out
    assert "3 | layers.3 | Linear  | (N, 10)      | 5,010   | trainable" in out
    assert "Total params: 397,510" in out and "Size: 1.59 MB" in out
    fit(tmp_path, StatQuest(), max_steps=1, enable_model_summary=True)
    out = capsys.readouterr().out
    assert "6 | final_bias | Parameter | ()           | 1      | trainable" in out
    assert "Trainable params: 1   Frozen params: 6   Total params: 7" in out


def test_final_summary_says_where_things_went(tmp_path, capsys):
    result = fit(
        tmp_path,
        Regression(val_size=8),
        max_epochs=2,
        logger="csv",
        enable_checkpointing=True,
        enable_progress_bar=True,
    )
    out = capsys.readouterr().out
    assert "Training finished: 2 epochs, 16 steps" in out
    assert f"logs: {result.log_dir}" in out
    assert f"last checkpoint: {result.last_checkpoint}" in out
    assert f"best (val_loss, epoch {result.best_epoch})" in out


# ------------------------------------------------------------------ hints


class SlowDataset(Dataset):
    def __init__(self, n, delay):
        self.x, self.y, self.delay = torch.randn(n, 4), torch.randn(n), delay

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        time.sleep(self.delay)
        return self.x[i], self.y[i]


def test_data_loading_hint_only_when_waiting_was_measured_to_dominate(tmp_path, capsys):
    module = Regression(val_size=8)
    module.train_dataloader = lambda: DataLoader(SlowDataset(64, 0.01), batch_size=8)
    fit(tmp_path, module, max_epochs=2)
    err = capsys.readouterr().err
    assert err.count("data loading is the bottleneck") == 1  # once, not every epoch
    fit(tmp_path, Regression(val_size=8, loader="dataloader"), max_epochs=2)
    assert "bottleneck" not in capsys.readouterr().err  # fast loading: no hint


def test_shuffled_validation_data_hint(tmp_path, capsys):
    module = Regression(val_size=8)
    module.val_dataloader = lambda: InMemoryLoader((module.vx, module.vy), 4, shuffle=True)
    fit(tmp_path, module, max_epochs=1)
    assert "validation data is shuffled" in capsys.readouterr().err
    fit(tmp_path, Regression(val_size=8), max_epochs=1)
    assert "shuffled" not in capsys.readouterr().err


# ------------------------------------------------------------------ data and entry points


def test_in_memory_loader_batches_and_seeded_shuffles():
    x, y = torch.arange(10.0), torch.arange(10)
    loader = InMemoryLoader((x, y), batch_size=4)
    assert len(loader) == 3 and [len(b[0]) for b in loader] == [4, 4, 2]
    assert len(InMemoryLoader((x, y), batch_size=4, drop_last=True)) == 2
    shuffled = InMemoryLoader((x, y), batch_size=4, shuffle=True, seed=5)
    first = torch.cat([b[0] for b in shuffled])
    assert sorted(first.tolist()) == x.tolist() and first.tolist() != x.tolist()
    assert all(torch.equal(bx.long(), by) for bx, by in shuffled)  # rows stay paired
    assert torch.equal(first, torch.cat([b[0] for b in shuffled]))  # same epoch, same order
    shuffled.set_epoch(1)
    assert not torch.equal(first, torch.cat([b[0] for b in shuffled]))
    moved = loader.to("cpu", torch.float64)
    assert moved.tensors[0].dtype == torch.float64 and loader.tensors[0].dtype == torch.float32
    assert moved.tensors[1].dtype == torch.int64  # labels are not floats: left as they are
    with pytest.raises(ConfigError, match="differ in length"):
        InMemoryLoader((x, y[:5]))


def test_validate_test_and_predict(tmp_path):
    module = Regression(val_size=10, batch_size=4)
    trainer = Trainer(**fast_trainer_kwargs(tmp_path))
    metrics = trainer.validate(module)
    with torch.no_grad():
        expected = torch.nn.functional.mse_loss(module(module.vx), module.vy).item()
    assert metrics["val_loss"] == pytest.approx(expected, rel=1e-6)
    assert trainer.test(module)["test_loss"] == pytest.approx(expected, rel=1e-6)
    predictions = trainer.predict(module, InMemoryLoader((module.vx,), batch_size=4))
    assert [p.shape[0] for p in predictions] == [4, 4, 2]
    torch.testing.assert_close(torch.cat(predictions), module(module.vx).detach())


def test_progress_bar_on_a_terminal_shows_loss_metrics_and_rate():
    from lightdsl.trainer.progress import BarProgress, make_progress

    terminal = FakeTerminal()
    progress = make_progress(True, terminal)
    assert isinstance(progress, BarProgress)
    progress.start_epoch(0, 2, 3)
    for loss in (0.9, 0.5, 0.25):
        progress.update(torch.tensor(loss))
    progress.end_epoch({"train_loss_epoch": 0.55, "val_loss": 0.4})
    assert "Epoch 0/1" in terminal.text and "3/3" in terminal.text
    assert "val_loss=0.4" in terminal.text and "it/s" in terminal.text


def test_a_callback_can_stop_training_mid_epoch(tmp_path):
    from lightdsl.trainer import Callback

    class StopAtStep3(Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            if trainer.global_step == 3:
                trainer.should_stop = True

    result = fit(tmp_path, Regression(), max_epochs=5, callbacks=[StopAtStep3()])
    assert result.global_step == 3 and result.epochs == 0
