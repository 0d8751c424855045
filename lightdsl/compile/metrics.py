"""The run's metrics (``metrics = [accuracy, f1(average = "macro")]``) as metric objects.

Each stage (train, val, test) has its own objects, as Lightning recommends. A step updates them
with the batch and returns them; the trainer computes them over the epoch (synced over ranks
under torch.distributed) and resets them. accuracy, mse and mae are computed here
(:mod:`.counted`, equal to torchmetrics to the bit); the others are torchmetrics objects, and
torchmetrics is imported only for them. The classes and their arguments come from the vocabulary
(lightdsl/vocab/metrics.py), whose rules the checker has already run.

A training step does not compute each metric's value on its batch (torchmetrics' ``forward``
costs about three updates): it hands the trainer a LazyValue, computed only where a logging
step or a callback reads it.
"""

from __future__ import annotations

from functools import partial

import torch

from ..checker.python import PythonBound
from ..checker.train import Run, builtin_loss
from ..errors import ConfigError
from ..runtime.metrics import metric_inputs
from ..trainer.evaluation import LazyValue
from ..vocab.metrics import infer_task, loss_outputs, torch_kwargs
from ..vocab.registry import resolve
from ..vocab.shapes import Labels, ShapeError
from .counted import COUNTED
from .python import call_located, metric_fn


def build_metric(bound, output: torch.Tensor, loss: str | None):
    """The metric object of one bound metric entry (see :data:`counted.COUNTED` for those
    computed here, else a torchmetrics one) and its task. A classification metric whose task
    check could not infer (the data's shapes are known only once loaded) gets it from the real
    output, by the checker's own rule."""
    values = dict(bound.values)
    if "task" in bound.entry.arg_names and values.get("task") is None:
        shape = (None, *output.shape[1:])
        try:
            values.update(infer_task(bound.name, shape, Labels(), values, loss))
        except ShapeError as error:
            raise ConfigError(f"metric {error.message}") from None
    kwargs = torch_kwargs(bound.name, values)
    if bound.name in COUNTED:
        return COUNTED[bound.name](**kwargs), values.get("task")
    cls = resolve(bound.entry.target)  # imports torchmetrics: only for the metrics that need it
    return TorchMetric(lambda **extra: cls(**kwargs, **extra)), values.get("task")


class TorchMetric:
    """A torchmetrics object as a step returns it: updated with every batch (its inputs
    validated at the first only), and its value on one batch, which only a logging step needs,
    computed on demand by a second object of the class that never syncs over ranks: the value
    ``forward`` would give, without forward's cost (about 3x an update) at every step."""

    def __init__(self, make) -> None:
        self.metric, self._make, self._single = make(), make, None
        self.step_value = None  # set by the step that updates it (a LazyValue)
        self.scalar = True  # False once a batch value was a matrix (not logged per step)

    device = property(lambda self: self.metric.device)
    metric_state = property(lambda self: self.metric.metric_state)

    def to(self, device) -> TorchMetric:
        self.metric.to(device)
        return self

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        self.metric.update(preds, target)
        _validated(self.metric)

    def compute(self) -> torch.Tensor:
        return self.metric.compute()  # synced over ranks by torchmetrics

    def reset(self) -> None:
        self.metric.reset()

    def merge_state(self, incoming: dict) -> None:
        self.metric.merge_state(incoming)

    def batch_value(self, preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The value on this batch alone, as ``forward`` computes it (reset, update, compute,
        without syncing)."""
        if self._single is None:
            self._single = self._make(sync_on_compute=False)
        single = self._single.to(self.metric.device)
        single.reset()
        single.update(preds, target)
        _validated(single)
        value = single.compute()
        self.scalar = value.numel() == 1
        return value


def _validated(metric) -> None:
    """Stop torchmetrics validating the inputs of every batch: the first batch's were."""
    if getattr(metric, "validate_args", False):
        metric.validate_args = False


class SpecMetrics:
    """The metric objects of a compiled spec, per stage, created on the output's device."""

    def __init__(self, run: Run) -> None:
        self.bounds = [m for m in run.metrics if not isinstance(m, PythonBound)]
        # python("module:fn") metrics: fn(output, labels) -> a batch value, averaged by the
        # trainer over the epoch (a plain function has no state to compute over the epoch)
        self.functions = {m.name: metric_fn(m) for m in run.metrics if isinstance(m, PythonBound)}
        self.python = {m.name: m for m in run.metrics if isinstance(m, PythonBound)}
        self.loss = builtin_loss(run)
        self.sigmoid = loss_outputs(self.loss) == "logits"  # metrics want probabilities
        self.stages: dict[str, dict] = {}
        self.tasks: dict[str, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self.bounds or self.functions)

    def _objects(self, stage: str, output: torch.Tensor) -> dict:
        objects, device = self.stages.get(stage), output.device
        if objects is None:
            objects = self.stages[stage] = {}
            for bound in self.bounds:
                objects[bound.name], self.tasks[bound.name] = build_metric(bound, output,
                                                                           self.loss)
        for metric in objects.values():
            if metric.device != device:
                metric.to(device)
        return objects

    def update(self, stage: str, output: torch.Tensor, labels: torch.Tensor,
               batch_idx: int) -> dict:
        """Update ``stage``'s metrics with one batch and return them by name. In training each
        also gets the batch's own value for the per-step log, as a LazyValue: computed only
        if a logging step (or a callback) reads it. Batch 0 starts a new epoch or evaluation:
        the objects start from zero then (a loop that ended without computing them, e.g. the
        lr finder's, leaves nothing behind)."""
        objects = self._objects(stage, output)
        inputs = {}
        for bound in self.bounds:
            metric, task = objects[bound.name], self.tasks[bound.name]
            if batch_idx == 0:
                metric.reset()
            if task not in inputs:
                inputs[task] = metric_inputs(output, labels, task, self.sigmoid)
            metric.update(*inputs[task])
            if stage == "train" and getattr(metric, "scalar", True):
                metric.step_value = LazyValue(partial(metric.batch_value, *inputs[task]))
        detached = output.detach()
        return {**objects, **{name: call_located(self.python[name], "metric", stage, fn, detached,
                                                 labels) for name, fn in self.functions.items()}}


def check_r2_samples(run: Run, data, sets=("val",), batches: bool = True) -> None:
    """r2 needs two samples wherever it is computed (torchmetrics raises otherwise): in every
    training batch (``batches``: logged per step) and over the whole of each of the ``sets``
    evaluated. A ConfigError saying which, before training or evaluating starts."""
    if not any(m.name == "r2" and not isinstance(m, PythonBound) for m in run.metrics):
        return
    size, drop = data.settings.get("batch_size"), data.settings.get("drop_last", False)
    train = len(data.train)
    if batches and isinstance(size, int) and (size == 1 or (train % size == 1 and not drop)):
        raise ConfigError(f"metric r2 needs at least 2 samples in every batch, and with "
                          f"batch_size = {size} and {train} training samples a batch has 1",
                          hint="set drop_last = true in the data block, or another batch_size")
    for stage in sets:
        dataset = getattr(data, stage)
        if dataset is not None and len(dataset) < 2:
            raise ConfigError(f"metric r2 needs at least 2 samples, and the {stage} data has "
                              f"{len(dataset)}", hint=f"give the {stage} data more samples (a "
                              "larger split fraction), or leave r2 out")
