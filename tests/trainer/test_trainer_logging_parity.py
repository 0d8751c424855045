"""What lightdsl logs is what pytorch-lightning 2.6 logs for the same run: the same TensorBoard
tags at the same steps, the same ``metrics.csv`` (header, rows, epoch and step columns) and the
same ``callback_metrics``, so that the two trainers' dashboards line up. The Lightning module
logs as the generated Lightning script does: ``self.log(name, value, on_step=True,
on_epoch=True)`` in training, ``self.log(name, value)`` in validation."""

from __future__ import annotations

import copy
import csv

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from trainer_modules import fast_trainer_kwargs

from lightdsl.trainer import Callback, Trainer

pl = pytest.importorskip("pytorch_lightning")
pytest.importorskip("tensorboard")


class PointsMixin:
    """A linear fit of 24 points in batches of 4 (6 steps an epoch), 8 validation points."""

    def init_points(self) -> None:
        torch.manual_seed(0)
        self.net = nn.Linear(3, 1)
        g = torch.Generator().manual_seed(1)
        self.x = torch.randn(24, 3, generator=g)
        self.y = self.x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
        self.vx, self.vy = self.x[:8] + 0.1, self.y[:8]

    def values(self, batch) -> dict:
        x, y = batch
        prediction = self.net(x).squeeze(-1)
        return {"loss": F.mse_loss(prediction, y), "mae": (prediction - y).abs().mean()}

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)

    def train_dataloader(self):
        return DataLoader(TensorDataset(self.x, self.y), batch_size=4)

    def val_dataloader(self):
        return DataLoader(TensorDataset(self.vx, self.vy), batch_size=4)


class Points(PointsMixin, nn.Module):
    def __init__(self):
        super().__init__()
        self.init_points()

    def training_step(self, batch, batch_idx):
        return self.values(batch)

    def validation_step(self, batch, batch_idx):
        return self.values(batch)


class LightningPoints(PointsMixin, pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.init_points()

    def training_step(self, batch, batch_idx):
        values = self.values(batch)
        for name, value in values.items():
            self.log(f"train_{name}", value, on_step=True, on_epoch=True)
        return values["loss"]

    def validation_step(self, batch, batch_idx):
        for name, value in self.values(batch).items():
            self.log(f"val_{name}", value)


class NoVal(Points):
    val_dataloader = None


class LightningNoVal(LightningPoints):
    val_dataloader = None


class EpochEnds(Callback):
    """The monitorable train values each epoch end sees (a lightdsl and a Lightning callback)."""

    def __init__(self):
        self.seen = []

    def on_train_epoch_end(self, trainer, module):
        self.seen.append({k: float(v) for k, v in trainer.callback_metrics.items()})


class LightningEpochEnds(EpochEnds, pl.Callback):
    pass


# two epochs, a validation in the middle of each and at its end, a log every 4 steps
SETTINGS = {"max_epochs": 2, "log_every_n_steps": 4, "val_check_interval": 0.5,
            "num_sanity_val_steps": 0}


def lightning_run(tmp_path, module, logger: str, **settings):
    loggers = {"csv": pl.loggers.CSVLogger, "tensorboard": pl.loggers.TensorBoardLogger}
    chosen = loggers[logger](str(tmp_path / "pl"), name="run")
    trainer = pl.Trainer(logger=chosen, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu", devices=1,
                         **{**SETTINGS, **settings})
    trainer.fit(module)
    return trainer, chosen.log_dir


def lightdsl_run(tmp_path, module, logger: str, **settings):
    kwargs = fast_trainer_kwargs(tmp_path / "ours", logger=logger, run_name="run",
                                 **{**SETTINGS, **settings})
    trainer = Trainer(**kwargs)
    result = trainer.fit(module)
    return trainer, result.log_dir


def twins():
    ours, theirs = Points(), LightningPoints()
    theirs.load_state_dict(copy.deepcopy(ours.state_dict()))
    return ours, theirs


def read_csv(log_dir):
    with open(f"{log_dir}/metrics.csv", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def scalars(log_dir) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"] if tag != "hp_metric"}


def test_metrics_csv_is_lightnings_header_rows_epochs_and_steps(tmp_path):
    ours, theirs = twins()
    _, our_dir = lightdsl_run(tmp_path, ours, "csv")
    _, their_dir = lightning_run(tmp_path, theirs, "csv")
    (our_header, our_rows), (their_header, their_rows) = read_csv(our_dir), read_csv(their_dir)
    assert our_header == their_header == [
        "epoch", "step", "train_loss_epoch", "train_loss_step", "train_mae_epoch",
        "train_mae_step", "val_loss", "val_mae"]

    def filled(rows):  # each row's epoch, step and the names it has values for
        return [(r["epoch"], r["step"], sorted(k for k, v in r.items() if v
                                               and k not in ("epoch", "step"))) for r in rows]

    assert filled(our_rows) == filled(their_rows)
    # 12 steps: train_*_step at steps 3, 7, 11; val at 2, 5, 8, 11; train_*_epoch at 5, 11
    assert [r[1] for r in filled(our_rows) if "train_loss_step" in r[2]] == ["3", "7", "11"]
    assert [r[1] for r in filled(our_rows) if "val_loss" in r[2]] == ["2", "5", "8", "11"]
    for mine, lightning in zip(our_rows, their_rows):
        for name in our_header[2:]:
            if mine[name]:
                assert float(mine[name]) == pytest.approx(float(lightning[name]), rel=1e-5)


def test_tensorboard_tags_and_steps_are_lightnings(tmp_path):
    ours, theirs = twins()
    _, our_dir = lightdsl_run(tmp_path, ours, "tensorboard")
    _, their_dir = lightning_run(tmp_path, theirs, "tensorboard")
    mine, lightning = scalars(our_dir), scalars(their_dir)
    assert sorted(mine) == sorted(lightning) == [
        "epoch", "train_loss_epoch", "train_loss_step", "train_mae_epoch", "train_mae_step",
        "val_loss", "val_mae"]
    for tag in lightning:
        assert [s for s, _ in mine[tag]] == [s for s, _ in lightning[tag]], tag
        assert [v for _, v in mine[tag]] == pytest.approx([v for _, v in lightning[tag]],
                                                          rel=1e-5), tag


def test_callback_metrics_are_lightnings_names_and_values(tmp_path):
    ours, theirs = twins()
    mine, lightning = EpochEnds(), LightningEpochEnds()
    our_trainer, _ = lightdsl_run(tmp_path, ours, "csv", callbacks=[mine])
    their_trainer, _ = lightning_run(tmp_path, theirs, "csv", callbacks=[lightning])
    assert sorted(our_trainer.callback_metrics) == sorted(their_trainer.callback_metrics)
    assert len(mine.seen) == len(lightning.seen) == 2
    for ours_seen, theirs_seen in zip(mine.seen, lightning.seen):
        assert sorted(ours_seen) == sorted(theirs_seen)
        for name, value in theirs_seen.items():
            assert ours_seen[name] == pytest.approx(value, rel=1e-5), name
        # at an epoch's end, train_loss is the epoch's mean (train_loss_step: the last step's)
        assert ours_seen["train_loss"] == ours_seen["train_loss_epoch"]


def test_train_loss_is_monitorable_whatever_log_every_n_steps(tmp_path):
    """log_every_n_steps = 50 logs no step of a 12-step run, yet train_loss and train_loss_step
    exist for callbacks at each epoch's end, as in Lightning (lightdsl once stopped with "no
    metric of that name was logged")."""
    ours, theirs = NoVal(), LightningNoVal()
    theirs.load_state_dict(copy.deepcopy(ours.state_dict()))
    mine, lightning = EpochEnds(), LightningEpochEnds()
    settings = {"log_every_n_steps": 50, "val_check_interval": 1.0}
    lightdsl_run(tmp_path, ours, "csv", callbacks=[mine], **settings)
    lightning_run(tmp_path, theirs, "csv", callbacks=[lightning], **settings)
    assert [sorted(seen) for seen in mine.seen] == [sorted(seen) for seen in lightning.seen]
    for name in ("train_loss", "train_loss_step", "train_loss_epoch"):
        assert [s[name] for s in mine.seen] == pytest.approx([s[name] for s in lightning.seen],
                                                             rel=1e-5)
