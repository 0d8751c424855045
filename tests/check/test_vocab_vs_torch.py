"""Every layer argument the vocabulary accepts is one torch accepts (issue 11, item 9).

Arguments are drawn from each layer's declared argument types (so every size argument of every
layer is covered, including its bounds); whatever passes the types and the entry's cross-argument
rules must construct the torch layer, and, on an input the static shape rule accepts, run it and
give the shape the rule predicts.
"""

from __future__ import annotations

import importlib

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lightdsl.vocab import REGISTRY
from lightdsl.vocab.layers import MAX_SIZE
from lightdsl.vocab.shapes import ShapeError
from lightdsl.vocab.types import Bool, Choice, Float, Int, ListOf, NoneValue, OneOf

SMALL = 5  # drawn sizes stay small: the layers are really built and run


def values_of(type_, small=True) -> st.SearchStrategy:
    """Values of a vocabulary type; with ``small``, ints near their lower bound."""
    if isinstance(type_, Int):
        low = max(type_.ge, -3) if type_.ge is not None else -3
        high = type_.le if type_.le is not None else 3
        return st.integers(low, min(high, low + SMALL) if small else high)
    if isinstance(type_, Float):
        low = type_.ge if type_.ge is not None else type_.gt if type_.gt is not None else -2.0
        high = type_.le if type_.le is not None else type_.lt if type_.lt is not None else 2.0
        return st.floats(low, high, exclude_min=type_.gt is not None,
                         exclude_max=type_.lt is not None)
    if isinstance(type_, Bool):
        return st.booleans()
    if isinstance(type_, Choice):
        return st.sampled_from(type_.options)
    if isinstance(type_, NoneValue):
        return st.none()
    if isinstance(type_, OneOf):
        return st.one_of([values_of(t, small) for t in type_.types])
    if isinstance(type_, ListOf):
        low = type_.length if type_.length is not None else type_.min_length
        high = type_.length if type_.length is not None else 3
        return st.lists(values_of(type_.item, small), min_size=low, max_size=high)
    raise AssertionError(f"no strategy for {type_!r}")


def _torch_layer(entry, values):
    module, _, name = entry.target.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _input_shape(values, draw) -> tuple:
    """A batched input shape; sizes the arguments name are made to fit."""
    rank = draw(st.integers(2, 4))
    shape = [2] + [draw(st.integers(1, 9)) for _ in range(rank - 1)]
    for key in ("in_channels", "num_features", "num_channels"):
        if key in values:
            shape[1] = values[key]
    if "in_features" in values:
        shape[-1] = values["in_features"]
    for key in ("input_size", "embed_dim", "d_model", "embedding_dim"):  # (N, L, features)
        if key in values and "num_embeddings" not in values:
            shape = [2, min(shape[1], values.get("max_length", shape[1])), values[key]]
    normalized = values.get("normalized_shape")
    if normalized is not None:
        tail = [normalized] if isinstance(normalized, int) else normalized
        shape = [2, *tail] if len(tail) >= len(shape) else [*shape[:-len(tail)], *tail]
    return tuple(shape)


LAYERS = REGISTRY.names("layer")


@pytest.mark.parametrize("name", LAYERS)
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_accepted_layer_arguments_build_and_run_in_torch(name, data):
    entry = REGISTRY.get("layer", name)
    values = {a.name: data.draw(values_of(a.type), label=a.name) for a in entry.args}
    assume(not (entry.validate and entry.validate(values)))
    layer = _torch_layer(entry, values)  # must not raise: the checker accepted these arguments
    count = entry.params(values) if entry.params else 0  # the check's memory estimate
    assert count == sum(p.numel() for p in layer.parameters())
    shape = _input_shape(values, data.draw)
    try:
        static = entry.shape([(None, *shape[1:])], values)
    except ShapeError:
        assume(False)
    if name == "embedding":
        x = torch.randint(0, values["num_embeddings"], shape)
    else:
        x = torch.randn(shape)
    layer.train(False)
    output = layer(x)
    if static is not None:
        assert static == (None, *output.shape[1:])


@pytest.mark.parametrize("name", LAYERS)
def test_size_arguments_are_bounded(name):
    """No integer argument of a layer is unbounded: `linear(2, 10**200)` is a check error."""
    def ints(type_):
        if isinstance(type_, Int):
            yield type_
        for inner in getattr(type_, "types", ()):
            yield from ints(inner)
        if isinstance(type_, ListOf):
            yield from ints(type_.item)

    for arg in REGISTRY.get("layer", name).args:
        for int_type in ints(arg.type):
            assert int_type.le is not None and int_type.le <= MAX_SIZE, (name, arg.name)
            assert int_type.ge is not None and int_type.ge >= -MAX_SIZE, (name, arg.name)
