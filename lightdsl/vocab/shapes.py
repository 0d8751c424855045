"""Static shapes for checking without torch.

A shape is a tuple of dimensions, batch first; a dimension is an ``int`` or ``None`` (unknown,
always so for the batch). A whole shape of ``None`` means "not known here"; rules then stay
quiet rather than guess.
"""

from __future__ import annotations

import math

from ..display import fmt  # the one shape-as-text (ground floor: the trainer uses it)

Dim = int | None
Shape = tuple[Dim, ...] | None


class ShapeError(Exception):
    """A shape rule's complaint; ``arg`` names the argument to point at, if any, else ``input``
    the index of the tensor input to point at (for layers called with several inputs)."""

    def __init__(self, message: str, arg: str | None = None, input: int | None = None):
        super().__init__(message)
        self.message = message
        self.arg = arg
        self.input = input


def batched(sample: Shape) -> Shape:
    """A per-sample shape with the batch dimension in front."""
    return None if sample is None else (None, *sample)


def numel(dims) -> int | None:
    """The product of the dimensions, or None if any is unknown."""
    return None if any(d is None for d in dims) else math.prod(dims)


def broadcast(a: Shape, b: Shape) -> Shape:
    """NumPy broadcasting of two shapes; raises ShapeError when they cannot broadcast."""
    if a is None or b is None:
        return None
    result = []
    for x, y in zip(reversed((1,) * (len(b) - len(a)) + a), reversed((1,) * (len(a) - len(b)) + b)):
        if x == 1 or x is None and y != 1:
            result.append(y if x == 1 else None)
        elif y == 1 or y is None or x == y:
            result.append(x)
        else:
            raise ShapeError(f"shapes {fmt(a)} and {fmt(b)} cannot be broadcast together")
    return tuple(reversed(result))


def require_rank(shape: Shape, ranks: tuple[int, ...], what: str) -> None:
    """Raise unless the shape has one of the given numbers of dimensions (batch included)."""
    if shape is not None and len(shape) not in ranks:
        wanted = " or ".join(str(r) for r in ranks)
        raise ShapeError(f"{what} expects input with {wanted} dimensions (batch included), "
                         f"but {fmt(shape)} arrives")


def pair(value) -> tuple[int, int]:
    """An int or a two-item list as an (h, w) pair."""
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def conv_length(size: Dim, kernel: int, stride: int, padding: int, dilation: int = 1,
                ceil_mode: bool = False) -> Dim:
    """Output length of a convolution or pooling along one dimension (torch's formula)."""
    if size is None:
        return None
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    steps = math.ceil(span / stride) if ceil_mode else span // stride
    if ceil_mode and steps * stride >= size + padding:
        steps -= 1  # torch: the last window must start inside the input or its left padding
    return steps + 1


class Labels:
    """What is known of a data set's labels: ``kind`` is "class" (integer classes), "float"
    (targets) or None (unknown); ``shape`` is batched; ``num_classes`` when known."""

    def __init__(self, kind: str | None = None, shape: Shape = None,
                 num_classes: int | None = None):
        self.kind, self.shape, self.num_classes = kind, shape, num_classes

    def __repr__(self) -> str:
        return f"Labels({self.kind!r}, {fmt(self.shape)}, num_classes={self.num_classes})"
