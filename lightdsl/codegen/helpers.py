"""Copying helpers from :mod:`lightdsl.runtime` into a script, read as text.

``helper_sources(names)`` returns the source of the named functions and classes plus every
helper they call, in the order the modules define them, and the import lines they need. What a
definition calls is read from its symbol table: the global names it reads, not its parameters
or locals (``load_mnist(split=...)`` does not carry the ``split`` helper). A
runtime module may import another's definitions (``from .runs import save_weights``): the copy
carries that definition instead of the import. Nothing here imports torch.
"""

from __future__ import annotations

import ast
import functools
import symtable
from pathlib import Path

RUNTIME = Path(__file__).parent.parent / "runtime"
# Module-level names of the runtime modules and the import line each needs.
IMPORTS = {"bisect": "import bisect", "csv": "import csv", "gzip": "import gzip",
           "math": "import math", "errno": "import errno", "os": "import os",
           "random": "import random", "re": "import re",
           "sys": "import sys", "time": "import time", "warnings": "import warnings", "Path": "from pathlib import Path",
           "np": "import numpy as np", "torch": "import torch",
           "F": "import torch.nn.functional as F", "nn": "from torch import nn"}


@functools.lru_cache(maxsize=1)
def _definitions() -> dict[str, tuple[str, set[str]]]:
    """name -> (source, global names it reads), for each top-level def/class of the runtime
    modules (lightdsl/runtime/*.py in name order)."""
    found = {}
    for path in sorted(RUNTIME.glob("[!_]*.py")):
        text = path.read_text(encoding="utf-8")
        for node in ast.parse(text).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                if node.name in found:
                    raise ValueError(f"{node.name} is defined twice in the runtime modules")
                source = ast.get_source_segment(text, node)
                found[node.name] = (source, global_reads(source))
    return found


def global_reads(source: str) -> set[str]:
    """The global names that module-level code (a def or class) reads, in any scope nested in
    it: what it needs defined or imported beside it. Parameters, locals and attributes are not
    global reads, so a parameter named like a helper does not pull the helper in."""
    found: set[str] = set()
    tables = [symtable.symtable(source, "<runtime>", "exec")]
    while tables:
        table = tables.pop()
        found |= {s.get_name() for s in table.get_symbols()
                  if s.is_referenced() and s.is_global()}
        tables += table.get_children()
    return found


def available() -> set[str]:
    """Names of every helper a script can carry."""
    return set(_definitions())


def helper_sources(names) -> tuple[list[str], set[str]]:
    """Sources of ``names`` and what they use, in the runtime modules' order, and their imports."""
    definitions = _definitions()
    wanted, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        if name not in definitions:
            raise KeyError(f"no runtime helper {name!r}")
        wanted.add(name)
        todo += [n for n in definitions[name][1] if n in definitions and n != name]
    ordered = [name for name in definitions if name in wanted]
    imports = {IMPORTS[n] for name in ordered for n in definitions[name][1] if n in IMPORTS}
    return [definitions[name][0] for name in ordered], imports
