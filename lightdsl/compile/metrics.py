"""Metric functions named by the vocabulary (``metrics = [accuracy]``): ``fn(output, labels)``
returns a scalar tensor averaged over the batch."""

from __future__ import annotations

import torch


def accuracy(output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of samples whose highest score is the label (one-hot labels allowed)."""
    if labels.dim() == output.dim() and labels.is_floating_point():
        labels = labels.argmax(dim=-1)
    return (output.argmax(dim=-1) == labels).float().mean()


def mae(output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean absolute error."""
    return (output - labels).abs().mean()


def mse(output: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean squared error."""
    return ((output - labels) ** 2).mean()
