"""Stages point only down: lightdsl's import graph has no cycles and no upward imports.

The layers, lowest first (a module may import its own layer and the layers below it, never one
above; within a layer, modules import each other without cycles):

 0. ground floor: ``errors``, ``suggest`` (the one did-you-mean), ``sizes`` (byte counts),
    ``run_settings``, ``install``, ``runtime`` (the helpers generated scripts carry; they import
    nothing of lightdsl), ``outputs`` (files and run folders), ``display`` (a shape as text,
    the classes a matrix shows), ``dotted`` (the one place dotted names become objects) and
    ``plots``, the pictures of numbers (lr curve, run curves, confusion matrix, a model's
    response; matplotlib, optional), and ``interrupts`` (a Ctrl-C remembered where code
    swallows it: the trainer asks, the commands and the sweep remember)
 1. ``trainer``: the Lightning-style trainer; it knows nothing of the language, so it sits
    below it and imports only the ground floor (and torch)
 2. ``tuner``: lr_find and the batch-size finder, on top of the trainer
 3. ``frontend``: text, spans, parse tree, AST, diagnostics; ``weightfiles`` (weights files
    seen without torch: formats, shapes, whether they fit; it reads through the front end's
    bounded file reader)
 4. ``vocab``: the one registry of words (torch-free)
 5. ``checker``: AST -> diagnostics and a :class:`~lightdsl.checker.Program`
 6. the analysis driver: ``analysis`` (``analyze``, ``SpecError``, ``choose_run``, where a run
    logs), ``overrides`` (``--set``) and ``space`` (a sweep's search space, each point checked);
    what ``check``, ``api``, ``codegen`` and the commands run
 7. ``data`` (loading, splits, transforms) and the network diagram, ``plots.graph``,
    ``plots.layout`` and ``plots.render`` (they draw a checked Program, so they sit above the
    checker while the rest of ``plots`` is on the ground floor)
 8. ``compile`` (Program -> torch modules) and ``checkpoints`` (choosing a run's checkpoint)
 9. ``codegen``: Program -> Python source (torch-free); ``lsp``: the language server (torch-free)
10. ``api``: ``lightdsl.load`` -> Experiment
11. ``deploy``: predict, evaluate, export a trained Experiment; ``sweep``: the Optuna engine
12. ``commands``, ``cli``, ``__main__`` and the package itself (``lightdsl/__init__.py``)

A name with a dot (``plots.graph``) places that module (and any below it) apart from its
package: the most specific name listed decides.

The rule for lazy imports (inside functions): they count exactly as top-level ones. An import
is made lazy only to keep a command from loading what it does not need (``lightdsl check``
never imports torch), never to hide an upward import or a cycle; so the graph checked here is
every import statement in the file, wherever it stands. Imports under ``if TYPE_CHECKING:``
are for annotations only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "lightdsl"

LAYERS: list[tuple[str, ...]] = [
    ("errors", "suggest", "sizes", "run_settings", "install", "runtime", "outputs", "display",
     "dotted", "plots", "interrupts"),
    ("trainer",),
    ("tuner",),
    ("frontend", "weightfiles"),
    ("vocab",),
    ("checker",),
    ("analysis", "overrides", "space"),
    ("data", "plots.graph", "plots.layout", "plots.render"),
    ("compile", "checkpoints"),
    ("codegen", "lsp"),
    ("api",),
    ("deploy", "sweep"),
    ("commands", "cli", "__main__", ""),
]


def module_name(path: Path) -> str:
    parts = ["lightdsl", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer of ``lightdsl.x.y``: the one listing ``x.y``, else the one listing ``x`` (the
    package itself: the top)."""
    parts = module.split(".")[1:]
    for depth in range(len(parts), 0 if parts else -1, -1):
        name = ".".join(parts[:depth])
        for index, names in enumerate(LAYERS):
            if name in names:
                return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to the docstring)")


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _statements(tree: ast.AST):
    """Every import statement, lazy ones included, except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_block(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _targets(node, module: str, is_package: bool, known: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".")[: len(module.split(".")) - node.level + is_package]
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        # ``from . import x`` imports the submodule x where there is one
        names = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in known else stem for a in node.names]
    found = set()
    for name in names:
        while name and name not in known:  # ``lightdsl.trainer.Trainer`` -> lightdsl.trainer
            name = name.rpartition(".")[0]
        if name.startswith("lightdsl"):
            found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    """lightdsl module -> the lightdsl modules it imports (lazily or not)."""
    files = {module_name(p): p for p in ROOT.rglob("*.py")}
    known = set(files)
    graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        graph[module] = {t for node in _statements(tree)
                         for t in _targets(node, module, is_package, known)} - {module}
    return graph


def upward_imports(graph) -> list[str]:
    return sorted(f"{a} (layer {layer_of(a)}) imports {b} (layer {layer_of(b)})"
                  for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a))


def _parent_edge(a: str, b: str) -> bool:
    """A module importing its own package's ``__init__`` (or the reverse) is how Python
    packages work, not a design cycle: ``trainer/__init__`` re-exports ``trainer.loop``."""
    return b.startswith(a + ".") or a.startswith(b + ".")


def cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm),
    ignoring edges between a package and its own submodules."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if _parent_edge(node, other):
                continue
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer():
    for module in import_graph():
        layer_of(module)
    assert layer_of("lightdsl.plots.graph") > layer_of("lightdsl.checker") > layer_of(
        "lightdsl.trainer.summary") > layer_of("lightdsl.plots.confusion")
    try:
        layer_of("lightdsl.nowhere")
    except AssertionError:
        return
    raise AssertionError("a module of no layer was placed")


def test_no_upward_imports():
    assert upward_imports(import_graph()) == []


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_shared_leaves_are_defined_once_on_the_ground_floor():
    """did_you_mean/closest (suggest) and parameter_bytes (sizes) have one definition each."""
    defined: dict[str, list[str]] = {}
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in (
                    "did_you_mean", "closest", "parameter_bytes"):
                defined.setdefault(node.name, []).append(module_name(path))
    assert defined == {"did_you_mean": ["lightdsl.suggest"], "closest": ["lightdsl.suggest"],
                       "parameter_bytes": ["lightdsl.sizes"]}


def test_the_checker_finds_what_it_is_meant_to():
    """The checks can fail: an upward edge and a cycle planted in a copy of the graph."""
    graph = {k: set(v) for k, v in import_graph().items()}
    graph["lightdsl.checker.binding"].add("lightdsl.api")
    graph["lightdsl.vocab.types"].add("lightdsl.vocab.registry")
    graph["lightdsl.vocab.registry"].add("lightdsl.vocab.types")
    graph["lightdsl.trainer.summary"].add("lightdsl.vocab.shapes")
    graph["lightdsl.plots.common"].add("lightdsl.plots.graph")
    upward = upward_imports(graph)
    assert any(line.startswith("lightdsl.checker.binding (layer 5) imports lightdsl.api")
               for line in upward)
    assert "lightdsl.trainer.summary (layer 1) imports lightdsl.vocab.shapes (layer 4)" in upward
    assert "lightdsl.plots.common (layer 0) imports lightdsl.plots.graph (layer 7)" in upward
    assert ["lightdsl.vocab.registry", "lightdsl.vocab.types"] in cycles(graph)
