"""The LightningModule-style object a spec compiles to.

:class:`SpecModule` *is* the spec's model (parameters keep the spec's names) plus the hooks the
trainer calls: ``training_step``, ``validation_step``, ``test_step``, ``predict_step``,
``configure_optimizers`` and the dataloaders. It never imports Lightning.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..checker.python import PythonBound
from ..checker.train import Run
from ..errors import ConfigError
from ..run_settings import max_epochs as run_max_epochs
from ..runtime.sequences import class_scores_first
from ..trainer.data import limit_batches, widened
from ..trainer.setup import stepping_batches
from .data import DataBundle, make_loader
from .finetune import param_groups, warm_start
from .metrics import SpecMetrics
from .model import SpecModel
from .python import build_loss, call_located, dry_run, located_errors, python_layers
from .resolve import instantiate, resolve


class SpecModule(SpecModel):
    """A compiled spec: the model, its loss and metrics, its optimizer and its data."""

    def __init__(self, run: Run, data: DataBundle, spec_source: str = ""):
        super().__init__(run.model)
        object.__setattr__(self, "criterion", build_loss(run.loss) if isinstance(
            run.loss, PythonBound) else instantiate(run.loss))  # stateless: not a child
        self.loss_name = run.loss.name
        self._float_labels = run.loss.entry.labels == "float"  # cast integer labels
        self._class_scores = run.loss.entry.labels == "index"  # scores of each class first
        object.__setattr__(self, "spec_metrics", SpecMetrics(run))  # not children: no state
        self.optimizer_bound, self.scheduler_bound = run.optimizer, run.scheduler
        self.data = data
        self.spec_source = spec_source
        self.run_settings = dict(run.settings.values)
        self.hparams = {**self.hparams, "model": run.model.name, "loss": run.loss.name,
                        "optimizer": run.optimizer.name, **_prefixed(run.optimizer),
                        "batch_size": data.settings.get("batch_size")}
        self._loaders: dict[str, Any] = {}
        self.example_input_array = widened(data.train.inputs[:2]).clone()
        # fine-tuning: the parts unfrozen later (own optimizer groups), a warm start
        self.unfreezes = [(b.values["part"], b.values.get("lr"), b.values["at_epoch"])
                          for b in run.unfreeze]
        if run.init is not None:
            warm_start(self, run.init)
        object.__setattr__(self, "_python_layers", python_layers(self, run.model))
        self._python_loss = run.loss if isinstance(run.loss, PythonBound) else None
        dry_run(self, self._python_layers, self.example_input_array)

    # ---- steps ----
    def _shared_step(self, batch, stage: str, batch_idx: int) -> dict[str, Any]:
        inputs, labels = batch[0], batch[1]
        if self._python_layers:  # their errors are located; nothing to watch otherwise
            with located_errors(self._python_layers, stage):
                output = self(inputs)
        else:
            output = self(inputs)
        if self._float_labels and not labels.is_floating_point():  # 0/1 class labels
            labels = labels.to(output.dtype).reshape(output.shape)  # (N,) for an (N, 1) output
        scores = class_scores_first(output, labels) if self._class_scores else output
        if self._python_loss is None:
            results = {"loss": self.criterion(scores, labels)}
        else:
            results = {"loss": call_located(self._python_loss, "loss", stage, self.criterion,
                                            scores, labels)}
        if self.spec_metrics:
            results.update(self.spec_metrics.update(stage, output, labels, batch_idx))
        return results

    def training_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        if self.data.augment is not None:
            batch = (self.data.augment(batch[0]), *batch[1:])
        return self._shared_step(batch, "train", batch_idx)

    def validation_step(self, batch, batch_idx: int) -> dict[str, Any]:
        return self._shared_step(batch, "val", batch_idx)

    def test_step(self, batch, batch_idx: int) -> dict[str, Any]:
        return self._shared_step(batch, "test", batch_idx)

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self(batch[0])

    @property
    def class_names(self) -> list[str] | None:
        """The classes' names where the data has them (string labels, a vision dataset): label
        i is ``class_names[i]``; pictures of a confusion matrix use them."""
        return self.data.classes

    # ---- optimization ----
    @property
    def learning_rate(self) -> float | None:
        """The optimizer's lr from the spec (or as set by the learning-rate finder)."""
        return self.optimizer_bound.values.get("lr")

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        from ..checker.binding import Bound

        bound = self.optimizer_bound
        self.optimizer_bound = Bound(bound.entry, {**bound.values, "lr": float(value)},
                                     bound.nodes, bound.span)

    def configure_optimizers(self):
        groups = param_groups(self, self.learning_rate,
                              [(part, lr) for part, lr, _ in self.unfreezes])
        optimizer = instantiate(self.optimizer_bound, params=groups)
        if self.scheduler_bound is None:
            return optimizer
        steps_arg = self.scheduler_bound.entry.run_steps_default(self.scheduler_bound.values)
        extra = {steps_arg: self._stepping_batches()} if steps_arg else {}
        values = {k: v for k, v in self.scheduler_bound.values.items() if k not in extra}
        scheduler = resolve(self.scheduler_bound.entry.target)(optimizer, **values, **extra)
        interval = self.scheduler_bound.entry.interval
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler,
                                                         "interval": interval}}

    def _stepping_batches(self) -> int:
        """The run's number of optimizer steps (a scheduler's run_steps_arg default, as
        onecycle's ``total_steps``): the
        training trainer's own estimate, else the same estimate from the spec's settings."""
        trainer = self.__dict__.get("trainer")  # set by the Trainer during this call
        if trainer is not None:
            steps = trainer.estimated_stepping_batches
        else:
            settings = self.run_settings
            max_steps = settings.get("max_steps", -1)
            max_epochs = run_max_epochs(settings.get("max_epochs"), max_steps)
            batches = limit_batches("limit_train_batches",
                                    settings.get("limit_train_batches", 1.0),
                                    len(self.train_dataloader()))
            steps = stepping_batches(batches, settings.get("accumulate_grad_batches", 1),
                                     max_epochs, max_steps)
        if not math.isfinite(steps):
            bound = self.scheduler_bound
            arg = bound.entry.run_steps_arg
            raise ConfigError(f"{bound.name} needs {arg}: nothing bounds this run's number of "
                              "optimizer steps", hint=f"set max_steps, or {arg}")
        return max(1, int(steps))

    # ---- data ----
    def _loader(self, key: str):
        dataset = getattr(self.data, key)
        if dataset is None:
            return None
        if key not in self._loaders:
            self._loaders[key] = make_loader(dataset, self.data.settings, train=key == "train")
        return self._loaders[key]

    def train_dataloader(self):
        return self._loader("train")

    def val_dataloader(self):
        return self._loader("val")

    def test_dataloader(self):
        return self._loader("test")


def _prefixed(bound) -> dict[str, Any]:
    return {f"{bound.name}.{k}": (str(v) if isinstance(v, list) else v)
            for k, v in bound.values.items()}
