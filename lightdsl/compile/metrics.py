"""The run's metrics as torchmetrics objects (``metrics = [accuracy, f1(average = "macro")]``).

Each stage (train, val, test) has its own objects, as Lightning recommends. A step updates them
with the batch and returns them; the trainer computes them over the epoch (synced over ranks by
torchmetrics under torch.distributed) and resets them. The classes and their arguments come from
the vocabulary (lightdsl/vocab/metrics.py), whose rules the checker has already run.
"""

from __future__ import annotations

import torch

from ..checker.train import Run
from ..runtime.metrics import metric_inputs
from ..vocab.metrics import torch_kwargs
from .resolve import resolve


def build_metric(bound):
    """The torchmetrics object of one bound metric entry."""
    return resolve(bound.entry.target)(**torch_kwargs(bound.name, bound.values))


class SpecMetrics:
    """The metric objects of a compiled spec, per stage, created on the output's device."""

    def __init__(self, run: Run) -> None:
        self.bounds = list(run.metrics)
        self.sigmoid = run.loss is not None and run.loss.name == "bce_with_logits"
        self.stages: dict[str, dict] = {}

    def __bool__(self) -> bool:
        return bool(self.bounds)

    def _objects(self, stage: str, device: torch.device) -> dict:
        objects = self.stages.get(stage)
        if objects is None:
            objects = self.stages[stage] = {b.name: build_metric(b) for b in self.bounds}
        for metric in objects.values():
            if metric.device != device:
                metric.to(device)
        return objects

    def update(self, stage: str, output: torch.Tensor, labels: torch.Tensor,
               batch_idx: int) -> dict:
        """Update ``stage``'s metrics with one batch and return them by name. Training calls
        each metric (forward), which also gives the batch's value for the per-step log. Batch
        0 starts a new epoch or evaluation: the objects start from zero then (a loop that ended
        without computing them, e.g. the lr finder's, leaves nothing behind)."""
        objects = self._objects(stage, output.device)
        inputs = {}
        for bound in self.bounds:
            metric, task = objects[bound.name], bound.values.get("task")
            if batch_idx == 0:
                metric.reset()
            if task not in inputs:
                inputs[task] = metric_inputs(output, labels, task, self.sigmoid)
            (metric if stage == "train" else metric.update)(*inputs[task])
        return dict(objects)
