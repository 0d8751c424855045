"""The suite's shared helpers live in tests/helpers (issue 19 item 6): no test imports a
conftest as a module (conftest files hold fixtures, which pytest finds by itself), and child
processes start through tests/helpers/runner.py, with its timeouts."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# Files that still start children themselves, and why.
OWN_CHILDREN = {
    "test_packaging.py": "runs the pip and python of the venvs it makes",
    "check/test_cli.py": "reads stdout and stderr interleaved, as one stream",
}
STARTERS = {"run", "Popen", "call", "check_call", "check_output"}


def _test_modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(TESTS).as_posix()
        if not relative.startswith(("helpers/", "codegen/golden/")):
            found[relative] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def test_no_test_imports_a_conftest_module():
    imports = []
    for name, tree in _test_modules().items():
        for node in ast.walk(tree):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names = [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            if any(part == "conftest" for m in modules + names for part in m.split(".")):
                imports.append(f"{name}:{node.lineno}")
    assert imports == [], "import shared helpers from tests.helpers, not a conftest"


def test_children_start_through_the_runner():
    starting = set()
    for name, tree in _test_modules().items():
        for node in ast.walk(tree):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Attribute) and func.attr in STARTERS and \
                    isinstance(func.value, ast.Name) and func.value.id == "subprocess":
                starting.add(name)
    assert starting - set(OWN_CHILDREN) == set(), "start children with tests.helpers.runner"
    assert set(OWN_CHILDREN) - starting == set(), "moved to the runner: drop from OWN_CHILDREN"


def test_every_test_the_stress_run_selects_exists():
    """tests/stress.sh runs the node ids of tests/stress_selection.txt: a test renamed since
    the file was written makes pytest refuse the whole run ("not found"), so stress runs
    nothing. Regenerate the file with ``python -m pytest -p tests.children_audit``."""
    modules = _test_modules()
    stale = []
    for node_id in (TESTS / "stress_selection.txt").read_text(encoding="utf-8").split():
        path, _, name = node_id.partition("::")
        tree = modules.get(path.removeprefix("tests/"))
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)} \
            if tree is not None else set()
        if name.split("[")[0] not in defined:
            stale.append(node_id)
    assert stale == [], "tests/stress_selection.txt names tests that no longer exist"
