"""Build stage for models: a checked model -> a ``torch.nn.Module``.

Params become ``nn.Parameter`` (``frozen`` -> ``requires_grad=False``), named layers become
submodules with the spec's names, ``layers { }`` becomes an ``nn.Sequential`` called ``layers``
and ``forward`` is compiled once into nested closures, so a step runs no AST walking.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .. import nodes as n
from ..checker.models import ModelInfo
from ..vocab.registry import REGISTRY
from ..vocab.types import Tensor, TensorList
from .resolve import instantiate, resolve

Env = dict[str, Any]
Compiled = Callable[[Env], Any]
_BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
           "**": operator.pow, "@": torch.matmul}


class SpecModel(nn.Module):
    """A model described by a spec; ``forward`` follows its layers or dataflow."""

    def __init__(self, info: ModelInfo):
        super().__init__()
        self.spec_name = info.name
        self.hparams = dict(info.hypers)
        for name, param in info.params.items():
            tensor = torch.tensor(param.value, dtype=torch.get_default_dtype())
            self.register_parameter(name, nn.Parameter(tensor, requires_grad=not param.node.frozen))
        for name, bound in info.layers.items():
            self.add_module(name, instantiate(bound))
        if info.node.layers_blocks:
            named = {id(b): name for name, b in info.layers.items()}
            self.layers = nn.Sequential(*[getattr(self, named[id(b)]) if id(b) in named
                                          else instantiate(b) for b in info.sequence])
            self._dataflow = None
        else:
            self._dataflow = ForwardCompiler(self, info).compile(info.node.forwards[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._dataflow is None:
            return self.layers(x)
        return self._dataflow(x)


class ForwardCompiler:
    """Compiles a ``forward`` body into a function of the input, closing over the module."""

    def __init__(self, module: nn.Module, info: ModelInfo):
        self.params = module._parameters
        self.layers = module._modules
        self.info = info

    def compile(self, forward: n.ForwardDef) -> Callable[[torch.Tensor], torch.Tensor]:
        input_name = forward.inputs[0].id
        steps = [(s.target.id, self.expr(s.value)) for s in forward.body
                 if isinstance(s, n.Assign)]
        result = self.expr(next(s for s in forward.body if isinstance(s, n.ReturnStmt)).value)

        def run(x: torch.Tensor) -> torch.Tensor:
            env = {input_name: x}
            for target, compute in steps:  # one statement of the spec's forward each
                env[target] = compute(env)
            return result(env)

        return run

    def expr(self, expr: n.Expr) -> Compiled:
        if isinstance(expr, n.Number):
            value = expr.value
            return lambda env: value
        if isinstance(expr, n.Name):
            return self.name(expr.id)
        if isinstance(expr, n.Neg):
            operand = self.expr(expr.operand)
            return lambda env: -operand(env)
        if isinstance(expr, n.BinOp):
            op, left, right = _BINARY[expr.op], self.expr(expr.left), self.expr(expr.right)
            return lambda env: op(left(env), right(env))
        if isinstance(expr, n.ListExpr):
            items = [self.expr(item) for item in expr.items]
            return lambda env: [item(env) for item in items]
        return self.call(expr)

    def name(self, name: str) -> Compiled:
        if name in self.params:
            params = self.params
            return lambda env: params[name]
        if name in self.info.hypers:
            value = self.info.hypers[name]
            return lambda env: value
        return lambda env: env[name]

    def call(self, call: n.Call) -> Compiled:
        name = call.func.id
        if name in self.layers:
            layers, argument = self.layers, self.expr(call.args[0])
            return lambda env: layers[name](argument(env))
        entry = REGISTRY.get("function", name)
        fn = resolve(entry.target)
        tensors, constants = self._arguments(entry, call)
        if len(tensors) == 1 and not constants:  # relu(x) and friends: the common, hot case
            (only,) = tensors
            return lambda env: fn(only(env))
        return lambda env: fn(*[t(env) for t in tensors], **constants)

    def _arguments(self, entry, call: n.Call) -> tuple[list[Compiled], dict[str, Any]]:
        bound = self.info.calls[call.span.start_pos]  # bound by the checker's flow pass
        tensors, constants = [], {}
        for arg in entry.args:
            value = bound.values[arg.name]
            if isinstance(arg.type, (Tensor, TensorList)):
                tensors.append(self.expr(value))
            else:
                constants[arg.name] = tuple(value) if isinstance(value, list) else value
        return tensors, constants
