"""When validation runs, against pytorch-lightning 2.6 on identical settings (issue 11)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from trainer_modules import fast_trainer_kwargs

from lightdsl.trainer import Callback, Trainer

pl = pytest.importorskip("pytorch_lightning")


class TinyMixin:
    """A 1-to-1 linear fit with ``batches`` training batches of 2 and one validation batch."""

    def init_tiny(self, batches: int) -> None:
        torch.manual_seed(0)
        self.net = nn.Linear(1, 1)
        self.x = torch.linspace(0, 1, 2 * batches).unsqueeze(1)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.mse_loss(self(x), y)

    def validation_step(self, batch, batch_idx):
        return self.training_step(batch, batch_idx)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return DataLoader(TensorDataset(self.x, 2 * self.x), batch_size=2)

    def val_dataloader(self):
        return DataLoader(TensorDataset(self.x[:2], 2 * self.x[:2]), batch_size=2)


class Tiny(TinyMixin, nn.Module):
    def __init__(self, batches):
        super().__init__()
        self.init_tiny(batches)


class LightningTiny(TinyMixin, pl.LightningModule):
    def __init__(self, batches):
        super().__init__()
        self.init_tiny(batches)


class Validations(Callback):
    """Where each validation ran: (epoch, global_step)."""

    def __init__(self):
        self.at = []

    def on_validation_end(self, trainer, module):
        self.at.append((trainer.current_epoch, trainer.global_step))


class LightningValidations(Validations, pl.Callback):
    pass


def schedules(tmp_path, batches, **settings):
    ours, theirs = Validations(), LightningValidations()
    kwargs = fast_trainer_kwargs(tmp_path, **settings)
    Trainer(callbacks=[ours], **kwargs).fit(Tiny(batches))
    kwargs.update(logger=False, devices=1, callbacks=[theirs], enable_checkpointing=False)
    pl.Trainer(**kwargs).fit(LightningTiny(batches))
    return ours.at, theirs.at


# (batches, val_check_interval, check_val_every_n_epoch, limit_train_batches,
#  accumulate_grad_batches, max_epochs)
CASES = [
    (10, 0.3, 1, 1.0, 1, 3),  # the case: 9 validations, none extra at epoch ends
    (10, 0.5, 1, 1.0, 1, 2),
    (10, 1.0, 2, 1.0, 1, 4),
    (10, 0.25, 1, 0.8, 1, 2),  # 8 batches a check every 2
    (10, 0.3, 1, 7, 1, 2),  # 7 batches: int(2.1) = 2, so after batches 2, 4, 6
    (10, 3, 1, 1.0, 1, 2),
    (10, 4, None, 1.0, 1, 3),  # every 4 batches counted across epochs
    (7, 0.5, 3, 1.0, 1, 6),
    (10, 0.3, 1, 1.0, 3, 2),  # accumulation: the last batch's check follows its step
    (10, 0.2, 2, 0.5, 2, 4),
    (3, 0.1, 1, 1.0, 1, 2),  # int(0.3) rounds up to 1: every batch
]


@pytest.mark.parametrize(("batches", "interval", "every", "limit", "accumulate", "epochs"), CASES)
def test_validation_schedule_matches_lightning(tmp_path, batches, interval, every, limit,
                                               accumulate, epochs):
    ours, theirs = schedules(
        tmp_path, batches, val_check_interval=interval, check_val_every_n_epoch=every,
        limit_train_batches=limit, accumulate_grad_batches=accumulate, max_epochs=epochs)
    assert ours == theirs
    assert ours  # every case validates


def test_a_fraction_that_does_not_divide_the_epoch_adds_no_epoch_end_check(tmp_path):
    ours, _ = schedules(tmp_path, 10, val_check_interval=0.3, max_epochs=3)
    assert ours == [(e, 10 * e + s) for e in range(3) for s in (3, 6, 9)]


class StopAt(Callback):
    """Asks the trainer to stop after optimizer step ``step``."""

    def __init__(self, step):
        self.step = step

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if trainer.global_step == self.step:
            trainer.should_stop = True


class LightningStopAt(StopAt, pl.Callback):
    pass


@pytest.mark.parametrize(("step", "interval"), [(5, 1.0), (6, 0.3), (10, 0.3), (4, 0.5)])
def test_a_stop_request_mid_epoch_validates_once_as_lightning_does(tmp_path, step, interval):
    ours, theirs = Validations(), LightningValidations()
    kwargs = fast_trainer_kwargs(tmp_path, max_epochs=3, val_check_interval=interval)
    Trainer(callbacks=[ours, StopAt(step)], **kwargs).fit(Tiny(10))
    kwargs.update(logger=False, devices=1, callbacks=[theirs, LightningStopAt(step)])
    pl.Trainer(**kwargs).fit(LightningTiny(10))
    assert ours.at == theirs.at
    assert ours.at[-1] == (step // 10 if step % 10 else step // 10 - 1, step)


def test_epochless_validation_needs_a_batch_count(tmp_path):
    from lightdsl.errors import ConfigError

    with pytest.raises(ConfigError, match="val_check_interval must be an int number of batches"):
        Trainer(check_val_every_n_epoch=None, val_check_interval=0.5)


# ------------------------------------------------------------------ onecycle's default length

ONECYCLE_SPEC = """
model Line {{ layers {{ linear(1, 1) }} }}
data points {{
    inputs = [{inputs}]
    labels = [{inputs}]
    batch_size = 1
}}
train {{
    model = Line
    data = points
    loss = mse
    optimizer = sgd(lr = 0.01)
    scheduler = onecycle(max_lr = 0.1, div_factor = 10.0, final_div_factor = 100.0)
    {settings}
    enable_progress_bar = false
    enable_model_summary = false
    logger = none
    enable_checkpointing = false
}}
"""


class StepLrs(Callback):
    """The lr each optimizer step used."""

    def __init__(self):
        self.lrs = []

    def on_fit_start(self, trainer, module):
        optimizer = trainer.opt.optimizer
        step = optimizer.step

        def recording_step(*args, **kwargs):
            self.lrs.append(optimizer.param_groups[0]["lr"])
            return step(*args, **kwargs)

        optimizer.step = recording_step


# (settings, expected optimizer steps): 10 batches an epoch
ONECYCLE_CASES = [
    ("max_epochs = 2", 20),
    ("max_epochs = 2\n accumulate_grad_batches = 3", 8),  # ceil(10 / 3) = 4 an epoch
    ("max_epochs = 3\n limit_train_batches = 0.5", 15),
    ("max_epochs = 2\n limit_train_batches = 7\n accumulate_grad_batches = 2", 8),
    ("max_epochs = 5\n max_steps = 12\n accumulate_grad_batches = 2", 12),
]


@pytest.mark.parametrize(("settings", "steps"), ONECYCLE_CASES)
def test_onecycle_default_total_steps_ends_the_cycle_at_the_last_step(tmp_path, settings, steps):
    import lightdsl

    inputs = ", ".join(f"[{i / 10}]" for i in range(10))
    spec = tmp_path / "cycle.lit"
    spec.write_text(ONECYCLE_SPEC.format(inputs=inputs, settings=settings))
    experiment = lightdsl.load(str(spec))
    recorder = StepLrs()
    result = experiment.fit(default_root_dir=str(tmp_path), callbacks=[recorder])
    assert result.global_step == len(recorder.lrs) == steps
    assert recorder.lrs[0] == pytest.approx(0.1 / 10)  # max_lr / div_factor
    assert max(recorder.lrs) == pytest.approx(0.1, rel=0.05)
    assert recorder.lrs[-1] == pytest.approx(0.1 / 10 / 100)  # ... / final_div_factor


class Estimate(Callback):
    def on_fit_start(self, trainer, module):
        self.value = trainer.estimated_stepping_batches


class LightningEstimate(Estimate, pl.Callback):
    pass


@pytest.mark.parametrize(("limit", "accumulate", "epochs", "max_steps"),
                         [(1.0, 3, 2, -1), (0.5, 2, 3, -1), (7, 4, 2, 3), (1.0, 1, -1, 9)])
def test_estimated_stepping_batches_is_lightnings(tmp_path, limit, accumulate, epochs,
                                                  max_steps):
    ours, theirs = Estimate(), LightningEstimate()
    kwargs = fast_trainer_kwargs(tmp_path, limit_train_batches=limit, max_steps=max_steps,
                                 accumulate_grad_batches=accumulate, max_epochs=epochs,
                                 limit_val_batches=0)
    Trainer(callbacks=[ours], **kwargs).fit(Tiny(10))
    kwargs.update(logger=False, devices=1, callbacks=[theirs])
    pl.Trainer(**kwargs).fit(LightningTiny(10))
    assert ours.value == theirs.value
