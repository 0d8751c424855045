"""Checks of ``model`` blocks: hyperparameters, params, named layers, structure, trainability."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..sizes import parameter_bytes
from ..vocab.registry import REGISTRY
from ..vocab.reserved import reserved_reason
from .binding import Bound, bind_call, lookup
from .constants import INVALID, any_invalid, contains_invalid, evaluate
from .finetune import check_options
from .uses import ModelUse, Repeated
from .weights import check_part_weights


@dataclass
class ParamInfo:
    node: n.ParamDef
    value: Any
    shape: tuple[int, ...] | None  # per-tensor shape (no batch dimension)


@dataclass(repr=False)  # the default repr would print every used model, again at each use
class ModelInfo:
    """A checked model with one set of hyperparameter values."""

    node: n.ModelDef
    hypers: dict[str, Any]
    params: dict[str, ParamInfo] = field(default_factory=dict)
    layers: dict[str, Layer | None] = field(default_factory=dict)  # named layers
    sequence: list[Layer | None] = field(default_factory=list)  # the layers { } body
    calls: dict[int, Bound] = field(default_factory=dict)  # forward's function calls, by offset
    table: Any = None  # the spec's models (checker.compose.ModelTable), for models used here
    # output shapes by input shapes when used as a layer: a model used at many places (or
    # by a model that is itself used many times) is walked once per distinct input
    flows: dict[tuple, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)  # parameter count, trainable: found once
    #: the shapes of the last top-level walk (see :class:`~lightdsl.checker.flow.ModelShapes`):
    #: with the input shape of the run that trains the model, else unknown inputs
    shapes: Any = None
    #: the shapes of each walk as a layer of another model (a used model), by its inputs as
    #: ``flows`` keys them: what hover shows inside a model used at several places
    layer_shapes: dict[tuple, Any] = field(default_factory=dict)
    # fine-tuning options of its parts, by module path (checker.finetune.PartOptions)
    options: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"ModelInfo({self.name}, {self.hypers})"

    @property
    def inputs(self) -> list[str]:
        """The names of forward's inputs (one, ``x``, for a ``layers { }`` model)."""
        if self.node.forwards and not self.node.layers_blocks:
            return [name.id for name in self.node.forwards[0].inputs]
        return ["x"]

    @property
    def name(self) -> str:
        return self.node.name.id

    @property
    def defaults(self) -> dict[str, Any]:
        """The model's hyperparameters as its defaults set them (the checker evaluated them
        once, when it checked the model alone): what generated code compares a run's to."""
        if self.table is None:  # a model checked outside a spec: only its own values known
            return dict(self.hypers)
        return dict(self.table.default(self.name).hypers)

    def parameter_count(self) -> int | None:
        """How many numbers the model's params and layers hold (None if something is invalid)."""
        if "parameters" not in self.counts:  # once: models used by used models add up fast
            self.counts["parameters"] = self._parameter_count()
        return self.counts["parameters"]

    def module_count(self) -> int | None:
        """How many torch modules building the model creates: itself, its ``layers``
        Sequential, every layer, and a Sequential per repeat and per copy of a repeat body of
        several layers (None if something is invalid). Found once, like the parameters."""
        if "modules" not in self.counts:
            layers = {id(b): b for b in [*self.layers.values(), *self.sequence]}
            counts = [layer_module_count(layer) for layer in layers.values()]
            self.counts["modules"] = None if None in counts else \
                1 + bool(self.node.layers_blocks) + sum(counts)
        return self.counts["modules"]

    def _parameter_count(self) -> int | None:
        total = 0
        for param in self.params.values():
            if param.shape is None:
                return None
            total += math.prod(param.shape)
        layers = {id(b): b for b in [*self.layers.values(), *self.sequence] if b is not None}
        for layer in layers.values():
            count = layer_parameter_count(layer)
            if count is None:
                return None
            total += count
        return total


Layer = Bound | ModelUse | Repeated


def layer_parameter_count(layer: Layer | None) -> int | None:
    """The numbers one layer holds: a used model's all, a repeat's times its count."""
    if isinstance(layer, ModelUse):
        return layer.model.parameter_count()
    if isinstance(layer, Repeated):
        counts = [layer_parameter_count(item) for item in layer.items]
        return None if None in counts else layer.count * sum(counts)
    if layer is None:
        return None
    count = layer.entry.params
    if count is None:
        return 0
    if any_invalid(layer.values.values()):
        return None
    return count(layer.values)


def layer_module_count(layer: Layer | None) -> int | None:
    """The torch modules one layer builds (see :meth:`ModelInfo.module_count`)."""
    if isinstance(layer, ModelUse):
        return layer.model.module_count()
    if isinstance(layer, Repeated):
        counts = [layer_module_count(item) for item in layer.items]
        copy = None if None in counts else sum(counts) + (len(counts) > 1)
        return None if copy is None else 1 + layer.count * copy
    return None if layer is None else 1


def leaf_layers(info: ModelInfo) -> Iterator[Bound | None]:
    """The bound layers of ``info`` and, through used models and repeats, of every model it
    uses (a layer the checker could not bind is None)."""
    for layer in [*info.layers.values(), *info.sequence]:
        yield from _leaves(layer)


def _leaves(layer: Layer | None) -> Iterator[Bound | None]:
    if isinstance(layer, ModelUse):
        yield from leaf_layers(layer.model)
    elif isinstance(layer, Repeated):
        for item in layer.items:
            yield from _leaves(item)
    else:
        yield layer


MEMORY_WARNING_BYTES = 10**9  # warn at check time above 1 GB of float32 parameters


def warn_memory(info: ModelInfo, reporter: Reporter) -> None:
    """A warning with the parameter memory of a model above :data:`MEMORY_WARNING_BYTES`."""
    count = info.parameter_count()
    if count is None or count * 4 <= MEMORY_WARNING_BYTES:
        return
    reporter.warning("memory", info.node.name.span, f"model {info.name} has {count:,} "
                     f"parameters (about {parameter_bytes(count)} in float32)",
                     hint="training needs 2-4 times that again for gradients and optimizer "
                     "state; make the layers smaller if this is not meant")


# Measured: building takes about 0.12 ms a module (linear(4, 4), 2 busy CPU cores), 10,000
# in 1.2 s, and a --fast-dev-run of such a model about 8 s more than of a small one (forward,
# backward and the summary pass visit every module); `repeat(10000000) { relu }` would build
# silently until memory ran out. The largest real models are a few thousand modules.
MODULE_LIMIT = 10_000


def check_module_count(info: ModelInfo, reporter: Reporter) -> None:
    """An error for a model that builds more than :data:`MODULE_LIMIT` modules, located at
    the repeat that makes most of them (else at the model's name). A used model over the
    limit is reported at its own check, not again at each model using it."""
    count = info.module_count()
    if count is None or count <= MODULE_LIMIT or any(
            (use.model.module_count() or 0) > MODULE_LIMIT for use in _uses(info)):
        return
    repeats = [r for r in {id(b): b for b in [*info.layers.values(), *info.sequence]}.values()
               if isinstance(r, Repeated) and r.node is not None]
    biggest = max(repeats, key=layer_module_count, default=None)
    span = info.node.name.span
    if biggest is not None and 2 * layer_module_count(biggest) > count:
        span = biggest.node.count.span
    reporter.error("size", span, f"model {info.name} builds {count:,} torch modules; "
                   f"lightdsl builds at most {MODULE_LIMIT:,} (a few seconds' work)",
                   hint="use fewer repeat copies, or fewer and wider layers")


def _uses(info: ModelInfo) -> Iterator[ModelUse]:
    """The models ``info`` uses directly (also inside its repeats)."""
    def walk(layer):
        if isinstance(layer, ModelUse):
            yield layer
        elif isinstance(layer, Repeated):
            for item in layer.items:
                yield from walk(item)
    for layer in [*info.layers.values(), *info.sequence]:
        yield from walk(layer)


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


def check_model(model: n.ModelDef, hypers: dict[str, Any], reporter: Reporter,
                table: Any = None) -> ModelInfo:
    """Check a model's members with the given hyperparameter values; ``table`` (a
    :class:`~lightdsl.checker.compose.ModelTable`) resolves other models used as layers."""
    info = ModelInfo(model, hypers, table=table)
    _check_member_names(model, hypers, reporter)
    for param in model.params:
        info.params[param.name.id] = _check_param(param, hypers, reporter)
    for layer in model.layers:
        bound = _check_named_layer(layer, info, reporter)
        info.layers.setdefault(layer.name.id, bound)  # a duplicate is reported, not used
    for block in model.layers_blocks:
        info.sequence = [_sequence_item(item, info, reporter) for item in block.items]
    _check_structure(model, reporter)
    info.options = check_options(model, hypers, reporter)
    check_part_weights(info, reporter)
    warn_memory(info, reporter)
    check_module_count(info, reporter)
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


def _check_named_layer(layer: n.LayerDef, info: ModelInfo, reporter: Reporter) -> Layer | None:
    if isinstance(layer.value, n.Repeat):
        return _repeat(layer.value, info, reporter)
    if not isinstance(layer.value, n.Call):
        reporter.error("type", layer.value.span, f'"{layer.name.id}" must be a layer, such as '
                       "`linear(784, 500)`", hint="constants belong in the model's "
                       "hyperparameters: model Name(size = 10) { ... }")
        return None
    if _is_model(info, layer.value.func.id):
        return info.table.use(layer.value, info.hypers, reporter)
    entry = lookup("layer", layer.value.func, reporter)
    return bind_call(entry, layer.value, info.hypers, reporter) if entry else None


def _is_model(info: ModelInfo, name: str) -> bool:
    return info.table is not None and info.table.defines(name)


def _repeat(node: n.Repeat, info: ModelInfo, reporter: Reporter) -> Repeated | None:
    """``repeat(count) { ... }``: a positive count and a body of new layers (not named ones,
    which would be one layer shared by every copy)."""
    count = evaluate(node.count, info.hypers, reporter)
    if count is not INVALID and (not isinstance(count, int) or isinstance(count, bool)
                                 or count < 1):
        reporter.error("type", node.count.span, f"repeat needs a positive whole number of "
                       f"copies, not {count!r}")
        count = INVALID
    items, named = [], {layer.name.id for layer in info.node.layers}
    for item in node.items:
        name = item.id if isinstance(item, n.Name) else None
        if name in named:
            reporter.error("type", item.span, f'"{name}" is a named layer: every copy would '
                           "share it; write the layer itself in the repeat body")
            items.append(None)
        else:
            items.append(_sequence_item(item, info, reporter))
    if not node.items:
        reporter.error("structure", node.span, "repeat { } is empty; put the layers to "
                       "repeat in it")
    if count is INVALID or not node.items:
        return None
    return Repeated(count, items, node.span, node)


def _sequence_item(item, info: ModelInfo, reporter: Reporter) -> Layer | None:
    if isinstance(item, n.Repeat):
        return _repeat(item, info, reporter)
    if isinstance(item, n.Name):
        if item.id in info.layers:
            return info.layers[item.id]
        if _is_model(info, item.id):
            call = n.Call(span=item.span, func=item, args=[], keywords=[])
            return info.table.use(call, info.hypers, reporter)
        entry = REGISTRY.get("layer", item.id)
        if entry is None:
            known = [*info.layers, *(info.table.names() if info.table else [])]
            reporter.error("unknown-name", item.span, f'unknown layer "{item.id}"'
                           + REGISTRY.suggest("layer", item.id, known))
            return None
        call = n.Call(span=item.span, func=item)
        return bind_call(entry, call, info.hypers, reporter)
    if item.func.id in info.layers:
        reporter.error("type", item.span, f'"{item.func.id}" is a named layer; in layers {{ }} '
                       f"write its name without parentheses: {item.func.id}")
        return None
    if _is_model(info, item.func.id):
        return info.table.use(item, info.hypers, reporter)
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


NO_TRAINABLE_HINT = "remove `frozen` from a param or add a layer with weights"


def check_trainable(info: ModelInfo, reporter: Reporter) -> None:
    """A warning if nothing in the model can be trained: a hand-weighted or pre-trained model
    is fine to evaluate, predict with, export and plot; only the commands that train refuse
    it (:func:`no_trainable_message`)."""
    if not is_trainable(info):
        reporter.warning("no-trainable", info.node.name.span, f"model {info.name} has no "
                         "trainable parameter: `lightdsl train` and `lr-find` refuse it "
                         "(evaluate, predict, export and plot use it as it is)",
                         hint=NO_TRAINABLE_HINT)


def is_trainable(info: ModelInfo, unfrozen: set[str] | frozenset = frozenset()) -> bool:
    """Whether anything in the model can be trained (a python(...) layer counts as able), at
    some epoch: the ``unfrozen`` parts (a run's ``unfreeze`` statements) count as trainable."""
    if any(not p.node.frozen for p in info.params.values()):
        return True
    return any(_trainable(layer) for path, layer in parts(info)
               if path in unfrozen or not is_frozen(info, path, layer))


def parts(info: ModelInfo) -> list[tuple[str, Layer | None]]:
    """The model's layers with their module paths: the ``layers { }`` items (``layers.0``,
    ...) of a sequential model, else its named layers."""
    if info.node.layers_blocks:
        return [(f"layers.{i}", layer) for i, layer in enumerate(info.sequence)]
    return list(info.layers.items())


def is_frozen(info: ModelInfo, path: str, layer: Layer | None) -> bool:
    """Whether the part at ``path`` is written ``frozen`` (there, or where the named layer it
    refers to is defined)."""
    options = info.options.get(path)
    if options is not None and options.frozen:
        return True
    return any(o.frozen and info.layers.get(p) is layer and layer is not None
               for p, o in info.options.items())


def no_trainable_message(info: ModelInfo) -> str:
    """The error of a command that trains, for a model :func:`is_trainable` says no to."""
    return f"model {info.name} has no trainable parameter, so training cannot change it"


def owns_trainable_tensors(bound: Bound) -> bool:
    """Whether a layer owns trainable tensors: its entry's parameter count is positive (a
    layer whose arguments are invalid counts as trainable: its error is reported already)."""
    if bound.entry.params is not None and any(map(contains_invalid, bound.values.values())):
        return True
    return bound.entry.trainable(bound.values)


def _trainable(layer: Layer | None) -> bool:
    if isinstance(layer, ModelUse):
        model = layer.model
        if "trainable" not in model.counts:
            model.counts["trainable"] = is_trainable(model)
        return model.counts["trainable"]
    if isinstance(layer, Repeated):
        return any(_trainable(item) for item in layer.items)
    if layer is None:
        return False
    if getattr(layer, "ref", None) is not None:
        return True  # a python(...) layer: check cannot see its parameters, so assume some
    return owns_trainable_tensors(layer)
