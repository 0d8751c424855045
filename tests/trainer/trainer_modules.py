"""Small hand-written LightningModule-style modules for the trainer tests.

Each network is a mixin holding the hooks, so that the same code also runs as a
``pytorch_lightning.LightningModule`` in the parity tests (``class L(Mixin, pl.LightningModule)``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lightdsl.trainer import InMemoryLoader

STATQUEST_WEIGHTS = {"w00": 1.70, "b00": -0.85, "w01": -40.8, "w10": 12.6, "b10": 0.0, "w11": 2.70}
DOSES = torch.tensor([0.0, 0.5, 1.0])
EFFECTS = torch.tensor([0.0, 1.0, 0.0])


class StatQuestMixin:
    """StatQuest's hand-weighted ReLU net: only ``final_bias`` trains; SGD; sum of squares."""

    lr = 0.00214
    use_dataloader = True

    def init_statquest(self, lr: float, use_dataloader: bool = True) -> None:
        for name, value in STATQUEST_WEIGHTS.items():
            setattr(self, name, nn.Parameter(torch.tensor(value), requires_grad=False))
        self.final_bias = nn.Parameter(torch.tensor(0.0))
        self.lr, self.use_dataloader = lr, use_dataloader

    def forward(self, dose):
        top = F.relu(dose * self.w00 + self.b00) * self.w01
        bottom = F.relu(dose * self.w10 + self.b10) * self.w11
        return F.relu(top + bottom + self.final_bias)

    def training_step(self, batch, batch_idx):
        dose, effect = batch
        return ((self(dose) - effect) ** 2).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def train_dataloader(self):
        if self.use_dataloader:
            return DataLoader(TensorDataset(DOSES, EFFECTS), batch_size=1, shuffle=False)
        return InMemoryLoader((DOSES, EFFECTS), batch_size=1)


class StatQuest(StatQuestMixin, nn.Module):
    def __init__(self, lr: float = 0.00214, use_dataloader: bool = True):
        super().__init__()
        self.init_statquest(lr, use_dataloader)
        self.hparams = {"lr": lr}
        self.spec_source = "model BasicLightningTrain { param final_bias = 0.0 }"


def mnist_like_data(n: int = 500, seed: int = 0):
    """Fixed synthetic 28x28 "images" and labels that depend on them (so the loss falls)."""
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 28, 28, generator=g)
    labels = (images.flatten(1)[:, :10].argmax(1) + torch.randint(0, 2, (n,), generator=g)) % 10
    return images, labels


class MLPMixin:
    """The MNIST feed-forward net: flatten, 784-500-10, relu, cross-entropy, Adam."""

    def init_mlp(self, batch_size: int = 50, lr: float = 1e-3) -> None:
        self.layers = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10)
        )
        self.batch_size, self.lr = batch_size, lr
        self.data = mnist_like_data()

    def forward(self, x):
        return self.layers(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)

    def train_dataloader(self):
        return DataLoader(TensorDataset(*self.data), batch_size=self.batch_size, shuffle=False)


class MLP(MLPMixin, nn.Module):
    def __init__(self, batch_size: int = 50, lr: float = 1e-3):
        super().__init__()
        self.init_mlp(batch_size, lr)


class Regression(nn.Module):
    """y = 3x - 1 + noise fitted by a linear layer with mean-squared error and SGD.

    ``val`` adds validation data (``val_size`` samples, so the last batch can be uneven);
    ``dropout`` and ``shuffle`` make the run depend on random numbers (for resume tests);
    ``loader`` picks "memory" (InMemoryLoader) or "dataloader" (torch DataLoader).
    """

    def __init__(
        self,
        n=64,
        batch_size=8,
        lr=0.01,
        val_size=0,
        dropout=0.0,
        shuffle=False,
        loader="memory",
        optimizer="sgd",
        scheduler=None,
        features=4,
    ):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(features, 16), nn.Dropout(dropout), nn.Linear(16, 1))
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(n, features, generator=g)
        self.y = self.x @ torch.arange(1.0, features + 1) - 1 + 0.1 * torch.randn(n, generator=g)
        self.vx = torch.randn(val_size, features, generator=g)
        self.vy = self.vx @ torch.arange(1.0, features + 1) - 1
        self.batch_size, self.lr, self.shuffle, self.loader = batch_size, lr, shuffle, loader
        self.optimizer, self.scheduler = optimizer, scheduler
        self.hparams = {"lr": lr, "batch_size": batch_size, "name": "regression"}

    def forward(self, x):
        return self.net(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        prediction = self(x)
        return {"loss": F.mse_loss(prediction, y), "mae": (prediction - y).abs().mean()}

    def validation_step(self, batch, batch_idx):
        return self.training_step(batch, batch_idx)

    def test_step(self, batch, batch_idx):
        return self.validation_step(batch, batch_idx)

    def configure_optimizers(self):
        if self.optimizer == "adam":
            opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        else:
            opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)
        if self.scheduler is None:
            return opt
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": self.scheduler}}

    def _loader(self, x, y, shuffle):
        if self.loader == "memory":
            return InMemoryLoader((x, y), batch_size=self.batch_size, shuffle=shuffle)
        return DataLoader(TensorDataset(x, y), batch_size=self.batch_size, shuffle=shuffle)

    def train_dataloader(self):
        return self._loader(self.x, self.y, self.shuffle)

    def val_dataloader(self):
        return self._loader(self.vx, self.vy, False) if len(self.vx) else None

    def test_dataloader(self):
        return self.val_dataloader()


def fast_trainer_kwargs(tmp_path, **overrides):
    """Trainer settings for quick, quiet test runs writing under ``tmp_path``."""
    settings = {
        "accelerator": "cpu",
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "logger": None,
        "enable_checkpointing": False,
        "default_root_dir": str(tmp_path),
        "num_sanity_val_steps": 0,
    }
    settings.update(overrides)
    return settings


class FakeTerminal:
    """A stream that says it is a terminal and keeps what was written."""

    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass

    def isatty(self):
        return True
