"""Checkpoints and resume: bit-for-bit continuation, atomic writes, Ctrl-C, safe loading."""

from __future__ import annotations

import signal

import pytest
import torch
from trainer_modules import Regression, fast_trainer_kwargs

from lightdsl.errors import ConfigError, TrainingError, UsageError
from lightdsl.trainer import Callback, Trainer, atomic_save, load_checkpoint
from lightdsl.trainer import checkpoint as checkpoint_module


class LossRecorder(Callback):
    def __init__(self, interrupt_at_step: int | None = None):
        self.losses, self.interrupt_at_step = [], interrupt_at_step

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.losses.append(outputs["loss"].item())
        if trainer.global_step == self.interrupt_at_step:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C, delivered before this returns


def resumable(loader: str, **kw) -> Regression:
    """Dropout, shuffled training data, validation, Adam and an epoch scheduler: every piece of
    state a resume has to restore."""
    return Regression(
        val_size=10,
        dropout=0.3,
        shuffle=True,
        loader=loader,
        optimizer="adam",
        scheduler="epoch",
        **kw,
    )


def run(tmp_path, module, max_epochs, ckpt_path=None, **kw):
    recorder = LossRecorder(kw.pop("interrupt_at_step", None))
    settings = fast_trainer_kwargs(tmp_path, enable_checkpointing=True, seed=7, **kw)
    result = Trainer(max_epochs=max_epochs, callbacks=[recorder], **settings).fit(
        module, ckpt_path=ckpt_path
    )
    return result, recorder.losses


def assert_same_parameters(a, b):
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), name


@pytest.mark.parametrize("loader", ["memory", "dataloader"])
def test_two_epochs_plus_resume_to_four_equals_four_bit_for_bit(tmp_path, loader):
    full = resumable(loader)
    _, full_losses = run(tmp_path / "full", full, 4)

    first = resumable(loader)
    result, first_losses = run(tmp_path / "split", first, 2)
    assert result.last_checkpoint.endswith("last.ckpt")
    resumed = resumable(loader)
    result, rest_losses = run(tmp_path / "split", resumed, 4, ckpt_path=result.last_checkpoint)

    assert first_losses + rest_losses == full_losses  # every step, exactly
    assert len(full_losses) == 4 * 8
    assert_same_parameters(resumed, full)
    assert result.epochs == 4 and result.global_step == 32
    assert result.last_metrics["val_loss"] == pytest.approx(result.history[-1]["val_loss"])


@pytest.mark.parametrize("loader", ["memory", "dataloader"])
def test_ctrl_c_saves_mid_epoch_and_resume_continues_exactly(tmp_path, capsys, loader):
    handler_before = signal.getsignal(signal.SIGINT)  # SIG_IGN when run in the background
    full = resumable(loader)
    _, full_losses = run(tmp_path / "full", full, 3)

    first = resumable(loader)
    result, first_losses = run(tmp_path / "split", first, 3, interrupt_at_step=11)
    assert result.interrupted and result.global_step == 11
    assert "Interrupted: saved" in capsys.readouterr().out
    ckpt = load_checkpoint(result.last_checkpoint)
    assert ckpt["loop"]["epoch"] == 1 and ckpt["loop"]["batches_done"] == 3
    assert signal.getsignal(signal.SIGINT) is handler_before  # the caller's handler restored

    resumed = resumable(loader)
    _, rest_losses = run(tmp_path / "split", resumed, 3, ckpt_path=result.last_checkpoint)
    assert first_losses + rest_losses == full_losses
    assert_same_parameters(resumed, full)


def test_checkpoint_loads_with_weights_only_and_holds_the_run(tmp_path):
    module = Regression(val_size=10)
    module.spec_source = "train { max_epochs = 1 }"
    result, _ = run(tmp_path, module, 1)
    ckpt = torch.load(result.last_checkpoint, weights_only=True)
    assert set(ckpt) >= {"state_dict", "optimizer", "rng", "loop", "callbacks", "hparams"}
    assert ckpt["spec_source"] == "train { max_epochs = 1 }"
    assert ckpt["hparams"] == {"lr": 0.01, "batch_size": 8, "name": "regression"}
    assert ckpt["loop"]["global_step"] == 8 and ckpt["loop"]["epoch_finished"] is True
    assert isinstance(ckpt["rng"]["torch"], torch.Tensor)
    torch.testing.assert_close(ckpt["state_dict"]["net.0.weight"], module.net[0].weight)
    # the default checkpoint callback keeps the best by val_loss next to last.ckpt
    assert result.best_checkpoint.endswith("epoch=0-step=8.ckpt")


def test_atomic_save_keeps_the_old_file_when_a_save_crashes(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    atomic_save({"value": torch.tensor([1.0])}, path)
    real_save = torch.save

    def crash_midway(obj, f):
        f.write(b"partial garbage")  # some bytes reach the disk, then the process dies
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", crash_midway)
    with pytest.raises(TrainingError, match="disk full.*previous checkpoint .* is intact"):
        atomic_save({"value": torch.tensor([2.0])}, path)
    monkeypatch.setattr(checkpoint_module.torch, "save", real_save)
    assert torch.load(path, weights_only=True)["value"].item() == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # no temp file left behind


def test_missing_or_foreign_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(UsageError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "other.ckpt")
    with pytest.raises(UsageError, match="not a lightdsl checkpoint"):
        load_checkpoint(tmp_path / "other.ckpt")


def _tree(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_resume_with_nothing_left_to_do_says_so_and_writes_nothing(tmp_path, capsys):
    """Issue 16 item 11: it used to create an empty version_1 (with a last.ckpt) instead."""
    result, _ = run(tmp_path, Regression(), 2, logger="csv")
    before, ckpt = _tree(tmp_path), result.last_checkpoint
    capsys.readouterr()
    again, losses = run(tmp_path, Regression(), 2, ckpt_path=ckpt, logger="csv")
    assert losses == [] and again.epochs == 2 and again.global_step == 16
    assert (again.log_dir, again.checkpoint_dir, again.last_checkpoint) == (None, None, ckpt)
    assert _tree(tmp_path) == before  # no version_1, no file touched
    assert capsys.readouterr().err == (
        f"nothing left to do: {ckpt} already completed max_epochs=2 (2 epochs, 16 steps); "
        "nothing was trained or written. Raise max_epochs to train further.\n")
    again, losses = run(tmp_path, Regression(), 5, ckpt_path=ckpt, max_steps=16)
    assert losses == [] and _tree(tmp_path) == before
    assert "already completed max_steps=16 (2 epochs, 16 steps)" in capsys.readouterr().err


def test_resume_says_it_keeps_the_checkpoints_lr(tmp_path, capsys):
    result, _ = run(tmp_path, Regression(lr=0.002), 1)
    capsys.readouterr()
    again, _ = run(tmp_path, Regression(lr=0.01), 2, ckpt_path=result.last_checkpoint)
    out = capsys.readouterr().out
    assert ("Resuming with lr 0.002 from the checkpoint; configure_optimizers() sets 0.01"
            in out)
    assert again.learning_rate == 0.002
    same, _ = run(tmp_path, Regression(lr=0.002), 3, ckpt_path=again.last_checkpoint)
    assert "Resuming with lr" not in capsys.readouterr().out and same.learning_rate == 0.002


def test_cli_resume_after_lr_find_prints_the_lr_the_optimizer_uses(tmp_path, capsys):
    from pathlib import Path

    from lightdsl.cli import main

    spec = Path(__file__).resolve().parents[2] / "specs" / "statquest.lit"
    args = ["train", str(spec), "--default-root-dir", str(tmp_path), "--max-steps"]
    assert main([*args, "6"]) == 0
    first = capsys.readouterr().out
    found = first.split("learning rate: ")[1].split()[0]
    assert float(found) != 0.01  # lr_find's suggestion
    assert main([*args, "12", "--resume", "last"]) == 0
    out = capsys.readouterr().out
    assert f"Resuming with lr {float(found):g} from the checkpoint; the spec says 0.01" in out
    assert f"learning rate: {found}" in out


def adam_checkpoint(tmp_path, strip_types=False):
    result, _ = run(tmp_path, Regression(optimizer="adam", val_size=8), 1)
    if strip_types:  # as checkpoints written before the optimizer's class was recorded
        ckpt = load_checkpoint(result.last_checkpoint)
        del ckpt["optimizer"]["types"]
        atomic_save(ckpt, result.last_checkpoint)
    return result.last_checkpoint


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (lambda: Regression(optimizer="sgd"),
         ("the checkpoint was written with Adam; this run uses SGD: a resume needs the same "
         "optimizer")),
        (lambda: Regression(optimizer="adam", scheduler="epoch"),
         "learning-rate scheduler(s) none; this run uses StepLR"),
        (lambda: Regression(optimizer="adam", features=5),
         ("written by a different model: net.0.weight is [16, 4] in the checkpoint, [16, 5] "
         "here")),
    ],
    ids=["optimizer", "scheduler", "model"],
)
def test_resuming_into_another_optimizer_scheduler_or_model_is_a_clear_error(tmp_path, module,
                                                                            message):
    ckpt = adam_checkpoint(tmp_path)
    with pytest.raises(ConfigError) as error:
        run(tmp_path, module(), 2, ckpt_path=ckpt)
    assert message in str(error.value)
    assert "train without --resume" in str(error.value)


def test_checkpoints_without_the_optimizer_class_are_compared_by_settings(tmp_path):
    ckpt = adam_checkpoint(tmp_path, strip_types=True)
    with pytest.raises(ConfigError, match=r"another optimizer \(settings amsgrad, betas.*\) than "
                                          r"this run's SGD \(settings dampening, momentum"):
        run(tmp_path, Regression(optimizer="sgd"), 2, ckpt_path=ckpt)
    result, _ = run(tmp_path, Regression(optimizer="adam", val_size=8), 2, ckpt_path=ckpt)
    assert result.global_step == 16  # the same optimizer still resumes


def test_cli_resume_with_another_optimizer_exits_1_with_the_message(tmp_path, capsys):
    from pathlib import Path

    from lightdsl.cli import main

    spec = Path(__file__).resolve().parents[2] / "specs" / "statquest.lit"
    args = ["train", str(spec), "--default-root-dir", str(tmp_path), "--max-steps", "3",
            "--set", "train.optimizer=adam(lr = 0.01)"]
    assert main(args) == 0
    capsys.readouterr()
    args[7] = "train.optimizer=sgd(lr = 0.01, momentum = 0.9)"
    assert main([*args, "--resume", "last"]) == 1
    err = capsys.readouterr().err
    assert "error: the checkpoint was written with Adam; this run uses SGD" in err
