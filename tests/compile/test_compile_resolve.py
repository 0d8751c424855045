"""Dotted names become Python objects in one function, ``lightdsl.dotted.resolve`` (ground
floor, so that the trainer uses it too): the vocabulary re-exports it and the builders'
``lightdsl.compile.resolve`` calls it rather than keeping a copy of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import torch

from lightdsl import dotted
from lightdsl.compile import resolve as compile_resolve
from lightdsl.vocab import registry

PACKAGE = Path(registry.__file__).resolve().parents[1]


def _resolvers() -> list[str]:
    """``module:function`` of every function that imports a module to take a name from it
    (``getattr(importlib.import_module(...), ...)``)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                        and node.func.id == "getattr" and node.args \
                        and "import_module" in ast.unparse(node.args[0]):
                    found.append(f"{path.relative_to(PACKAGE).as_posix()}:{function.name}")
    return found


def test_the_builders_resolve_is_the_vocabularys():
    assert compile_resolve.resolve is registry.resolve is dotted.resolve
    assert _resolvers() == ["dotted.py:resolve"]


def test_instantiate_builds_the_entrys_target():
    bound = type("Bound", (), {})()
    bound.entry = registry.REGISTRY.get("layer", "linear")
    bound.values = {"in_features": 3, "out_features": 2, "bias": False}
    layer = compile_resolve.instantiate(bound)
    assert isinstance(layer, torch.nn.Linear) and layer.bias is None
    assert tuple(layer.weight.shape) == (2, 3)
