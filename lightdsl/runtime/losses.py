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


class _DirectKernel:
    """What the classes below add to torch's loss: ``_kernel`` (the function ``F.*_loss``
    ends in; None where this torch has moved it) called straight where the shapes match."""

    _kernel = None

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if (
            self._kernel is not None
            and input.shape == target.shape
            and not torch.overrides.has_torch_function_variadic(input, target)
        ):
            reduction = torch.nn._reduction.get_enum(self.reduction)
            return self._kernel(input, target, reduction)
        return super().forward(input, target)


class MSELoss(_DirectKernel, nn.MSELoss):
    """``nn.MSELoss``, its kernel called directly where the shapes match."""

    _kernel = staticmethod(getattr(torch._C._nn, "mse_loss", None))


class L1Loss(_DirectKernel, nn.L1Loss):
    """``nn.L1Loss``, its kernel called directly where the shapes match."""

    _kernel = staticmethod(getattr(torch._C._nn, "l1_loss", None))
