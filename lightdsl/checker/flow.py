"""Static shape inference through a model: the ``layers`` sequence or the ``forward`` dataflow.

Also the name checks of ``forward`` (undefined and unused variables, unreachable statements),
which need no shapes: with an unknown input shape every rule stays quiet but names are checked.
After a shape error the shape becomes unknown, so one mistake is reported once.
"""

from __future__ import annotations

from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..frontend.records import Record, Struct, _set
from ..frontend.source import Span
from ..suggest import did_you_mean
from ..vocab.functions import matmul_shape
from ..vocab.registry import REGISTRY
from ..vocab.shapes import Shape, ShapeError, broadcast
from ..vocab.types import Tensor, TensorList
from .binding import Bound, bind_call
from .compose import NestedReporter
from .constants import any_invalid
from .models import ModelInfo, ModelUse, Repeated

Dtype = str | None  # "float", "int", or None when unknown


def _keeps_dtype(name: str) -> bool:
    """Whether the forward function ``name`` returns its first input's dtype (torch.relu of
    int64 is int64): the entry's ``keeps_dtype``."""
    entry = REGISTRY.get("function", name)
    return entry is not None and entry.keeps_dtype


class Outputs(tuple):
    """The shapes of several tensors a used model returns (``return a, b``)."""


class CallShape(Record):
    """One call in a model's body as the checker inferred it: what hover shows, what the graph
    labels its edges with.

    ``span`` is the call's text (a ``layers { }`` item, or ``name(...)`` in forward); ``name``
    the layer's name in the model or the function's; ``inputs`` the shapes going in (batch
    first, None where unknown), ``output`` the shape coming out (an :class:`Outputs` for a
    used model returning several tensors), ``dtype`` the first input's ("int", "float" or
    None), ``params`` the trainable numbers the layer holds (None: a function, or unknown),
    ``layer`` what was applied: the Bound (a layer's or a function's), ModelUse or Repeated of
    the walked model (hover finds a named layer's calls by it; neither compared nor shown).
    """

    __slots__ = ("dtype", "inputs", "layer", "name", "output", "params", "span")
    _hidden = frozenset({"layer"})

    def __init__(self, span: Span, name: str, inputs: tuple[Shape, ...],
                 output: Shape | Outputs, dtype: Dtype, params: int | None, layer: Any = None):
        _set(self, "span", span)
        _set(self, "name", name)
        _set(self, "inputs", inputs)
        _set(self, "output", output)
        _set(self, "dtype", dtype)
        _set(self, "params", params)
        _set(self, "layer", layer)

    def _compared(self) -> tuple:
        return self._values()[:-1]  # all but layer, the last parameter

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash((self.__class__, self._compared()))


class ModelShapes(Struct):
    """The shapes of one walk through a model, stored on the checked model
    (``Program.models[name].shapes``, ``run.model.shapes``) so that back ends (graph, codegen,
    the language server) read them instead of walking again.

    ``calls``: every layer, function and used-model call, in the order the walk met them (a
    repeat's item once per copy walked). ``exprs``: the shape of every forward expression by
    its span's ``(start_pos, end_pos)``; ``variables`` the same for every name forward defines
    (its inputs and assignment targets). ``input`` is the batch shape the walk started from
    (None: the model checked alone, inputs unknown; a used model's walk: its first input's)."""

    def __init__(self, input: Shape = None, calls: tuple[CallShape, ...] = (),
                 exprs: dict[tuple[int, int], Shape] | None = None,
                 variables: dict[tuple[int, int], Shape] | None = None):
        self.input, self.calls = input, calls
        self.exprs = {} if exprs is None else exprs
        self.variables = {} if variables is None else variables

    def at(self, span: Span) -> CallShape | None:
        """The call written at ``span`` (hover: the innermost call under the cursor)."""
        key = (span.start_pos, span.end_pos)
        return next((c for c in self.calls if (c.span.start_pos, c.span.end_pos) == key), None)

    def of(self, expr: n.Node) -> Shape:
        """The shape of forward expression ``expr`` (None when unknown)."""
        return self.exprs.get((expr.span.start_pos, expr.span.end_pos))

    def variable(self, name: n.Name) -> Shape:
        """The shape forward gave the variable defined at ``name`` (None when unknown)."""
        return self.variables.get((name.span.start_pos, name.span.end_pos))


def _count(result) -> str:
    return f"{len(result)} tensors"


class FlowChecker:
    """Infers a model's output shape from its input shape, reporting what does not fit."""

    def __init__(self, info: ModelInfo, reporter: Reporter):
        self.info, self.reporter = info, reporter
        self.used: set[str] = set()
        self.empty = False  # an empty forward: unused warnings would only repeat the error
        self.calls: list[CallShape] = []
        self.exprs: dict[tuple[int, int], Shape] = {}
        self.variables: dict[tuple[int, int], Shape] = {}

    def shapes(self, input_shape: Shape = None) -> ModelShapes:
        """This walk's shapes, from a batch of ``input_shape``."""
        return ModelShapes(input_shape, tuple(self.calls), dict(self.exprs), dict(self.variables))

    def store(self, input_shape: Shape = None) -> ModelShapes:
        """Keep this top-level walk's shapes on the model (``info.shapes``) for the back ends."""
        self.info.shapes = self.shapes(input_shape)
        return self.info.shapes

    def run(self, input_shape: Shape, input_dtype: Dtype = None) -> Shape:
        """The output shape for a batch of ``input_shape``; ``input_dtype`` ("float", "int" or
        None for unknown) lets layers that need integer indices say so. This is the model a
        train block trains: one input, one output."""
        if self.info.node.layers_blocks:
            shape = self._sequence(input_shape, input_dtype)
        elif self.info.node.forwards:
            flow = ForwardFlow(self, self.info.node.forwards[0])
            shape = flow.run(input_shape, input_dtype)
        else:
            return None
        self._warn_unused()
        return shape

    def run_inputs(self, inputs: list[tuple[Shape, Dtype]] | None) -> Shape | Outputs:
        """The output shape(s) of a model used as a layer, given each input's (shape, dtype)
        (None: not known, e.g. the model checked alone)."""
        if self.info.node.layers_blocks:
            shape, dtype = inputs[0] if inputs else (None, None)
            result = self._sequence(shape, dtype)
        elif self.info.node.forwards:
            result = ForwardFlow(self, self.info.node.forwards[0]).run_inputs(inputs)
        else:
            return None
        self._warn_unused()
        return result

    def apply_use(self, layer: ModelUse | Repeated, inputs: list[tuple[Shape, Dtype]],
                  span) -> Shape | Outputs:
        """A used model's or a repeat's output for these inputs, checked inside it."""
        if isinstance(layer, Repeated):
            return self._repeat(layer, inputs, span)
        wanted = layer.model.inputs
        if len(inputs) != len(wanted):
            self.reporter.error("arity", span, f"{layer.name} takes {len(wanted)} input"
                                f"{'s' if len(wanted) != 1 else ''} ({', '.join(wanted)}), "
                                f"but {len(inputs)} {'were' if len(inputs) != 1 else 'was'} "
                                "given")
            return None
        key = tuple(inputs)
        if key not in layer.model.flows:  # found once, so a nested use costs no more
            nested = FlowChecker(layer.model, NestedReporter(self.reporter, span, layer.model))
            layer.model.flows[key] = nested.run_inputs(inputs)
            layer.model.layer_shapes[key] = nested.shapes(inputs[0][0] if inputs else None)
        return layer.model.flows[key]

    def _repeat(self, layer: Repeated, inputs: list[tuple[Shape, Dtype]], span) -> Shape:
        if len(inputs) != 1:
            self.reporter.error("arity", span, f"repeat takes one input, not {len(inputs)}")
            return None
        shape, dtype = inputs[0]
        for _ in range(layer.count):
            before = shape
            for item in layer.items:
                shape = self.apply(item, [shape], item.span, dtype) if item else None
                dtype = "float"
            if shape == before:  # every further copy maps it the same way
                break
        return shape

    def single(self, result: Shape | Outputs, name: str, span) -> Shape:
        """``result`` where one tensor is needed: an error if a used model returns several."""
        if isinstance(result, Outputs):
            self.reporter.error("type", span, f"{name} returns {_count(result)}; unpack them "
                                "in forward: a, b = " + f"{name}(...)")
            return None
        return result

    def _sequence(self, shape: Shape, dtype: Dtype) -> Shape:
        block = self.info.node.layers_blocks[0]
        for item, bound in zip(block.items, self.info.sequence):
            name = item.id if isinstance(item, n.Name) else \
                item.func.id if isinstance(item, n.Call) else None
            if name in self.info.layers:
                self.used.add(name)
            shape = self.apply(bound, [shape], item.span, dtype) if bound else None
            dtype = "float"  # every layer computes floats
        return shape

    def apply(self, bound: Bound, inputs: list[Shape], call_span, dtype: Dtype = None,
              input_spans: list | None = None) -> Shape:
        """Apply an entry's shape rule (see :meth:`_apply`) and record the call for the back
        ends (graph, codegen, the language server)."""
        output = self._apply(bound, inputs, call_span, dtype, input_spans)
        self.record(bound, inputs, output, dtype, call_span)
        return output

    def record(self, layer, inputs: list[Shape], output, dtype: Dtype, call_span) -> None:
        """Keep one call's shapes in this walk (``calls``)."""
        params = layer.entry.params if isinstance(layer, Bound) else None
        count = params(layer.values) if params is not None and not any_invalid(
            layer.values.values()) else None
        self.calls.append(CallShape(call_span, getattr(layer, "name", "?"), tuple(inputs),
                                    output, dtype, count, layer))

    def _apply(self, bound: Bound, inputs: list[Shape], call_span, dtype: Dtype = None,
               input_spans: list | None = None) -> Shape:
        """Apply an entry's shape rule; report its complaint where the fix belongs: the tensor
        input it names (of a call in forward: ``input_spans``), else the argument it names,
        else the layer."""
        if isinstance(bound, (ModelUse, Repeated)):
            result = self.apply_use(bound, [(shape, dtype) for shape in inputs], call_span)
            return self.single(result, bound.name, call_span)
        wanted = bound.entry.input_dtype  # checked inline: most layers take any dtype
        if wanted is not None and dtype is not None and dtype != wanted:
            self._wrong_dtype(bound, dtype, call_span)
            return None
        if bound.entry.shape is None or any_invalid(bound.values.values()):
            return None
        try:
            return bound.entry.shape(inputs, bound.values)
        except ShapeError as error:
            if error.input is not None and input_spans:  # one of several inputs is wrong
                where, defined = input_spans[error.input], bound.span.line
                hint = f"the layer is defined at line {defined}" if where.line != defined \
                    else None
            else:
                where = bound.span_of(error.arg)
                hint = None
                if where.line != call_span.line:
                    hint = f"the layer is used at line {call_span.line}"
            self.reporter.error("shape", where, error.message, hint=hint)
            return None

    def _wrong_dtype(self, bound: Bound, dtype: Dtype, call_span) -> None:
        self.reporter.error("dtype", call_span, f"{bound.name} looks up integer indices, but "
                            f"its input is {dtype} (images, CSV features and inline numbers "
                            "with a fraction are floats)",
                            hint=_lookup_hint(bound))

    def _warn_unused(self) -> None:
        if self.empty:
            return
        model = self.info.node
        for param in model.params:
            if param.name.id not in self.used:
                self.reporter.warning("unused", param.name.span,
                                      f'param "{param.name.id}" is never used')
        for layer in model.layers:
            if layer.name.id not in self.used:
                self.reporter.warning("unused", layer.name.span,
                                      f'layer "{layer.name.id}" is never used')


class ForwardFlow:
    """Walks one ``forward`` body in order, tracking variables and their shapes."""

    def __init__(self, flow: FlowChecker, forward: n.ForwardDef):
        self.flow, self.forward, self.reporter = flow, forward, flow.reporter
        self.info = flow.info
        self.variables: dict[str, Shape] = {}
        self.dtypes: dict[str, Dtype] = {}
        self.defined_at: dict[str, n.Name] = {}
        self.read: set[str] = set()

    def run(self, input_shape: Shape, input_dtype: Dtype = None) -> Shape:
        """The trained model's forward: one input (the batch's), one output."""
        if len(self.forward.inputs) != 1:
            self.reporter.error("arity", self.forward.span, "forward must take exactly one input "
                                f"(the batch's inputs), not {len(self.forward.inputs)}",
                                hint="a forward with several inputs is for a model used as a "
                                "layer of another")
        one = len(self.forward.inputs) == 1
        output = self.run_inputs([(input_shape, input_dtype)] if one else None)
        if isinstance(output, Outputs):
            returned = next(s for s in self.forward.body if isinstance(s, n.ReturnStmt))
            self.reporter.error("type", returned.span, f"the model a train block trains must "
                                f"return one tensor, not {_count(output)}")
            return None
        return output

    def run_inputs(self, inputs: list[tuple[Shape, Dtype]] | None) -> Shape | Outputs:
        """Shapes through the body from each input's (shape, dtype); None: not known."""
        for index, name in enumerate(self.forward.inputs):
            shape, dtype = inputs[index] if inputs else (None, None)
            self._define(name, shape)
            self.dtypes[name.id] = dtype
        if not self.forward.body:
            self.reporter.error("structure", self.forward.span, "forward is empty; it must "
                                "compute and `return` the output")
            self.flow.empty = True
            return None
        output, returned = None, False
        for statement in self.forward.body:
            if returned:
                self.reporter.error("unreachable", statement.span, "code after return never runs")
                break
            if isinstance(statement, n.Assign) and statement.rest:
                self._unpack(statement)
            elif isinstance(statement, n.Assign):
                self._define(statement.target, self.shape_of(statement.value))
                self.dtypes[statement.target.id] = self.dtype_of(statement.value)
            elif statement.rest:
                output, returned = Outputs(self.shape_of(v) for v in statement.values), True
            else:
                output, returned = self.shape_of(statement.value), True
        if not returned:
            self.reporter.error("structure", self.forward.span, "forward must end with `return`")
        self._warn_unread()
        return output

    def _unpack(self, statement: n.Assign) -> None:
        """``a, b = block(x)``: one name per tensor the used model returns."""
        targets, value = statement.targets, statement.value
        result = self._call(value) if isinstance(value, n.Call) else self.shape_of(value)
        shapes = list(result) if isinstance(result, Outputs) else None
        if shapes is None or len(shapes) != len(targets):
            what = _count(result) if shapes is not None else "one tensor"
            if result is not None or shapes is not None:
                self.reporter.error("arity", value.span, f"{len(targets)} names to unpack, but "
                                    f"this returns {what}")
            shapes = [None] * len(targets)
        for target, shape in zip(targets, shapes):
            self._define(target, shape)
            self.dtypes[target.id] = "float"

    def _define(self, name: n.Name, shape: Shape) -> None:
        members = {**self.info.params, **self.info.layers}
        if name.id in members or name.id in self.info.hypers:
            self.reporter.error("duplicate", name.span, f'"{name.id}" already names a param, '
                                "layer or hyperparameter of this model; choose another name")
        self.variables[name.id] = shape
        self.defined_at[name.id] = name
        self.flow.variables[(name.span.start_pos, name.span.end_pos)] = shape

    def _warn_unread(self) -> None:
        for name, node in self.defined_at.items():
            if name not in self.read:
                self.reporter.warning("unused", node.span, f'"{name}" is never used')

    def shape_of(self, expr: n.Expr) -> Shape:
        """The shape of an expression in forward (None when unknown or wrong), recorded."""
        shape = self._shape_of(expr)
        self.flow.exprs[(expr.span.start_pos, expr.span.end_pos)] = shape
        return shape

    def _shape_of(self, expr: n.Expr) -> Shape:
        if isinstance(expr, n.Number):
            return ()
        if isinstance(expr, n.Name):
            return self._name(expr)
        if isinstance(expr, n.Neg):
            return self.shape_of(expr.operand)
        if isinstance(expr, n.BinOp):
            return self._bin_op(expr)
        if isinstance(expr, n.Call):
            return self.flow.single(self._call(expr), expr.func.id, expr.span)
        what = "a list" if isinstance(expr, n.ListExpr) else "a constant"
        self.reporter.error("type", expr.span, f"{what} is not a tensor; forward computes "
                            "with tensors, numbers, params and layers")
        return None

    def dtype_of(self, expr: n.Expr) -> Dtype:
        """"float", "int" or None (unknown): enough to tell integer indices from floats."""
        if isinstance(expr, n.Number):
            return "int" if isinstance(expr.value, int) else "float"
        if isinstance(expr, n.Name):
            return self._name_dtype(expr.id)
        if isinstance(expr, n.Neg):
            return self.dtype_of(expr.operand)
        if isinstance(expr, n.BinOp):
            kinds = {self.dtype_of(expr.left), self.dtype_of(expr.right)}
            return None if None in kinds else "float" if "float" in kinds or expr.op == "/" \
                else "int"
        if isinstance(expr, n.Call) and expr.func.id not in self.info.layers \
                and _keeps_dtype(expr.func.id) and expr.args:
            return self.dtype_of(expr.args[0])
        return "float" if isinstance(expr, n.Call) else None

    def _name_dtype(self, name: str) -> Dtype:
        if name in self.dtypes:
            return self.dtypes[name]
        if name in self.info.params:
            return "float"
        value = self.info.hypers.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return "int" if isinstance(value, int) else "float"
        return None

    def _name(self, name: n.Name) -> Shape:
        if name.id in self.variables:
            self.read.add(name.id)
            return self.variables[name.id]
        if name.id in self.info.params:
            self.flow.used.add(name.id)
            return self.info.params[name.id].shape
        if name.id in self.info.hypers:
            return ()
        if name.id in self.info.layers:
            self.flow.used.add(name.id)
            self.reporter.error("type", name.span, f'"{name.id}" is a layer; call it with an '
                                f"input: {name.id}(x)")
            return None
        known = [*self.variables, *self.info.params, *self.info.hypers]
        suggestion = did_you_mean(name.id, known)
        self.reporter.error("undefined", name.span, f'undefined variable "{name.id}"'
                            + suggestion)
        self.read.update(v for v in self.variables if f'"{v}"' in suggestion)  # meant as read
        return None

    def _bin_op(self, expr: n.BinOp) -> Shape:
        left, right = self.shape_of(expr.left), self.shape_of(expr.right)
        try:
            if expr.op == "@":
                return matmul_shape([left, right], {})
            return broadcast(left, right)
        except ShapeError as error:
            self.reporter.error("shape", expr.span, f"`{expr.op}`: {error.message}")
            return None

    def _call(self, call: n.Call) -> Shape:
        name = call.func.id
        if name in self.info.layers:
            return self._layer_call(call)
        if name in self.variables or name in self.info.params:
            self.read.add(name)
            self.flow.used.add(name)
            self.reporter.error("type", call.func.span, f'"{name}" is a tensor, not a function '
                                "or layer; it cannot be called")
            return None
        entry = REGISTRY.get("function", name)
        if entry is None:
            return self._unknown_call(call)
        bound = bind_call(entry, call, self.info.hypers, self.reporter)
        self.info.calls[call.span.start_pos] = bound
        inputs, first = [], None
        for arg in entry.args:
            node = bound.values.get(arg.name)
            if isinstance(arg.type, Tensor) and isinstance(node, n.Node):
                inputs.append(self.shape_of(node))
            elif isinstance(arg.type, TensorList) and isinstance(node, n.Node):
                inputs.extend(self._tensor_list(node))
            first = _first_tensor(arg, node) if first is None else first
        dtype = self.dtype_of(first) if first is not None else None
        return self.flow.apply(bound, inputs, call.span, dtype)

    def _tensor_list(self, node: n.Node) -> list[Shape]:
        if not isinstance(node, n.ListExpr):
            self.reporter.error("type", node.span, "expected a list of tensors: [a, b]")
            return [None]
        return [self.shape_of(item) for item in node.items]

    def _layer_call(self, call: n.Call) -> Shape:
        """``name(x)``, or ``name(q, k, v)`` for a layer whose entry takes several tensors."""
        name = call.func.id
        self.flow.used.add(name)
        if isinstance(self.info.layers[name], (ModelUse, Repeated)):
            return self._use_call(call, self.info.layers[name])
        bound = self.info.layers[name]
        most = bound.entry.tensor_inputs if bound else 1
        if not 1 <= len(call.args) <= most or call.keywords:
            takes = "exactly one input" if most == 1 else f"1 to {most} inputs"
            self.reporter.error("arity", call.span, f'layer "{name}" takes {takes}, '
                                f"not {len(call.args)}" + ("" if not call.keywords else
                                                           " (inputs are positional)"))
            return None
        shapes = [self.shape_of(arg) for arg in call.args]
        if bound is None:
            return None
        dtype = self.dtype_of(call.args[0])
        spans = [arg.span for arg in call.args]
        return self.flow.apply(bound, shapes, call.span, dtype, spans)

    def _use_call(self, call: n.Call, layer: ModelUse | Repeated) -> Shape | Outputs:
        """``block(q, k, v)``: a used model called with its inputs in forward."""
        if call.keywords:
            self.reporter.error("arity", call.keywords[0].span, f'"{call.func.id}" takes its '
                                "inputs by position")
        inputs = [(self.shape_of(arg), self.dtype_of(arg)) for arg in call.args]
        result = self.flow.apply_use(layer, inputs, call.span)
        self.flow.record(layer, [s for s, _ in inputs], result,
                         inputs[0][1] if inputs else None, call.span)
        return result

    def _unknown_call(self, call: n.Call) -> Shape:
        name = call.func.id
        if REGISTRY.get("layer", name):
            self.reporter.error("unknown-name", call.func.span, f'"{name}" is a layer, not a '
                                "function; define it in the model and call it by name",
                                hint=f"{name}_1 = {name}(...)  then  {name}_1(x)")
        else:
            self.reporter.error("unknown-name", call.func.span, f'unknown function "{name}"'
                                + REGISTRY.suggest("function", name, self.info.layers))
        for arg in call.args:
            self.shape_of(arg)
        return None


def _first_tensor(arg, node) -> n.Node | None:
    """The expression of a function's tensor argument (the first item of a list of tensors),
    whose dtype the call records."""
    if not isinstance(node, n.Node) or not isinstance(arg.type, (Tensor, TensorList)):
        return None
    if isinstance(node, n.ListExpr):
        return node.items[0] if node.items else None
    return node


def _lookup_hint(bound: Bound) -> str:
    count, size = bound.values.get("num_embeddings"), bound.values.get("embedding_dim")
    return (f"give integer indices (inline inputs written as integers), or feed one-hot vectors "
            f"to linear({count}, {size}, bias = false), which computes the same lookup")
