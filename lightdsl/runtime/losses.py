"""Loss classes for vocabulary entries whose torch class does more per call than a step needs.

``F.mse_loss`` and ``F.l1_loss`` check for tensor subclasses, compare the sizes, broadcast the
output and the target to one shape (``torch.broadcast_tensors``, a Python function) and then
call their kernel: for a tiny model (StatQuest's) about 5 us, a fiftieth of a training step.
The checker already holds a spec's output and labels to one shape, so these classes call the
kernel directly when the shapes match, with the same arguments ``F.*_loss`` passes it: the same kernel, the same
bits, forward and backward. Anything else (shapes that differ, a tensor subclass with its own
``__torch_function__``) takes torch's own path.
"""

import torch
from torch import nn


def _direct(kernel, input, target):
    """Whether ``kernel`` can be called without torch's broadcast and dispatch checks (None:
    this torch has moved it, and torch's own path is taken)."""
    return (
        kernel is not None
        and input.shape == target.shape
        and not torch.overrides.has_torch_function_variadic(input, target)
    )


class MSELoss(nn.MSELoss):
    """``nn.MSELoss``, its kernel called directly where the shapes match."""

    _kernel = staticmethod(getattr(torch._C._nn, "mse_loss", None))

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if _direct(self._kernel, input, target):
            reduction = torch.nn._reduction.get_enum(self.reduction)
            return self._kernel(input, target, reduction)
        return super().forward(input, target)


class L1Loss(nn.L1Loss):
    """``nn.L1Loss``, its kernel called directly where the shapes match."""

    _kernel = staticmethod(getattr(torch._C._nn, "l1_loss", None))

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if _direct(self._kernel, input, target):
            reduction = torch.nn._reduction.get_enum(self.reduction)
            return self._kernel(input, target, reduction)
        return super().forward(input, target)
