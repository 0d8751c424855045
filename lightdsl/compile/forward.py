"""A spec's ``forward`` compiled to one generated Python function.

A step of a small model is a few microseconds of arithmetic, so the Python around it counts:
one generated function (source text compiled once, as attrs and dataclasses build their
methods) runs the spec's statements as plain Python statements, with no per-statement or
per-expression function calls. The function closes over the module's ``_parameters`` and
``_modules`` dicts and looks each parameter and layer up there at call time, so loading weights
or replacing a submodule is seen; a copy of the module compiles its own (see
``SpecModel.__setstate__``). Its source is registered with :mod:`linecache`, so a traceback
through it shows the line, and is kept on the function as ``__lightdsl_source__``.

The generated code is plain Python over the spec's own objects: ``a * b`` is the ``*`` of the
operands (what ``operator.mul`` computes), ``@`` calls ``torch.matmul``, functions, constants and
hyperparameters are the registry's and the checker's objects, bound as globals of the code.
Operands evaluate left to right, a call's callee before its arguments, every operation
parenthesized as the spec's tree has it: the results are the ones the spec's walk would give,
bit for bit.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..checker.models import ModelInfo
from ..frontend import nodes as n
from ..vocab.registry import REGISTRY
from ..vocab.types import Tensor, TensorList
from .resolve import resolve

_INFIX = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "**"}  # "@" calls torch.matmul
_SERIAL = itertools.count()  # distinct file names for linecache


class ForwardCompiler:
    """Compiles a ``forward`` body into a function of the inputs, closing over the module."""

    def __init__(self, module: nn.Module, info: ModelInfo):
        self.params = module._parameters
        self.layers = module._modules
        self.info = info
        # the generated code's globals: every name it binds starts with "_" (spec names
        # that do too are renamed), so a spec's variable never shadows one of them
        self.namespace: dict[str, Any] = {"_p": self.params, "_m": self.layers,
                                          "_matmul": torch.matmul}
        self.variables: dict[str, str] = {}  # a spec's variable -> its Python name

    def compile(self, forward: n.ForwardDef) -> Callable[..., Any]:
        """The compiled function: ``forward(*inputs)``; inputs past the declared ones are
        ignored, as a used model's forward ignores them."""
        source = self.source(forward)
        filename = f"<lightdsl forward {self.info.name} #{next(_SERIAL)}>"
        exec(compile(source, filename, "exec"), self.namespace)  # noqa: S102 - our own source
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        function = self.namespace["forward"]
        function.__lightdsl_source__ = source
        # the traceback lines live as long as the function (a sweep compiles many models)
        weakref.finalize(function, linecache.cache.pop, filename, None)
        return function

    def source(self, forward: n.ForwardDef) -> str:
        """The generated function's source: the assignments in order, then the return (the
        first ``return``, after every assignment, as the checker allows only one, last)."""
        inputs = [self._variable(name.id) for name in forward.inputs]
        lines = [f"def forward({', '.join([*inputs, '*_more'])}):"]
        for statement in forward.body:
            if isinstance(statement, n.Assign):
                targets = ", ".join(self._variable(t.id) for t in statement.targets)
                lines.append(f"    {targets} = {self.expr(statement.value)}")
        returned = next(s for s in forward.body if isinstance(s, n.ReturnStmt))
        if returned.rest:
            values = "".join(f"{self.expr(v)}, " for v in returned.values)
            lines.append(f"    return ({values})")
        else:
            lines.append(f"    return {self.expr(returned.value)}")
        return "\n".join(lines) + "\n"

    def _variable(self, name: str) -> str:
        """The Python name of a spec variable (its own, unless that is a keyword or starts
        with "_")."""
        if name not in self.variables:
            plain = name.isidentifier() and not keyword.iskeyword(name) and name[0] != "_"
            self.variables[name] = name if plain else f"_v{len(self.variables)}"
        return self.variables[name]

    def _bind(self, value: Any) -> str:
        """A global of the generated code holding ``value`` (a constant, a function)."""
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def expr(self, expr: n.Expr) -> str:
        """Python source computing ``expr``; every operation parenthesized, as the tree is."""
        if isinstance(expr, n.Number):
            return self._bind(expr.value)
        if isinstance(expr, n.Name):
            return self.name(expr.id)
        if isinstance(expr, n.Neg):
            return f"(-{self.expr(expr.operand)})"
        if isinstance(expr, n.BinOp):
            left, right = self.expr(expr.left), self.expr(expr.right)
            if expr.op == "@":
                return f"_matmul({left}, {right})"
            return f"({left} {_INFIX[expr.op]} {right})"
        if isinstance(expr, n.ListExpr):
            return f"[{', '.join(self.expr(item) for item in expr.items)}]"
        return self.call(expr)

    def name(self, name: str) -> str:
        """A name read: a parameter (looked up at call time), a hyperparameter, a variable."""
        if name in self.params:
            return f"_p[{name!r}]"
        if name in self.info.hypers:
            return self._bind(self.info.hypers[name])
        return self._variable(name)

    def call(self, call: n.Call) -> str:
        """A layer's call (looked up at call time) or a function's."""
        name = call.func.id
        if name in self.layers:  # several inputs: attention, or a used model's forward(q, k, v)
            arguments = ", ".join(self.expr(arg) for arg in call.args)
            return f"_m[{name!r}]({arguments})"
        entry = REGISTRY.get("function", name)
        fn = self._bind(resolve(entry.target))
        tensors, constants = self._arguments(entry, call)
        if constants:
            tensors.append(f"**{self._bind(constants)}")
        return f"{fn}({', '.join(tensors)})"

    def _arguments(self, entry, call: n.Call) -> tuple[list[str], dict[str, Any]]:
        bound = self.info.calls[call.span.start_pos]  # bound by the checker's flow pass
        tensors, constants = [], {}
        for arg in entry.args:
            value = bound.values[arg.name]
            if isinstance(arg.type, (Tensor, TensorList)):
                tensors.append(self.expr(value))
            else:
                constants[arg.name] = tuple(value) if isinstance(value, list) else value
        return tensors, constants
