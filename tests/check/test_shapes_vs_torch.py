"""The checker's static shape rules agree with what torch actually computes."""

from __future__ import annotations

import importlib

import pytest
import torch

from lightdsl.vocab import REGISTRY
from lightdsl.vocab.shapes import ShapeError

BATCH = 3
LAYER_CASES = [
    ("linear", {"in_features": 784, "out_features": 500}, (BATCH, 784)),
    ("linear", {"in_features": 4, "out_features": 2}, (BATCH, 5, 4)),
    ("conv1d", {"in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": 2}, (BATCH, 2, 11)),
    ("conv2d", {"in_channels": 1, "out_channels": 8, "kernel_size": 3, "padding": 1},
     (BATCH, 1, 28, 28)),
    ("conv2d", {"in_channels": 3, "out_channels": 4, "kernel_size": [5, 3], "stride": [2, 1],
                "dilation": 2}, (BATCH, 3, 32, 30)),
    ("conv2d", {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": "same"},
     (BATCH, 3, 9, 9)),
    ("maxpool2d", {"kernel_size": 2}, (BATCH, 16, 28, 28)),
    ("maxpool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
     (BATCH, 4, 15, 15)),
    ("avgpool2d", {"kernel_size": 3, "stride": 2}, (BATCH, 4, 15, 14)),
    ("batchnorm1d", {"num_features": 6}, (BATCH, 6)),
    ("batchnorm2d", {"num_features": 6}, (BATCH, 6, 5, 5)),
    ("layernorm", {"normalized_shape": [5, 4]}, (BATCH, 5, 4)),
    ("dropout", {"p": 0.3}, (BATCH, 7)),
    ("flatten", {}, (BATCH, 1, 28, 28)),
    ("flatten", {"start_dim": 2}, (BATCH, 2, 3, 4)),
    ("relu", {}, (BATCH, 4)), ("gelu", {}, (BATCH, 4)), ("tanh", {}, (BATCH, 4)),
    ("sigmoid", {}, (BATCH, 4)), ("softmax", {"dim": 1}, (BATCH, 4)),
    ("log_softmax", {}, (BATCH, 4)), ("leaky_relu", {}, (BATCH, 4)),
]


def _torch_callable(target: str):
    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _bind(entry, given):
    values = entry.defaults()
    values.update(given)
    return values


def _static(shape):
    return (None, *shape[1:])


@pytest.mark.parametrize("name,args,shape", LAYER_CASES, ids=lambda v: str(v)[:30])
def test_layer_shape_rule_matches_torch(name, args, shape):
    entry = REGISTRY.get("layer", name)
    values = _bind(entry, args)
    layer = _torch_callable(entry.target)(**{k: (tuple(v) if isinstance(v, list) else v)
                                             for k, v in values.items()})
    actual = tuple(layer(torch.randn(shape)).shape)
    assert entry.shape([_static(shape)], values) == _static(actual)


def test_embedding_shape_rule_matches_torch():
    entry = REGISTRY.get("layer", "embedding")
    values = _bind(entry, {"num_embeddings": 10, "embedding_dim": 4})
    actual = torch.nn.Embedding(10, 4)(torch.randint(0, 10, (BATCH, 6))).shape
    assert entry.shape([(None, 6)], values) == _static(tuple(actual))


FUNCTION_CASES = [
    ("relu", [(BATCH, 4)], {}), ("exp", [(BATCH,)], {}),
    ("sum", [(BATCH, 4, 5)], {"dim": 1}), ("sum", [(BATCH, 4)], {"dim": -1, "keepdim": True}),
    ("mean", [(BATCH, 4, 5)], {"dim": 2}),
    ("reshape", [(BATCH, 12)], {"shape": [-1, 3, 4]}),
    ("cat", [(BATCH, 4), (BATCH, 6)], {"dim": 1}),
    ("matmul", [(BATCH, 4), (4, 7)], {}), ("matmul", [(BATCH, 2, 4), (BATCH, 4, 7)], {}),
    ("softmax", [(BATCH, 4)], {"dim": 1}),
]


@pytest.mark.parametrize("name,shapes,args", FUNCTION_CASES, ids=lambda v: str(v)[:30])
def test_function_shape_rule_matches_torch(name, shapes, args):
    entry = REGISTRY.get("function", name)
    values = {a.name: a.default for a in entry.args if not a.required}
    values.update(args)
    tensors = [torch.randn(s) for s in shapes]
    fn = _torch_callable(entry.target)
    if name == "cat":
        actual = fn(tensors, **values).shape
    else:
        actual = fn(*tensors, **{k: (tuple(v) if isinstance(v, list) else v)
                                 for k, v in values.items()}).shape
    static = [(None, *s[1:]) if s[0] == BATCH else s for s in shapes]
    assert entry.shape(static, values) == _static(tuple(actual))


@pytest.mark.parametrize("name,args,shape", [
    ("linear", {"in_features": 700, "out_features": 10}, (BATCH, 784)),
    ("conv2d", {"in_channels": 3, "out_channels": 4, "kernel_size": 3}, (BATCH, 1, 28, 28)),
    ("maxpool2d", {"kernel_size": 9}, (BATCH, 1, 4, 4)),
    ("batchnorm2d", {"num_features": 6}, (BATCH, 6)),
])
def test_rule_rejects_what_torch_rejects(name, args, shape):
    entry = REGISTRY.get("layer", name)
    values = _bind(entry, args)
    with pytest.raises(ShapeError):
        entry.shape([_static(shape)], values)
    layer = _torch_callable(entry.target)(**values)
    with pytest.raises((RuntimeError, ValueError)):
        layer(torch.randn(shape))
