"""Generating, importing and checking codegen's scripts (the codegen tests and others)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lightdsl.codegen import generate_file

from .runner import run_tool

ROOT = Path(__file__).resolve().parents[2]
# the example specs and the code generator's own corpus (tests/codegen/specs)
CORPUS = sorted((ROOT / "specs").glob("*.lit")) + sorted((ROOT / "tests" / "codegen" / "specs")
                                                          .glob("*.lit"))
RUFF = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))


def runs_of(path: Path) -> list[str]:
    from lightdsl.analysis import analyze_file

    return list(analyze_file(str(path)).program.runs)


CASES = [(path, run) for path in CORPUS for run in runs_of(path)]


def case_id(case) -> str:
    return f"{case[0].stem}-{case[1]}"


def load_script(path: Path, name: str = "generated"):
    """Import a generated script as a module (its main() does not run)."""
    spec = importlib.util.spec_from_file_location(f"{name}_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_script(spec: Path, out: Path, run: str | None = None, target: str = "torch") -> Path:
    """Generate ``spec``'s script into ``out`` (its data paths as seen from there)."""
    out.write_text(generate_file(str(spec), run, target, str(out)).text, encoding="utf-8")
    return out


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``ruff ARGS...`` in ``cwd`` (the test skips without ruff)."""
    if RUFF is None:
        pytest.skip("ruff is not installed")
    return run_tool(RUFF, *args, cwd=cwd)
