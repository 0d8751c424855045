"""Functions usable inside ``forward { ... }``: ``relu(x)``, ``sum(x, dim = 1)``, ``cat([a, b])``."""

from __future__ import annotations

from .registry import Arg, entry
from .shapes import ShapeError, broadcast, fmt, numel
from .types import Bool, Int, ListOf, Tensor, TensorList, optional

X = Arg("input", Tensor())
DIM = Int(ge=-64, le=63)  # torch tensors have at most 64 dimensions


def elementwise(inputs, args):
    return inputs[0]


def _check_dim(shape, dim, name):
    if shape is not None and not -len(shape) <= dim < len(shape):
        raise ShapeError(f"{name}(dim={dim}) is out of range for input {fmt(shape)}", "dim")


def reduce_shape(name):
    def rule(inputs, args):
        (shape,), dim = inputs, args["dim"]
        if shape is None:
            return None
        if dim is None:
            return (1,) * len(shape) if args["keepdim"] else ()
        _check_dim(shape, dim, name)
        dim %= len(shape)
        kept = 1 if args["keepdim"] else None
        return tuple(kept if i == dim else d for i, d in enumerate(shape) if i != dim or kept)
    return rule


def reshape_shape(inputs, args):
    (shape,), target = inputs, list(args["shape"])
    if target.count(-1) > 1:
        raise ShapeError("reshape can infer at most one dimension (-1)", "shape")
    if shape is not None and target and target[0] == -1:  # -1 first keeps the batch size
        have, want = numel(shape[1:]), numel(target[1:])
        if None not in (have, want) and have != want:
            raise ShapeError(f"reshape cannot turn {fmt(shape)} into {fmt((None, *target[1:]))}:"
                             f" {have} values per sample, not {want}", "shape")
    return tuple(None if t == -1 else t for t in target)


def cat_shape(inputs, args):
    shapes, dim = inputs, args["dim"]
    if any(s is None for s in shapes) or not shapes:
        return None
    first = shapes[0]
    _check_dim(first, dim, "cat")
    dim %= len(first)
    for other in shapes[1:]:
        if len(other) != len(first) or any(
                a != b and None not in (a, b) for i, (a, b) in enumerate(zip(first, other))
                if i != dim):
            raise ShapeError(f"cat along dim {dim}: {fmt(first)} and {fmt(other)} differ in "
                             "another dimension")
    sizes = [s[dim] for s in shapes]
    return (*first[:dim], None if None in sizes else sum(sizes), *first[dim + 1:])


def matmul_shape(inputs, args):
    a, b = inputs
    if a is None or b is None:
        return None
    if len(a) == 0 or len(b) == 0:
        raise ShapeError("matmul needs tensors with at least one dimension")
    inner_a, inner_b = a[-1], b[-2] if len(b) > 1 else b[0]
    if None not in (inner_a, inner_b) and inner_a != inner_b:
        raise ShapeError(f"matmul of {fmt(a)} and {fmt(b)}: inner dimensions {inner_a} and "
                         f"{inner_b} differ")
    if len(b) == 1:
        return a[:-1]
    if len(a) == 1:
        return (*b[:-2], b[-1])
    return (*broadcast(a[:-2], b[:-2]), a[-2], b[-1])


def softmax_shape(inputs, args):
    _check_dim(inputs[0], args["dim"], "softmax")
    return inputs[0]


for _name, _doc in [("relu", "max(0, x)"), ("sigmoid", "1 / (1 + exp(-x))"),
                    ("tanh", "hyperbolic tangent"), ("exp", "e ** x"),
                    ("log", "natural logarithm"), ("abs", "absolute value")]:
    entry("function", _name, X, target=f"torch.{_name}", shape=elementwise, doc=_doc,
          keeps_dtype=_name in ("relu", "abs"))  # of integers, integers
for _name in ("sum", "mean"):
    entry("function", _name, X, Arg("dim", optional(DIM), None), Arg("keepdim", Bool(), False),
          target=f"torch.{_name}", shape=reduce_shape(_name), doc=f"{_name} over dim (or all)",
          keeps_dtype=_name == "sum")
entry("function", "reshape", X, Arg("shape", ListOf(Int(ge=-1, le=2**31 - 1), min_length=1)),
      target="torch.reshape", keeps_dtype=True,
      shape=reshape_shape, doc="a view with another shape (batch included; -1 is inferred)")
entry("function", "cat", Arg("tensors", TensorList()), Arg("dim", DIM, 0), target="torch.cat",
      shape=cat_shape, doc="concatenate tensors along dim", keeps_dtype=True)
entry("function", "matmul", X, Arg("other", Tensor()), target="torch.matmul", shape=matmul_shape,
      doc="matrix product (same as @)")
entry("function", "softmax", X, Arg("dim", DIM, -1), target="torch.softmax",
      shape=softmax_shape, doc="softmax along dim", python_always=("dim",))
