"""Metrics from step outputs, their values over an epoch, and the evaluation loop.

A step returns scalars (the loss, ...) and may return torchmetrics ``Metric`` objects it has
updated with the batch, as Lightning's ``self.log(name, metric)`` takes them. Scalars are
weighted by batch size before averaging, so an uneven last batch counts for exactly as many
samples as it holds: the epoch's ``val_loss`` is the mean over samples, not over batches. Sums
stay on the device; they are read once, at the end. A ``Metric`` is computed once over the whole
epoch (an F1 score over the epoch is not the mean of the batches' F1 scores); torchmetrics syncs
it over the ranks when a process group is initialized. A metric whose value is not a scalar (a
confusion matrix) is kept apart, in ``matrices``: it is logged as a picture, not a number.
"""

from __future__ import annotations

import numbers
import warnings
from itertools import islice
from typing import Any

import torch

from lightdsl.errors import ConfigError

from .data import batch_size_of
from .loggers import as_floats


def is_metric(value: Any) -> bool:
    """Whether ``value`` is a torchmetrics ``Metric`` (or anything updated, computed and reset
    the same way), not a value."""
    return not isinstance(value, torch.Tensor) and all(
        callable(getattr(value, m, None)) for m in ("update", "compute", "reset"))


class LazyValue:
    """A step's value computed only if it is read: a metric's value on one batch, which only
    logging steps (and callbacks reading a step's outputs) need. :func:`materialized` reads
    it; it is computed once."""

    __slots__ = ("_compute", "_value")

    def __init__(self, compute) -> None:
        self._compute, self._value = compute, None

    def get(self) -> torch.Tensor:
        if self._compute is not None:
            self._value, self._compute = self._compute(), None
        return self._value


def materialized(outputs: dict[str, Any]) -> dict[str, Any]:
    """``outputs`` (a step's values) with each LazyValue computed; one that is not a scalar
    (a confusion matrix) is left out, as a ``Metric``'s matrix is."""
    if not any(isinstance(v, LazyValue) for v in outputs.values()):
        return outputs
    values = {}
    for name, value in outputs.items():
        if isinstance(value, LazyValue):
            value = value.get()
            if value.numel() != 1:
                continue
            value = value.detach().reshape(())
        values[name] = value
    return values


def step_values(metrics: dict[str, Any]) -> dict[str, Any]:
    """The batch's scalar values, for the per-step log: a metric's ``step_value`` (a LazyValue,
    see :func:`materialized`), else what a ``Metric`` called on the batch (forward) holds, as
    Lightning reads it for ``on_step`` logging."""
    values = {}
    for name, value in metrics.items():
        if is_metric(value):
            lazy = getattr(value, "step_value", None)
            if isinstance(lazy, LazyValue):
                values[name] = lazy
                continue
            value = getattr(value, "_forward_cache", None)
            if not isinstance(value, torch.Tensor) or value.numel() != 1:
                continue  # updated without forward, or not a scalar (a confusion matrix)
        values[name] = value.detach().reshape(())
    return values


def step_metrics(output: Any, hook: str) -> dict[str, Any]:
    """Metrics from what a step returned: a tensor is the loss; a dict maps names to scalars
    or ``Metric`` objects; None means the step reports nothing."""
    if output is None:
        return {}
    if isinstance(output, torch.Tensor):
        output = {"loss": output}
    if not isinstance(output, dict):
        raise ConfigError(f"{hook}() must return a tensor or a dict of them, got {output!r}")
    metrics = {}
    for name, value in output.items():
        if isinstance(value, torch.Tensor) and value.dim() == 0:  # the usual case, checked first
            metrics[name] = value
            continue
        if is_metric(value):
            metrics[name] = value  # accumulated over the epoch by MeanMetrics
            continue
        if isinstance(value, numbers.Real):
            value = torch.tensor(float(value))
        if not isinstance(value, torch.Tensor) or value.numel() != 1:
            raise ConfigError(f"{hook}() returned {name!r} that is not a scalar: {value!r}")
        metrics[name] = value.reshape(())
    return metrics


def split_training_output(output: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The loss to backpropagate and the other metrics from ``training_step``'s result."""
    metrics = step_metrics(output, "training_step")
    loss = metrics.pop("loss", None)
    if loss is None or not loss.requires_grad:
        problem = "has no 'loss'" if loss is None else "is a loss without a gradient"
        raise ConfigError(
            f"training_step() must return the loss tensor (or a dict with 'loss'); its result "
            f"{problem}",
            hint="is every parameter frozen, or was the loss computed under torch.no_grad()?",
        )
    return loss, metrics


# a float64 product of a value of these dtypes (at most 24 significant bits) and a weight under
# 2**29 is exact, so MeanMetrics' Python sum rounds as add_ does
_NARROW = (torch.float32, torch.float16, torch.bfloat16)
_EXACT_WEIGHT = 1 << 29


class MeanMetrics:
    """Batch-size-weighted means of scalar metrics, accumulated on the metrics' device (a CPU
    loss the loop has read: as a Python float, the same float64 sum), and the ``Metric``
    objects the steps updated, computed over everything they saw."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor | float] = {}  # float: a CPU sum kept in Python
        self.weights: dict[str, int] = {}
        self.objects: dict[str, Any] = {}
        self.matrices: dict[str, torch.Tensor] = {}  # non-scalar values of the last compute()
        self._resumed: dict[str, dict] = {}

    def add(self, metrics: dict[str, Any], weight: int, loss_value: float | None = None) -> None:
        """Add one batch's metrics, each scalar counted ``weight`` times. ``loss_value``: the
        ``"loss"`` entry already read as a Python float (a CPU loss, which the loop's
        finiteness check reads), summed in Python rather than with a tensor op."""
        for name, value in metrics.items():
            if not isinstance(value, torch.Tensor) and is_metric(value):  # tensors: no call
                if name not in self.objects:
                    self.objects[name] = value
                    _merge_resumed(value, self._resumed.pop(name, None))
                continue
            total = self.sums.get(name)
            if loss_value is not None and name == "loss" and type(total) is not torch.Tensor \
                    and value.dtype in _NARROW and weight < _EXACT_WEIGHT:
                # the float64 sum add_ makes, to the bit: weight * value is exact in float64
                # (a float32 or narrower value, a weight under 2**29), so both round once
                self.sums[name] = (0.0 if total is None else total) + loss_value * weight
                self.weights[name] = self.weights.get(name, 0) + weight
                continue
            if total is None:
                # float64 sums keep the average exact enough; MPS has no float64: float32
                wide = torch.float32 if value.device.type == "mps" else torch.float64
                total = self.sums[name] = torch.zeros((), dtype=wide, device=value.device)
            total.add_(value.detach(), alpha=weight)  # one op: a step is short
            self.weights[name] = self.weights.get(name, 0) + weight

    def compute(self) -> dict[str, float]:
        """The weighted mean of every scalar seen and the value of every ``Metric`` (empty if
        none); matrices go to :attr:`matrices`. Computing resets the ``Metric`` objects."""
        sums = as_floats(self.sums)  # float64 sums read once; the division is the same in Python
        means = {name: total / self.weights[name] for name, total in sums.items()}
        values = {}
        for name, metric in self.objects.items():
            value = metric.compute()  # all ranks take part in its sync, in the same order
            metric.reset()
            if value.numel() == 1:
                values[name] = value.reshape(())
            else:
                self.matrices[name] = value.detach().cpu()
        return {**means, **as_floats(values)} if values else means

    def state_dict(self) -> dict:
        """The running sums and metric states, so that a mid-epoch resume finishes the same
        epoch values."""
        states = {name: {k: _cpu(v) for k, v in m.metric_state.items()}
                  for name, m in self.objects.items()}
        sums = {name: torch.tensor(total, dtype=torch.float64) if type(total) is float else total
                for name, total in self.sums.items()}  # a float sum is a CPU float64 sum
        return {"sums": sums, "weights": dict(self.weights), "metric_states": states}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        """Restore :meth:`state_dict` onto ``device`` (metric states are merged into the
        ``Metric`` objects when the first step returns them)."""
        self.sums = {k: v.to(device) for k, v in state["sums"].items()}
        self.weights = dict(state["weights"])
        self._resumed = dict(state.get("metric_states", {}))


def _cpu(value):
    return [v.cpu() for v in value] if isinstance(value, list) else value.cpu()


def _merge_resumed(metric, state: dict | None) -> None:
    """Merge a resumed epoch's saved state into a metric that has seen the first batch after
    the resume."""
    if not state:
        return
    device = getattr(metric, "device", None)
    moved = {k: ([t.to(device) for t in v] if isinstance(v, list) else v.to(device))
             for k, v in state.items()}
    try:
        metric.merge_state(moved)
    except (AttributeError, RuntimeError, ValueError) as error:  # merge_state: torchmetrics 1.4+
        warnings.warn(f"the resumed epoch's metric {type(metric).__name__} covers only the "
                      f"batches after the resume ({error})", stacklevel=2)


def evaluate(run, loader, hook: str, limit: int | None, prefix: str) -> EvalMetrics:
    """Run ``module.<hook>`` over ``loader`` (at most ``limit`` batches) in eval mode without
    gradients; return the weighted means named ``<prefix>_<metric>``. ``run`` is the
    :class:`~lightdsl.trainer.run.FitRun` (its module, precision, device and process group)."""
    module, means = run.module, MeanMetrics()
    step = getattr(module, hook)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), run.precision.autocast():
            for batch_idx, batch in enumerate(islice(loader, limit)):
                batch = run.to_device(batch, loader)
                means.add(step_metrics(step(batch, batch_idx), hook), batch_size_of(batch))
    finally:
        module.train(was_training)
    means = run.dist.reduce_means(means)  # under DDP: over every rank's shard
    result = EvalMetrics({f"{prefix}_{name}": value for name, value in means.compute().items()})
    result.matrices = {f"{prefix}_{name}": value for name, value in means.matrices.items()}
    return result


class EvalMetrics(dict):
    """``{name: float}`` of an evaluation, with its non-scalar values (confusion matrices) in
    ``matrices``, named the same way."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.matrices: dict[str, torch.Tensor] = {}
