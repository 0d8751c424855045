"""Parity with pytorch-lightning 2.6: the same module trained by both trainers gives the same
numbers. Skipped only where pytorch-lightning is not installed (it is in the dev extra)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from trainer_modules import MLP, MLPMixin, StatQuest, StatQuestMixin, fast_trainer_kwargs

from lightdsl.trainer import Callback, Trainer

pl = pytest.importorskip("pytorch_lightning")


def lightning_fit(module, tmp_path, **kwargs):
    trainer = pl.Trainer(
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
        default_root_dir=str(tmp_path),
        **kwargs,
    )
    trainer.fit(module)
    return trainer


class LightningStatQuest(StatQuestMixin, pl.LightningModule):
    def __init__(self, lr):
        super().__init__()
        self.init_statquest(lr)


class LightningMLP(MLPMixin, pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.init_mlp()


class LossRecorder(Callback):
    """Records each training step's loss (works as a lightdsl and as a Lightning callback)."""

    def __init__(self):
        self.losses = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self.losses.append(float(loss))


class LightningLossRecorder(LossRecorder, pl.Callback):
    pass


def test_statquest_final_bias_matches_lightning(tmp_path):
    ours = StatQuest(lr=0.00214)
    Trainer(max_epochs=34, **fast_trainer_kwargs(tmp_path)).fit(ours)
    theirs = LightningStatQuest(lr=0.00214)
    lightning_fit(theirs, tmp_path, max_epochs=34)
    assert ours.final_bias.item() == pytest.approx(theirs.final_bias.item(), abs=1e-5)
    assert ours.final_bias.item() == pytest.approx(-2.17, abs=0.01)


def test_mlp_losses_match_lightning_step_by_step(tmp_path):
    torch.manual_seed(0)
    ours = MLP()
    theirs = LightningMLP()
    theirs.load_state_dict(copy.deepcopy(ours.state_dict()))
    mine, lightning = LossRecorder(), LightningLossRecorder()
    Trainer(max_steps=50, callbacks=[mine], **fast_trainer_kwargs(tmp_path)).fit(ours)
    lightning_fit(theirs, tmp_path, max_steps=50, callbacks=[lightning])
    assert len(mine.losses) == len(lightning.losses) == 50
    assert mine.losses == pytest.approx(lightning.losses, abs=1e-5)
    assert mine.losses[-1] < mine.losses[0]  # it really trained
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_parity_modules_are_plain_modules_for_lightdsl():
    # The lightdsl side must not depend on Lightning: the modules are plain nn.Modules.
    assert not isinstance(StatQuest(), pl.LightningModule)
    assert isinstance(MLP(), nn.Module)


@pytest.mark.parametrize("accumulate", [1, 3])
def test_callbacks_get_lightnings_outputs_under_accumulation(tmp_path, accumulate):
    # outputs["loss"] is the loss that was backpropagated: divided by accumulate_grad_batches
    torch.manual_seed(0)
    ours, theirs = MLP(), LightningMLP()
    theirs.load_state_dict(copy.deepcopy(ours.state_dict()))
    with torch.no_grad():
        first_loss = torch.nn.functional.cross_entropy(ours(ours.data[0][:50]), ours.data[1][:50])
    mine, lightning = LossRecorder(), LightningLossRecorder()
    settings = {"max_epochs": 1, "limit_train_batches": 7,
                "accumulate_grad_batches": accumulate}
    Trainer(callbacks=[mine], **settings, **fast_trainer_kwargs(tmp_path)).fit(ours)
    lightning_fit(theirs, tmp_path, callbacks=[lightning], **settings)
    assert len(mine.losses) == 7
    assert mine.losses == pytest.approx(lightning.losses, abs=1e-6)
    assert mine.losses[0] == pytest.approx(first_loss.item() / accumulate, abs=1e-6)


def test_lr_find_under_accumulation_matches_lightning(tmp_path):
    from pytorch_lightning.tuner.tuning import Tuner

    from lightdsl.tuner import lr_find

    options = {"min_lr": 0.001, "max_lr": 1.0, "num_training": 30,
               "early_stop_threshold": None}
    ours = lr_find(StatQuest(lr=0.01), {"max_epochs": 100, "accumulate_grad_batches": 2,
                                        "accelerator": "cpu"}, **options)
    trainer = pl.Trainer(max_epochs=100, accumulate_grad_batches=2, accelerator="cpu",
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=str(tmp_path))
    theirs = Tuner(trainer).lr_find(LightningStatQuest(lr=0.01), update_attr=False, **options)
    assert ours.lrs == theirs.results["lr"]
    assert ours.losses == pytest.approx(theirs.results["loss"], rel=1e-9)
