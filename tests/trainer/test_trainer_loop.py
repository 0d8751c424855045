"""The training loop's arithmetic: validation means, clipping, accumulation, limits, schedules,
early stopping, top-k checkpoints, fast_dev_run and NaN stops, each against hand-computed
numbers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from trainer_modules import Regression, StatQuest, fast_trainer_kwargs

from lightdsl.errors import ConfigError, TrainingError
from lightdsl.trainer import Callback, EarlyStopping, ModelCheckpoint, Trainer, load_checkpoint


def fit(tmp_path, module, **kw):
    return Trainer(**fast_trainer_kwargs(tmp_path, **kw)).fit(module)


class CountingRegression(Regression):
    """Counts validation_step calls; can script the validation loss per validation."""

    def __init__(self, val_losses=None, **kw):
        super().__init__(**kw)
        self.val_calls, self.val_losses, self.validations = 0, val_losses, 0

    def validation_step(self, batch, batch_idx):
        self.val_calls += 1
        if self.val_losses is None:
            return super().validation_step(batch, batch_idx)
        if batch_idx == 0:
            self.validations += 1
        return {"loss": torch.tensor(self.val_losses[self.validations - 1])}


# ------------------------------------------------------------------ StatQuest fits its data


@pytest.mark.parametrize("use_dataloader", [True, False])
def test_statquest_fits_minus_16_01_with_sgd_lr_0_2(tmp_path, use_dataloader):
    # Only the dose-0.5 point has a gradient for final_bias < 0; with batch 1 each epoch makes
    # one step b <- b - lr * 2 * (b + 16.01), i.e. the error shrinks by |1 - 2 lr| = 0.6 per
    # epoch: 16.01 * 0.6**34 < 1e-6 after 34 epochs. (lr 0.00214 shrinks it by 0.4% an epoch.)
    module = StatQuest(lr=0.2, use_dataloader=use_dataloader)
    fit(tmp_path, module, max_epochs=34)
    assert module.final_bias.item() == pytest.approx(-16.01, abs=1e-4)
    assert module.w01.item() == pytest.approx(-40.8)  # frozen weights did not move
    outputs = module(torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(outputs, torch.tensor([0.0, 1.0, 0.0]), atol=1e-4, rtol=0)


# ------------------------------------------------------------------ validation


def test_validation_mean_is_weighted_by_batch_size(tmp_path):
    module = Regression(val_size=10, batch_size=4)  # val batches of 4, 4 and 2
    result = fit(tmp_path, module, max_epochs=1)
    with torch.no_grad():
        errors = module(module.vx) - module.vy
    expected = (errors**2).mean().item()
    assert result.last_metrics["val_loss"] == pytest.approx(expected, rel=1e-6)
    assert result.last_metrics["val_mae"] == pytest.approx(errors.abs().mean().item(), rel=1e-6)
    per_batch = [(errors[i : i + 4] ** 2).mean().item() for i in (0, 4, 8)]
    assert abs(sum(per_batch) / 3 - expected) > 1e-3  # an unweighted mean would be wrong here


def test_validation_schedule_sanity_steps_interval_and_every_n_epochs(tmp_path):
    module = CountingRegression(val_size=16)  # 2 val batches, 8 train batches
    fit(tmp_path, module, max_epochs=2, num_sanity_val_steps=1, val_check_interval=0.5)
    assert module.val_calls == 1 + 2 * 2 * 2  # sanity + 2 epochs x 2 checks x 2 batches
    module = CountingRegression(val_size=16)
    result = fit(tmp_path, module, max_epochs=4, check_val_every_n_epoch=2)
    assert module.val_calls == 2 * 2
    assert ["val_loss" in h for h in result.history] == [False, True, False, True]


def test_val_check_interval_longer_than_an_epoch_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="val_check_interval=20 is more than the 8"):
        fit(tmp_path, Regression(val_size=8), max_epochs=1, val_check_interval=20)


# ------------------------------------------------------------------ early stopping, top-k


def test_early_stopping_waits_patience_checks_after_the_best(tmp_path):
    module = CountingRegression(val_size=8, val_losses=[5.0, 4.0, 4.5, 4.2, 1.0, 1.0])
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    result = fit(tmp_path, module, max_epochs=6, callbacks=[stopper])
    assert result.epochs == 4 and stopper.best_score == 4.0 and stopper.stopped_epoch == 3
    assert "early stopping" in result.stop_reason


def test_early_stopping_min_delta_and_max_mode(tmp_path):
    module = CountingRegression(val_size=8, val_losses=[1.0, 1.4, 1.45, 1.49, 9.0])
    stopper = EarlyStopping(monitor="val_loss", patience=2, mode="max", min_delta=0.1)
    assert fit(tmp_path, module, max_epochs=5, callbacks=[stopper]).epochs == 4
    assert stopper.best_score == pytest.approx(1.4)


def test_early_stopping_on_an_unknown_metric_suggests_the_right_name(tmp_path):
    stopper = EarlyStopping(monitor="val_los")
    with pytest.raises(ConfigError, match="val_los") as err:
        fit(tmp_path, Regression(val_size=8), max_epochs=1, callbacks=[stopper])
    assert 'did you mean "val_loss"' in str(err.value)


def test_save_top_k_keeps_the_k_best_files(tmp_path):
    module = CountingRegression(val_size=8, val_losses=[5.0, 3.0, 4.0, 2.0, 6.0])
    saver = ModelCheckpoint(monitor="val_loss", save_top_k=2)
    result = fit(tmp_path, module, max_epochs=5, callbacks=[saver], enable_checkpointing=True)
    directory = tmp_path / "CountingRegression" / "version_0" / "checkpoints"
    names = sorted(p.name for p in directory.iterdir())
    assert names == ["epoch=1-step=16.ckpt", "epoch=3-step=32.ckpt", "last.ckpt"]
    assert result.best_checkpoint == str(directory / "epoch=3-step=32.ckpt")
    assert result.best_metrics["val_loss"] == 2.0 and result.best_epoch == 3
    best = load_checkpoint(result.best_checkpoint)
    assert best["loop"]["epoch"] == 3  # the file holds the best epoch's weights


# ------------------------------------------------------------------ gradients


def one_sgd_step(tmp_path, algorithm: str, clip: float):
    """(lightdsl's weights after one clipped step, the same computed by hand)."""
    module = Regression(n=8, batch_size=8, features=2)
    module.configure_optimizers = lambda: torch.optim.SGD(module.parameters(), lr=1.0)
    expected = Regression(n=8, batch_size=8, features=2)
    loss = F.mse_loss(expected(expected.x), expected.y)
    grads = torch.autograd.grad(loss, list(expected.parameters()))
    if algorithm == "norm":
        total = torch.sqrt(sum((g**2).sum() for g in grads))
        grads = [g * min(1.0, clip / (total.item() + 1e-6)) for g in grads]
        assert total > clip  # the test must really clip
    else:
        assert any((g.abs() > clip).any() for g in grads)  # the test must really clip
        grads = [g.clamp(-clip, clip) for g in grads]
    by_hand = [p.detach() - g for p, g in zip(expected.parameters(), grads)]
    Trainer(
        **fast_trainer_kwargs(
            tmp_path, max_steps=1, gradient_clip_val=clip, gradient_clip_algorithm=algorithm
        )
    ).fit(module)
    return list(module.parameters()), by_hand


@pytest.mark.parametrize("algorithm", ["norm", "value"])
def test_gradient_clipping_matches_hand_computation(tmp_path, algorithm):
    ours, by_hand = one_sgd_step(tmp_path, algorithm, clip=0.5)
    for p, q in zip(ours, by_hand):
        torch.testing.assert_close(p.detach(), q, atol=1e-6, rtol=1e-5)


def test_accumulating_two_batches_of_4_equals_one_batch_of_8(tmp_path):
    small = Regression(batch_size=4)
    fit(tmp_path, small, max_epochs=2, accumulate_grad_batches=2)
    large = Regression(batch_size=8)
    result = fit(tmp_path, large, max_epochs=2)
    assert result.global_step == 16
    for p, q in zip(small.parameters(), large.parameters()):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)


def test_incomplete_accumulation_steps_at_the_end_of_the_epoch(tmp_path):
    result = fit(tmp_path, Regression(batch_size=8), max_epochs=1, accumulate_grad_batches=3)
    assert result.global_step == 3  # 8 batches: steps after 3, 6 and the last 2


# ------------------------------------------------------------------ limits, schedulers


def test_limit_train_and_val_batches(tmp_path):
    module = CountingRegression(val_size=32)  # 4 val batches
    result = fit(tmp_path, module, max_epochs=2, limit_train_batches=3, limit_val_batches=0.5)
    assert result.global_step == 6 and module.val_calls == 2 * 2
    result = fit(tmp_path, Regression(), max_epochs=1, limit_train_batches=0.25)
    assert result.global_step == 2
    with pytest.raises(ConfigError, match="is 0 batches"):
        fit(tmp_path, Regression(), max_epochs=1, limit_train_batches=0.05)


def test_max_steps_stops_mid_epoch(tmp_path):
    result = fit(tmp_path, Regression(val_size=8), max_steps=5)
    assert result.global_step == 5 and result.epochs == 0
    assert "val_loss" in result.last_metrics  # the final weights were validated


@pytest.mark.parametrize(("interval", "lr_after"), [("step", 0.01 * 0.5**16), ("epoch", 0.0025)])
def test_scheduler_steps_per_step_or_per_epoch(tmp_path, interval, lr_after):
    module = Regression(scheduler=interval)
    optimizers = []
    module_configure = module.configure_optimizers
    module.configure_optimizers = lambda: optimizers.append(module_configure()) or optimizers[0]
    fit(tmp_path, module, max_epochs=2)
    optimizer = optimizers[0]["optimizer"]
    assert optimizer.param_groups[0]["lr"] == pytest.approx(lr_after)


# ------------------------------------------------------------------ fast_dev_run, NaN


def test_fast_dev_run_runs_one_batch_and_writes_nothing(tmp_path, capsys):
    module = CountingRegression(val_size=16)
    trainer = Trainer(
        fast_dev_run=True,
        accelerator="cpu",
        default_root_dir=str(tmp_path),
        logger="tensorboard",
        enable_checkpointing=True,
        max_epochs=10,
        enable_progress_bar=False,
    )
    result = trainer.fit(module)
    assert result.global_step == 1 and module.val_calls == 1
    assert list(tmp_path.iterdir()) == []  # no logs, no checkpoints
    assert result.log_dir is None and result.last_checkpoint is None
    assert "nothing is logged and no checkpoint is saved" in capsys.readouterr().err


class NaNAfter(Regression):
    def __init__(self, bad_step: int):
        super().__init__()
        self.bad_step, self.calls = bad_step, 0

    def training_step(self, batch, batch_idx):
        self.calls += 1
        out = super().training_step(batch, batch_idx)
        if self.calls > self.bad_step:
            out["loss"] = out["loss"] * float("nan")
        return out


def test_nan_loss_stops_with_epoch_and_step_and_keeps_the_last_good_checkpoint(tmp_path):
    module = NaNAfter(bad_step=11)
    with pytest.raises(TrainingError) as err:
        fit(tmp_path, module, max_epochs=3, enable_checkpointing=True)
    message = str(err.value)
    assert "loss is nan at epoch 1, batch 3 (after 11 optimizer steps)" in message
    last = tmp_path / "NaNAfter" / "version_0" / "checkpoints" / "last.ckpt"
    assert f"kept: {last}" in message
    saved = load_checkpoint(last)
    assert saved["loop"]["global_step"] == 8  # the epoch-0 checkpoint, untouched
    assert all(torch.isfinite(p).all() for p in module.parameters())  # nan never applied


# ------------------------------------------------------------------ train mode


class ModeRecording(Regression):
    """Records ``self.training`` at every training step (with the epoch's number)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.modes, self.epoch = [], None

    def training_step(self, batch, batch_idx):
        self.modes.append((self.epoch, self.training, self.net[1].training))
        return super().training_step(batch, batch_idx)

    def validation_step(self, batch, batch_idx):
        assert not self.training  # and the epoch after it trains in train mode again
        return super().training_step(batch, batch_idx)


class EvalAtEpochEnd(Callback):
    def on_train_epoch_start(self, trainer, module):
        module.epoch = trainer.current_epoch

    def on_train_epoch_end(self, trainer, module):
        module.eval()


def test_every_step_trains_in_train_mode_even_after_eval_elsewhere(tmp_path):
    """Train mode is set once at the fit's start (validation restores it), and again at an
    epoch's start only where it is off: a module put in eval mode before fit, or by a
    callback at an epoch's end, still trains in train mode, submodules included."""
    module = ModeRecording(val_size=16)
    module.eval()
    fit(tmp_path, module, max_epochs=3, callbacks=[EvalAtEpochEnd()])
    assert [epoch for epoch, _, _ in module.modes] == [0] * 8 + [1] * 8 + [2] * 8
    assert all(own and inner for _, own, inner in module.modes), module.modes
