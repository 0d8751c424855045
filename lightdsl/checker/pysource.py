"""Finding a user's Python module and the names it defines, without importing it.

``lightdsl check`` must not import the user's module (it may import torch, or be slow, or have
side effects). The module is located with importlib's path finder, the spec's folder first and
then ``sys.path`` (the same order the builder imports with), and its source is read with
:mod:`ast`: a class, function or variable defined at top level, or a name imported there.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import pkgutil
import sys
from dataclasses import dataclass, field

from ..frontend.files import read_head

MODULE_LIMIT = 16 * 2**20  # bytes of a user's Python module that check reads for its names


@dataclass
class Found:
    """A located module: ``origin`` its file (None for a namespace package or a built-in),
    ``in_spec_dir`` whether it was found in the spec's folder."""

    origin: str | None
    in_spec_dir: bool
    locations: list[str] = field(default_factory=list)  # where its submodules are, if a package


class NotFound(Exception):
    """``module`` (the dotted prefix that is missing) cannot be found; ``nearby`` are the
    module names where it was looked for, for did-you-mean."""

    def __init__(self, module: str, nearby: list[str]):
        super().__init__(module)
        self.module, self.nearby = module, nearby


def find_module(dotted: str, spec_dir: str) -> Found:
    """Locate ``dotted`` (``mypkg.layers``) without running any of its code (not even its
    package's ``__init__``); raises :class:`NotFound` naming the first missing part.

    A module that is no file of a package (``os.path``: ``os`` makes it an attribute,
    ``posixpath``) is found where it is already imported or in the standard library."""
    try:
        return _find_in_files(dotted, spec_dir)
    except NotFound:
        spec = _imported_or_stdlib(dotted)
        if spec is None:
            raise
        return Found(spec.origin if spec.has_location else None, False,
                     list(spec.submodule_search_locations or []))


def _imported_or_stdlib(dotted: str):
    """The spec of ``dotted`` if it is imported already (its parent ran at start-up: no user
    code runs) or its top level is a standard-library module, else None."""
    if dotted not in sys.modules and dotted.split(".")[0] not in sys.stdlib_module_names:
        return None
    try:
        return importlib.util.find_spec(dotted)
    except (ImportError, ValueError):
        return None


def _find_in_files(dotted: str, spec_dir: str) -> Found:
    parts = dotted.split(".")
    spec = importlib.machinery.PathFinder.find_spec(parts[0], [spec_dir])
    in_spec_dir = spec is not None
    if spec is None:
        spec = _top_level(parts[0])
    if spec is None:
        raise NotFound(parts[0], _modules_in([spec_dir]))
    for index in range(1, len(parts)):
        locations = list(spec.submodule_search_locations or [])
        name = ".".join(parts[:index + 1])
        spec = importlib.machinery.PathFinder.find_spec(name, locations) if locations else None
        if spec is None:
            raise NotFound(name, [".".join(parts[:index] + [m]) for m in _modules_in(locations)])
    origin = spec.origin if spec.has_location else None
    return Found(origin, in_spec_dir, list(spec.submodule_search_locations or []))


def _top_level(name: str):
    """A top-level module on sys.path or built in; finding it imports nothing."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _modules_in(locations: list[str]) -> list[str]:
    return [m.name for m in pkgutil.iter_modules(locations)]


@dataclass
class Names:
    """What a module's source defines at top level: name -> "class", "function", "value" or
    "imported"; ``open`` when it may define more than can be seen (``from x import *``, a
    module ``__getattr__``, or no Python source to read)."""

    kinds: dict[str, str] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    open: bool = False


def module_names(origin: str | None) -> Names:
    """The top-level names of the module whose source is ``origin``; raises SyntaxError or
    OSError when it cannot be read."""
    if origin is None or not origin.endswith(".py"):
        return Names(open=True)
    source = read_head(origin, MODULE_LIMIT + 1)  # check never reads a file unbounded
    if len(source) > MODULE_LIMIT:
        return Names(open=True)  # too big to read: its names are not checked
    tree = ast.parse(source.decode("utf-8"), filename=origin)
    names = Names()
    _collect(tree.body, names)
    if "__getattr__" in names.kinds:
        names.open = True
    return names


def _collect(body: list[ast.stmt], names: Names) -> None:
    for node in body:
        if isinstance(node, ast.ClassDef):
            names.kinds[node.name] = "class"
            names.classes[node.name] = node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.kinds[node.name] = "function"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    names.open = True
                else:
                    names.kinds[alias.asname or alias.name.split(".")[0]] = "imported"
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        names.kinds.setdefault(leaf.id, "value")
        elif isinstance(node, (ast.If, ast.Try, ast.With)):  # `try: import x` and friends
            for block in _blocks(node):
                _collect(block, names)


def _blocks(node) -> list[list[ast.stmt]]:
    blocks = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
    return blocks + [handler.body for handler in getattr(node, "handlers", [])]


def init_parameters(cls: ast.ClassDef) -> tuple[list[str], list[str]] | None:
    """(keyword names, required names) of a class's own ``__init__``, or None when they
    cannot be known from the source (inherited, decorated class, ``**kwargs``)."""
    if cls.decorator_list:
        return None
    init = next((s for s in cls.body if isinstance(s, ast.FunctionDef)
                 and s.name == "__init__"), None)
    if init is None or init.args.kwarg is not None:
        return None
    args = init.args
    positional = [a.arg for a in args.posonlyargs + args.args][1:]  # without self
    defaults = len(args.defaults)
    required = positional[:len(positional) - defaults] if defaults else positional
    required += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    return positional + [a.arg for a in args.kwonlyargs], required


def on_sys_path(directory: str) -> bool:
    """Whether ``directory`` is already searched by a plain ``import``."""
    import os

    real = os.path.realpath(directory)
    return any(os.path.realpath(p or os.getcwd()) == real for p in sys.path)
