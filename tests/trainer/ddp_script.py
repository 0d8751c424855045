"""A DDP run as a user starts it: ``python ddp_script.py --devices 2 ...`` (the trainer starts
rank 1 by running this script again). Used by test_trainer_ddp.py; ``MLP`` is imported there for
the one-process run it is compared with."""

from __future__ import annotations

import argparse
import os
import signal
import sys

import torch
import torch.nn.functional as F
import torchmetrics
from torch import nn

from lightdsl.errors import LightdslError
from lightdsl.trainer import InMemoryLoader, Trainer

N_TRAIN, N_VAL = 192, 45  # 192 = 6 steps of 32; 45 leaves the two validation shards uneven


class MLP(nn.Module):
    """The MNIST-shaped MLP (784-32-10) on fixed synthetic data; Adam; mean cross-entropy."""

    def __init__(self, batch_size: int, kill_rank: int = -1, kill_step: int = -1,
                 n_val: int = N_VAL):
        super().__init__()
        torch.manual_seed(0)
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
        g = torch.Generator().manual_seed(1)
        self.x = torch.rand(N_TRAIN + n_val, 1, 28, 28, generator=g)
        self.y = (self.x.flatten(1)[:, :10].argmax(1) + torch.randint(0, 2, (len(self.x),), generator=g)) % 10
        self.batch_size, self.kill_rank, self.kill_step = batch_size, kill_rank, kill_step
        # a torchmetrics metric over the validation set, as compiled specs have them (not a
        # child module: no state in the state_dict); under DDP torchmetrics syncs the ranks
        object.__setattr__(self, "val_f1", torchmetrics.F1Score(
            task="multiclass", num_classes=10, average="macro"))

    def forward(self, x):
        return self.layers(x)

    def training_step(self, batch, batch_idx):
        if os.environ.get("RANK") == str(self.kill_rank) and batch_idx == self.kill_step:
            os.kill(os.getpid(), signal.SIGKILL)
        x, y = batch
        logits = self(x)
        return {"loss": F.cross_entropy(logits, y), "acc": (logits.argmax(1) == y).float().mean()}

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        if batch_idx == 0:
            self.val_f1.reset()
        self.val_f1.update(logits, y)
        return {"loss": F.cross_entropy(logits, y), "f1": self.val_f1}

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)

    def train_dataloader(self):
        data = (self.x[:N_TRAIN], self.y[:N_TRAIN])
        return InMemoryLoader(data, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return InMemoryLoader((self.x[N_TRAIN:], self.y[N_TRAIN:]), batch_size=self.batch_size)


def trainer_kwargs(root: str, devices: int, **extra) -> dict:
    return dict(max_epochs=3, seed=7, accelerator="cpu", devices=devices, logger=None,
                gradient_clip_val=1.0, enable_model_summary=False, enable_progress_bar=False,
                default_root_dir=root, num_sanity_val_steps=0, **extra)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--out", required=True)
    parser.add_argument("--kill-rank", type=int, default=-1)
    parser.add_argument("--kill-step", type=int, default=-1)
    parser.add_argument("--n-val", type=int, default=N_VAL)
    args = parser.parse_args()
    module = MLP(args.batch_size, args.kill_rank, args.kill_step, args.n_val)
    trainer = Trainer(**trainer_kwargs(os.path.dirname(args.out), args.devices,
                                       enable_checkpointing=False))
    try:
        result = trainer.fit(module)
    except LightdslError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if os.environ.get("RANK", "0") == "0":
        torch.save({"state_dict": module.state_dict(), "metrics": result.last_metrics,
                    "steps": result.global_step}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
