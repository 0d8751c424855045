"""Copying helpers from :mod:`lightdsl.runtime` into a script, read as text.

``helper_sources(names)`` returns the source of the named functions and classes plus every
helper they call, in the order the modules define them, and the import lines they need. A
runtime module may import another's definitions (``from .runs import save_weights``): the copy
carries that definition instead of the import. Nothing here imports torch.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

RUNTIME = Path(__file__).parent.parent / "runtime"
# Module-level names of the runtime modules and the import line each needs.
IMPORTS = {"bisect": "import bisect", "csv": "import csv", "gzip": "import gzip",
           "math": "import math", "errno": "import errno", "os": "import os",
           "random": "import random", "re": "import re",
           "sys": "import sys", "time": "import time", "Path": "from pathlib import Path",
           "np": "import numpy as np", "torch": "import torch",
           "F": "import torch.nn.functional as F", "nn": "from torch import nn"}


@functools.lru_cache(maxsize=1)
def _definitions() -> dict[str, tuple[str, set[str]]]:
    """name -> (source, names it mentions), for each top-level def/class of the runtime
    modules (lightdsl/runtime/*.py in name order)."""
    found = {}
    for path in sorted(RUNTIME.glob("[!_]*.py")):
        text = path.read_text(encoding="utf-8")
        for node in ast.parse(text).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                if node.name in found:
                    raise ValueError(f"{node.name} is defined twice in the runtime modules")
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                found[node.name] = (ast.get_source_segment(text, node), names)
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
