"""Checks of ``model`` blocks: hyperparameters, params, named layers, structure, trainability."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter, did_you_mean
from ..vocab.registry import REGISTRY
from ..vocab.reserved import reserved_reason
from .binding import Bound, bind_call, lookup
from .constants import INVALID, contains_invalid, evaluate

# Layers that own trainable tensors (unless switched off by the named flag).
PARAMETERIZED = {"linear": None, "conv1d": None, "conv2d": None, "embedding": None,
                 "batchnorm1d": "affine", "batchnorm2d": "affine",
                 "layernorm": "elementwise_affine", "gru": None, "lstm": None,
                 "multihead_attention": None, "transformer_encoder_layer": None,
                 "positional_embedding": None, "conv_transpose1d": None,
                 "conv_transpose2d": None, "groupnorm": "affine"}


@dataclass
class ParamInfo:
    node: n.ParamDef
    value: Any
    shape: tuple[int, ...] | None  # per-tensor shape (no batch dimension)


@dataclass
class ModelInfo:
    """A checked model with one set of hyperparameter values."""

    node: n.ModelDef
    hypers: dict[str, Any]
    params: dict[str, ParamInfo] = field(default_factory=dict)
    layers: dict[str, Bound | None] = field(default_factory=dict)  # named layers
    sequence: list[Bound | None] = field(default_factory=list)  # the layers { } body
    calls: dict[int, Bound] = field(default_factory=dict)  # forward's function calls, by offset

    @property
    def name(self) -> str:
        return self.node.name.id

    def parameter_count(self) -> int | None:
        """How many numbers the model's params and layers hold (None if something is invalid)."""
        total = 0
        for param in self.params.values():
            if param.shape is None:
                return None
            total += math.prod(param.shape)
        bounds = {id(b): b for b in [*self.layers.values(), *self.sequence] if b is not None}
        for bound in bounds.values():
            count = bound.entry.extra.get("params")
            if count is not None:
                if any(v is INVALID for v in bound.values.values()):
                    return None
                total += count(bound.values)
        return total


MEMORY_WARNING_BYTES = 10**9  # warn at check time above 1 GB of float32 parameters


def parameter_bytes(count: int, itemsize: int = 4) -> str:
    """``40.0 GB``: a memory size in decimal units, as the messages print it."""
    size = count * itemsize
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size / 1000:.1f} kB"


def warn_memory(info: ModelInfo, reporter: Reporter) -> None:
    """A warning with the parameter memory of a model above :data:`MEMORY_WARNING_BYTES`."""
    count = info.parameter_count()
    if count is None or count * 4 <= MEMORY_WARNING_BYTES:
        return
    reporter.warning("memory", info.node.name.span, f"model {info.name} has {count:,} "
                     f"parameters (about {parameter_bytes(count)} in float32)",
                     hint="training needs 2-4 times that again for gradients and optimizer "
                     "state; make the layers smaller if this is not meant")


def hyper_defaults(model: n.ModelDef, reporter: Reporter) -> dict[str, Any]:
    """Evaluate the defaults in order; a later default may use an earlier hyperparameter."""
    env: dict[str, Any] = {}
    for hyper in model.hyper_params:
        if hyper.name.id in env:
            reporter.error("duplicate", hyper.name.span,
                           f'hyperparameter "{hyper.name.id}" is defined twice')
            continue
        env[hyper.name.id] = evaluate(hyper.default, env, reporter)
    return env


def check_model(model: n.ModelDef, hypers: dict[str, Any], reporter: Reporter) -> ModelInfo:
    """Check a model's members with the given hyperparameter values."""
    info = ModelInfo(model, hypers)
    _check_member_names(model, hypers, reporter)
    for param in model.params:
        info.params[param.name.id] = _check_param(param, hypers, reporter)
    for layer in model.layers:
        bound = _check_named_layer(layer, hypers, reporter)
        info.layers.setdefault(layer.name.id, bound)  # a duplicate is reported, not used
    for block in model.layers_blocks:
        info.sequence = [_sequence_item(item, info, reporter) for item in block.items]
    _check_structure(model, reporter)
    warn_memory(info, reporter)
    return info


def check_reserved(name: n.Name, what: str, reporter: Reporter) -> None:
    """An error if a param or layer name is reserved (see :mod:`lightdsl.vocab.reserved`)."""
    reason = reserved_reason(name.id)
    if reason is not None:
        reporter.error("reserved", name.span, f'{what} name "{name.id}" is reserved: {reason}; '
                       "rename it", hint=f"for example {name.id.strip('_')}_{what.split()[-1]}")


def _check_member_names(model: n.ModelDef, hypers: dict, reporter: Reporter) -> None:
    seen: dict[str, n.Name] = {}
    for member in [*model.params, *model.layers]:
        name = member.name
        check_reserved(name, "param" if isinstance(member, n.ParamDef) else "layer", reporter)
        if name.id in seen:
            reporter.error("duplicate", name.span, f'"{name.id}" is already defined in model '
                           f"{model.name.id} (line {seen[name.id].span.line})")
        elif name.id in hypers:
            reporter.error("duplicate", name.span,
                           f'"{name.id}" is already a hyperparameter of model {model.name.id}')
        seen.setdefault(name.id, name)


def _check_param(param: n.ParamDef, hypers: dict, reporter: Reporter) -> ParamInfo:
    if isinstance(param.value, n.Name) and param.value.id == "frozen":
        reporter.error("syntax", param.value.span, f'param "{param.name.id}" has no value '
                       "before `frozen`", hint=f"param {param.name.id} = 0.0 frozen")
        return ParamInfo(param, INVALID, None)
    value = evaluate(param.value, hypers, reporter)
    if contains_invalid(value):
        return ParamInfo(param, INVALID, None)
    shape = tensor_shape(value)
    if shape is None:
        reporter.error("type", param.value.span, f'param "{param.name.id}" must be a number or '
                       "a rectangular (nested) list of numbers")
        return ParamInfo(param, INVALID, None)
    return ParamInfo(param, value, shape)


def tensor_shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a number or a rectangular nested list of numbers, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ()
    if not isinstance(value, list) or not value:
        return None
    shapes = [tensor_shape(v) for v in value]
    if shapes[0] is None or any(s != shapes[0] for s in shapes):
        return None
    return (len(value), *shapes[0])


def _check_named_layer(layer: n.LayerDef, hypers: dict, reporter: Reporter) -> Bound | None:
    if not isinstance(layer.value, n.Call):
        reporter.error("type", layer.value.span, f'"{layer.name.id}" must be a layer, such as '
                       "`linear(784, 500)`", hint="constants belong in the model's "
                       "hyperparameters: model Name(size = 10) { ... }")
        return None
    entry = lookup("layer", layer.value.func, reporter)
    return bind_call(entry, layer.value, hypers, reporter) if entry else None


def _sequence_item(item, info: ModelInfo, reporter: Reporter) -> Bound | None:
    if isinstance(item, n.Name):
        if item.id in info.layers:
            return info.layers[item.id]
        entry = REGISTRY.get("layer", item.id)
        if entry is None:
            known = [*info.layers, *REGISTRY.names("layer")]
            reporter.error("unknown-name", item.span, f'unknown layer "{item.id}"'
                           + did_you_mean(item.id, known))
            return None
        call = n.Call.model_construct(span=item.span, func=item)
        return bind_call(entry, call, info.hypers, reporter)
    if item.func.id in info.layers:
        reporter.error("type", item.span, f'"{item.func.id}" is a named layer; in layers {{ }} '
                       f"write its name without parentheses: {item.func.id}")
        return None
    entry = lookup("layer", item.func, reporter)
    return bind_call(entry, item, info.hypers, reporter) if entry else None


def _check_structure(model: n.ModelDef, reporter: Reporter) -> None:
    name = model.name.id
    for extra in model.layers_blocks[1:]:
        reporter.error("duplicate", extra.span, f"model {name} has more than one layers block")
    for extra in model.forwards[1:]:
        reporter.error("duplicate", extra.span, f"model {name} has more than one forward")
    if model.layers_blocks and model.forwards:
        reporter.error("structure", model.forwards[0].span,
                       f"model {name} has both layers {{ }} and forward(); use one of them",
                       hint="to mix named layers with dataflow, call them inside forward")
    if not model.layers_blocks and not model.forwards:
        reporter.error("structure", model.name.span,
                       f"model {name} has neither a layers {{ }} block nor a forward()")


def check_trainable(info: ModelInfo, reporter: Reporter) -> None:
    """An error if nothing in the model can be trained."""
    if any(not p.node.frozen for p in info.params.values()):
        return
    used = info.sequence if info.node.layers_blocks else list(info.layers.values())
    for bound in used:
        flag = PARAMETERIZED.get(bound.name, False) if bound else False
        if flag is None or (flag and bound.values.get(flag)):
            return
    reporter.error("no-trainable", info.node.name.span, f"model {info.name} has no trainable "
                   "parameter, so training cannot change it",
                   hint="remove `frozen` from a param or add a layer with weights")
