"""The learning-rate finder against pytorch-lightning 2.6's ``Tuner.lr_find``: the same lrs, the
same smoothed losses point by point, the same suggestion. Skipped only where pytorch-lightning
is not installed (it is in the dev extra)."""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import lightdsl
from lightdsl.tuner import lr_find

pl = pytest.importorskip("pytorch_lightning")
from pytorch_lightning.tuner.tuning import Tuner

SPECS = os.path.join(os.path.dirname(__file__), "..", "..", "specs")


class LightningStatQuest(pl.LightningModule):
    """The tutorial's BasicLightningTrain, as written for Lightning."""

    def __init__(self):
        super().__init__()
        for name, value in (("w00", 1.7), ("b00", -0.85), ("w01", -40.8), ("w10", 12.6),
                            ("b10", 0.0), ("w11", 2.7)):
            setattr(self, name, nn.Parameter(torch.tensor(value), requires_grad=False))
        self.final_bias = nn.Parameter(torch.tensor(0.0))
        self.learning_rate = 0.01

    def forward(self, x):
        top = F.relu(x * self.w00 + self.b00) * self.w01
        bottom = F.relu(x * self.w10 + self.b10) * self.w11
        return F.relu(top + bottom + self.final_bias)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return ((self(x) - y) ** 2).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.learning_rate)


class LightningMLP(pl.LightningModule):
    def __init__(self, source: nn.Module, loader):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
        with torch.no_grad():
            for mine, theirs in zip(self.net.parameters(), source.parameters()):
                mine.copy_(theirs)
        self.loader, self.learning_rate = loader, 1e-3

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        return F.cross_entropy(self(batch[0]), batch[1])

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.learning_rate)

    def train_dataloader(self):
        return self.loader


def lightning_lr_find(module, loader=None, max_epochs=None, accumulate_grad_batches=1,
                      **kwargs):
    trainer = pl.Trainer(max_epochs=max_epochs, accelerator="cpu", logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=kwargs.pop("root"),
                         accumulate_grad_batches=accumulate_grad_batches)
    return Tuner(trainer).lr_find(module, train_dataloaders=loader, update_attr=False, **kwargs)


def assert_same_curve(ours, theirs):
    assert ours.lrs == theirs.results["lr"]  # the same Python floats
    np.testing.assert_allclose(ours.losses, theirs.results["loss"], rtol=1e-12, atol=0)


def test_statquest_matches_lightning(tmp_path):
    experiment = lightdsl.load(os.path.join(SPECS, "statquest.lit"))
    ours = lr_find(experiment.module, experiment.trainer_kwargs(), min_lr=0.001, max_lr=1.0,
                   early_stop_threshold=None)
    inputs, labels = torch.tensor([0.0, 0.5, 1.0]), torch.tensor([0.0, 1.0, 0.0])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, labels))
    theirs = lightning_lr_find(LightningStatQuest(), loader, max_epochs=34, min_lr=0.001,
                               max_lr=1.0, early_stop_threshold=None, root=str(tmp_path))
    assert len(ours.lrs) == len(theirs.results["lr"]) == 100
    assert_same_curve(ours, theirs)
    suggestion = ours.suggestion()
    assert suggestion == pytest.approx(theirs.suggestion(), rel=1e-6)
    assert suggestion == pytest.approx(0.00214, rel=1e-3)
    assert ours.optimal_index == theirs._optimal_idx


MLP_SPEC = """
model MLP {
    layers {
        flatten()
        linear(784, 64)
        relu()
        linear(64, 10)
    }
}
data synthetic {
    source     = npz("mnist_like.npz")
    batch_size = 32
    shuffle    = false
}
train {
    model      = MLP
    data       = synthetic
    loss       = cross_entropy
    optimizer  = adam(lr = 0.001)
    max_epochs = 20
    lr_find()
}
"""


def mnist_like_spec(tmp_path, samples: int = 256):
    generator = np.random.default_rng(0)
    x = generator.random((samples, 1, 28, 28), dtype=np.float32)
    y = generator.integers(0, 10, samples).astype(np.int64)
    np.savez(tmp_path / "mnist_like.npz", x=x, y=y)
    (tmp_path / "mlp.lit").write_text(textwrap.dedent(MLP_SPEC))
    return str(tmp_path / "mlp.lit"), torch.from_numpy(x), torch.from_numpy(y)


@pytest.mark.parametrize("options", [{}, {"max_lr": 1000.0}], ids=["defaults", "diverging"])
def test_mnist_shaped_mlp_matches_lightning(tmp_path, options):
    spec, x, y = mnist_like_spec(tmp_path)
    experiment = lightdsl.load(spec)
    torch.manual_seed(0)
    module = experiment.module
    reference = LightningMLP(module, torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=32))
    ours = lr_find(module, experiment.trainer_kwargs(), **options)
    theirs = lightning_lr_find(reference, max_epochs=20, root=str(tmp_path), **options)
    assert_same_curve(ours, theirs)
    # the default threshold of 4.0 ends a search that reaches lrs where Adam diverges
    assert ours.stopped_early == ("max_lr" in options)
    assert ours.suggestion() == pytest.approx(theirs.suggestion(), rel=1e-6)


def test_linear_mode_matches_lightning(tmp_path):
    experiment = lightdsl.load(os.path.join(SPECS, "statquest.lit"))
    ours = lr_find(experiment.module, experiment.trainer_kwargs(), min_lr=0.001, max_lr=0.5,
                   num_training=40, mode="linear", early_stop_threshold=None)
    inputs, labels = torch.tensor([0.0, 0.5, 1.0]), torch.tensor([0.0, 1.0, 0.0])
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, labels))
    theirs = lightning_lr_find(LightningStatQuest(), loader, max_epochs=34, min_lr=0.001,
                               max_lr=0.5, num_training=40, mode="linear",
                               early_stop_threshold=None, root=str(tmp_path))
    assert_same_curve(ours, theirs)
    assert ours.suggestion() == pytest.approx(theirs.suggestion(), rel=1e-6)


def statquest_loader():
    inputs, labels = torch.tensor([0.0, 0.5, 1.0]), torch.tensor([0.0, 1.0, 0.0])
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(inputs, labels))


@pytest.mark.parametrize("accumulate", [2, 3])
def test_accumulate_grad_batches_matches_lightning(tmp_path, accumulate):
    """num_training counts optimizer steps; a step closing an epoch's incomplete window (3
    batches, 2 a window) is run but not recorded, as Lightning's _LRCallback does."""
    experiment = lightdsl.load(os.path.join(SPECS, "statquest.lit"))
    kwargs = {**experiment.trainer_kwargs(), "accumulate_grad_batches": accumulate}
    ours = lr_find(experiment.module, kwargs, min_lr=0.001, max_lr=1.0, num_training=40,
                   early_stop_threshold=None)
    theirs = lightning_lr_find(LightningStatQuest(), statquest_loader(), max_epochs=100,
                               accumulate_grad_batches=accumulate, min_lr=0.001, max_lr=1.0,
                               num_training=40, early_stop_threshold=None, root=str(tmp_path))
    assert ours.steps == 40 and len(ours.lrs) == {2: 20, 3: 40}[accumulate]
    assert_same_curve(ours, theirs)
    assert ours.suggestion() == pytest.approx(theirs.suggestion(), rel=1e-6)


def test_where_lightning_stops_at_max_epochs_we_run_all_steps(tmp_path):
    """A deliberate difference (Lightning's #16561, closed "won't fix"): with max_epochs = 1
    Lightning's search ends after the epoch's 3 steps, with no suggestion; ours runs all
    num_training steps, and its first 3 points are Lightning's."""
    experiment = lightdsl.load(os.path.join(SPECS, "statquest.lit"))
    kwargs = {**experiment.trainer_kwargs(), "max_epochs": 1}
    ours = lr_find(experiment.module, kwargs, num_training=50, early_stop_threshold=None)
    theirs = lightning_lr_find(LightningStatQuest(), statquest_loader(), max_epochs=1,
                               num_training=50, early_stop_threshold=None, root=str(tmp_path))
    assert len(theirs.results["lr"]) == 3 and theirs.suggestion() is None
    assert len(ours.lrs) == ours.steps == 50 and ours.stop_reason == "finished"
    assert ours.lrs[:3] == theirs.results["lr"]
    np.testing.assert_allclose(ours.losses[:3], theirs.results["loss"], rtol=1e-12, atol=0)
    assert ours.suggestion() is not None
