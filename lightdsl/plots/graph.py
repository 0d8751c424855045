"""The network as a diagram: a checked run's model -> nodes and edges -> Graphviz DOT text.

Torch-free: shapes come from the checker's static shape inference. A ``layers { }`` model is a
chain of layer nodes; a ``forward`` model is its dataflow: the input, every layer call, function
call and operator, the params (frozen ones grey and dashed, trainable ones gold) and the output.
Every edge carries the shape of the tensor on it (``N`` is the batch), and the name of the
variable it was assigned to, if any.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..checker.compose import describe
from ..checker.constants import INVALID
from ..checker.flow import ModelShapes
from ..checker.models import ModelUse, Repeated
from ..frontend import nodes as n
from ..vocab.registry import REQUIRED
from ..vocab.types import Tensor, TensorList


@dataclass
class Node:
    id: str
    label: str
    kind: str  # input, layer, function, op, param, const, output
    frozen: bool = False


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""


@dataclass
class Graph:
    """A model's diagram: ``nodes`` in creation order and labelled ``edges``."""

    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def add(self, label: str, kind: str, frozen: bool = False) -> str:
        node = Node(f"n{len(self.nodes)}", label, kind, frozen)
        self.nodes.append(node)
        return node.id


def format_shape(shape) -> str:
    """``(None, 10)`` -> ``(N, 10)``; unknown -> ``?``."""
    if shape is None:
        return "?"
    parts = ["N" if d is None else str(d) for d in shape]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def format_call(bound, tensor_args: bool = False) -> str:
    """``linear(784, 500)``: required arguments by position, others only when not default;
    ``ResBlock(c = 64)`` for a used model, ``repeat(4) {...}`` for a repeat."""
    if isinstance(bound, ModelUse):
        return describe(bound.model)
    if isinstance(bound, Repeated):
        inner = " ".join(format_call(item) if item else "?" for item in bound.items)
        return f"repeat({bound.count}) {{ {inner} }}"
    parts = []
    for arg in bound.entry.args:
        value = bound.values.get(arg.name)
        if isinstance(value, n.Node) or isinstance(arg.type, (Tensor, TensorList)):
            continue
        if arg.default is REQUIRED:
            parts.append(_value(value))
        elif value != arg.default and value is not INVALID:
            parts.append(f"{arg.name}={_value(value)}")
    return f"{bound.name}({', '.join(parts)})" if parts else bound.name


def _value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def build_graph(run) -> Graph:
    """The diagram of a checked run's model (``analysis.program.runs[name]``)."""
    info = run.model
    # what the checker inferred for this run's data (the model's own: the last run's)
    shapes = run.shapes or info.shapes or ModelShapes()
    graph = Graph(f"{info.name}")
    if info.node.layers_blocks:
        _sequence(graph, shapes, info)
    elif info.node.forwards:
        _DataflowBuilder(graph, shapes, info).build(info.node.forwards[0], shapes.input)
    return graph


def _sequence(graph: Graph, shapes: ModelShapes, info) -> None:
    current, shape = graph.add("input", "input"), shapes.input
    items = info.node.layers_blocks[0].items
    for item, bound in zip(items, info.sequence):
        name = item.id if isinstance(item, n.Name) else None
        label = format_call(bound) if bound is not None else (name or "?")
        if name is not None and bound is not None:
            label = f"{name}: {label}"
        node = graph.add(label, "layer")
        graph.edges.append(Edge(current, node, format_shape(shape)))
        call = shapes.at(item.span) if bound is not None else None
        shape = call.output if call is not None else None
        current = node
    graph.edges.append(Edge(current, graph.add("output", "output"), format_shape(shape)))


class _DataflowBuilder:
    def __init__(self, graph: Graph, shapes: ModelShapes, info) -> None:
        self.graph, self.recorded, self.info = graph, shapes, info
        self.params: dict[str, str] = {}
        self.variables: dict[str, tuple[str, str]] = {}  # name -> (node id, edge label)

    def build(self, forward: n.ForwardDef, input_shape) -> None:
        for name in forward.inputs:
            node = self.graph.add(f"input: {name.id}", "input")
            self.variables[name.id] = (node, f"{name.id} {format_shape(input_shape)}")
        for statement in forward.body:
            if isinstance(statement, n.ReturnStmt) and statement.rest:  # return a, b
                for value in statement.values:  # one output node per tensor
                    source, edge = self.expr(value)
                    self.graph.edges.append(Edge(source, self.graph.add("output", "output"),
                                                 edge))
                return
            node, label = self.expr(statement.value)
            if isinstance(statement, n.Assign):
                shape = format_shape(self.recorded.of(statement.value))
                for target in statement.targets:  # a, b = block(x): both leave its node
                    self.variables[target.id] = (node, f"{target.id} {shape}")
            else:
                output = self.graph.add("output", "output")
                self.graph.edges.append(Edge(node, output, label))
                return

    def expr(self, expr) -> tuple[str, str]:
        """The node computing ``expr`` and the label of the edge leaving it."""
        shape = format_shape(self.recorded.of(expr))
        if isinstance(expr, n.Name):
            return self._name(expr, shape)
        if isinstance(expr, n.Number):
            return self.graph.add(_value(expr.value), "const"), ""
        if isinstance(expr, n.Neg):
            return self._node("neg", "op", [expr.operand]), shape
        if isinstance(expr, n.BinOp):
            return self._node(expr.op, "op", [expr.left, expr.right]), shape
        if isinstance(expr, n.Call):
            return self._call(expr), shape
        return self.graph.add("?", "const"), ""

    def _name(self, name: n.Name, shape: str) -> tuple[str, str]:
        if name.id in self.variables:
            return self.variables[name.id]
        if name.id in self.info.params:
            if name.id not in self.params:
                param = self.info.params[name.id]
                value = param.value if isinstance(param.value, (int, float)) else None
                text = f"{name.id} = {_value(value)}" if value is not None else name.id
                frozen = param.node.frozen
                text += "\n(frozen)" if frozen else "\n(trainable)"
                self.params[name.id] = self.graph.add(text, "param", frozen)
            return self.params[name.id], "" if shape == "()" else shape
        value = self.info.hypers.get(name.id, name.id)
        return self.graph.add(f"{name.id} = {_value(value)}", "const"), ""

    def _node(self, label: str, kind: str, inputs) -> str:
        node = self.graph.add(label, kind)
        for item in inputs:
            source, edge_label = self.expr(item)
            self.graph.edges.append(Edge(source, node, edge_label))
        return node

    def _call(self, call: n.Call) -> str:
        name = call.func.id
        if name in self.info.layers:
            bound = self.info.layers[name]
            label = f"{name}: {format_call(bound)}" if bound is not None else name
            return self._node(label, "layer", call.args)
        bound = self.info.calls.get(call.span.start_pos)
        label = format_call(bound) if bound is not None else name
        inputs = []
        for item in [*call.args, *(k.value for k in call.keywords)]:
            inputs.extend(item.items if isinstance(item, n.ListExpr) else [item])
        tensors = [item for item in inputs if not isinstance(item, (n.Number, n.String))]
        return self._node(label, "function", tensors)


_STYLES = {
    "input": 'shape=oval, style=filled, fillcolor="#cfe2f3"',
    "output": 'shape=oval, style=filled, fillcolor="#d9ead3"',
    "layer": 'shape=box, style="rounded,filled", fillcolor="#fff2cc"',
    "function": 'shape=box, style="rounded,filled", fillcolor="#ead1dc"',
    "op": 'shape=circle, style=filled, fillcolor="#eeeeee", width=0.4, fixedsize=true',
    "const": 'shape=plaintext',
    "param": 'shape=box, style="filled,bold", fillcolor="#ffd966"',
    "frozen": 'shape=box, style="filled,dashed", fillcolor="#d9d9d9", fontcolor="#555555"',
}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: Graph) -> str:
    """Graphviz DOT text for ``graph`` (top to bottom, shapes on the edges)."""
    lines = [f"digraph {_quote(graph.title)} {{", "    rankdir=TB;",
             f"    label={_quote(graph.title)}; labelloc=t; fontsize=16;",
             '    node [fontname="Helvetica", fontsize=11];',
             '    edge [fontname="Helvetica", fontsize=9, color="#555555"];']
    for node in graph.nodes:
        style = _STYLES["frozen" if node.frozen else node.kind]
        lines.append(f"    {node.id} [label={_quote(node.label)}, {style}];")
    for edge in graph.edges:
        label = f" [label={_quote(edge.label)}]" if edge.label else ""
        lines.append(f"    {edge.source} -> {edge.target}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"
