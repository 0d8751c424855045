"""Metrics from step outputs, weighted means over an epoch, and the evaluation loop.

Per-batch values are weighted by batch size before averaging, so an uneven last batch counts for
exactly as many samples as it holds: the epoch's ``val_loss`` is the mean over samples, not over
batches. Sums stay on the device; they are read once, at the end.
"""

from __future__ import annotations

import numbers
from itertools import islice
from typing import Any

import torch

from lightdsl.errors import ConfigError

from .data import batch_size_of
from .loggers import as_floats


def step_metrics(output: Any, hook: str) -> dict[str, torch.Tensor]:
    """Scalar metrics from what a step returned: a tensor is the loss; a dict maps names to
    scalars; None means the step reports nothing."""
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


class MeanMetrics:
    """Batch-size-weighted means of scalar metrics, accumulated on the metrics' device."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.weights: dict[str, int] = {}

    def add(self, metrics: dict[str, torch.Tensor], weight: int) -> None:
        """Add one batch's metrics, each counted ``weight`` times."""
        for name, value in metrics.items():
            total = self.sums.get(name)
            if total is None:
                # float64 sums keep the average exact enough; MPS has no float64: float32
                wide = torch.float32 if value.device.type == "mps" else torch.float64
                total = self.sums[name] = torch.zeros((), dtype=wide, device=value.device)
            total.add_(value.detach(), alpha=weight)  # one op: a step is short
            self.weights[name] = self.weights.get(name, 0) + weight

    def compute(self) -> dict[str, float]:
        """The weighted mean of every metric seen (empty if none)."""
        sums = as_floats(self.sums)  # float64 sums read once; the division is the same in Python
        return {name: total / self.weights[name] for name, total in sums.items()}

    def state_dict(self) -> dict:
        """The running sums, so that a mid-epoch resume finishes the same epoch means."""
        return {"sums": dict(self.sums), "weights": dict(self.weights)}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        """Restore :meth:`state_dict` onto ``device``."""
        self.sums = {k: v.to(device) for k, v in state["sums"].items()}
        self.weights = dict(state["weights"])


def evaluate(trainer, loader, hook: str, limit: int | None, prefix: str) -> dict[str, float]:
    """Run ``module.<hook>`` over ``loader`` (at most ``limit`` batches) in eval mode without
    gradients; return the weighted means named ``<prefix>_<metric>``."""
    module, means = trainer.module, MeanMetrics()
    step = getattr(module, hook)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad(), trainer.precision.autocast():
            for batch_idx, batch in enumerate(islice(loader, limit)):
                batch = trainer.to_device(batch, loader)
                means.add(step_metrics(step(batch, batch_idx), hook), batch_size_of(batch))
    finally:
        module.train(was_training)
    means = trainer.dist.reduce_means(means)  # under DDP: over every rank's shard
    return {f"{prefix}_{name}": value for name, value in means.compute().items()}
