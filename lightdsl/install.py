"""How to install an optional extra of lightdsl, said the way that works for this installation.

A wheel install takes ``pip install 'lightdsl[vision]'``; an editable install (``pip install
-e .``, recorded in the distribution's ``direct_url.json``) or a source checkout run without
installing needs ``pip install -e '<checkout>[vision]'`` instead: the first command would fetch
a second lightdsl from PyPI over the checkout. Torch-free, and nothing is imported to find out
whether a package is installed (``importlib.util.find_spec`` only).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (that could import torch)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def extra_command(extra: str) -> str:
    """``pip install 'lightdsl[extra]'``, or ``pip install -e '<checkout>[extra]'`` where
    lightdsl runs from a checkout (``.`` when that is the working folder)."""
    root = source_checkout()
    if root is None:
        return f"pip install 'lightdsl[{extra}]'"
    return f"pip install -e '{_shown(root)}[{extra}]'"


def source_checkout() -> Path | None:
    """The checkout lightdsl is imported from: the folder of an editable install (by
    ``direct_url.json``) holding this package, or else a source tree (the package's parent
    with a ``pyproject.toml``); None for an ordinary install."""
    package = package_dir()
    editable = _editable_root()
    if editable is not None and package.is_relative_to(editable):
        return editable
    root = package.parent
    return root if (root / "pyproject.toml").is_file() else None


def package_dir() -> Path:
    """The folder of the lightdsl package being run."""
    return Path(__file__).resolve().parent


def _editable_root() -> Path | None:
    try:
        text = _direct_url_text()
        info = json.loads(text) if text else {}
    except (ValueError, OSError):
        return None
    if not isinstance(info, dict) or not (info.get("dir_info") or {}).get("editable"):
        return None
    url = urlparse(str(info.get("url", "")))
    return Path(unquote(url.path)).resolve() if url.scheme == "file" else None


def _direct_url_text() -> str | None:
    """The ``direct_url.json`` of the installed lightdsl distribution, if it has one: the
    first ``lightdsl-*.dist-info`` folder on ``sys.path``, found as importlib.metadata finds
    it, without importing importlib.metadata (20 ms, a seventh of what `check` costs)."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # not a folder (a zip file), or gone
            continue
        info = next((n for n in names if n.startswith("lightdsl-") and n.endswith(".dist-info")),
                    None)
        if info is not None:
            path = os.path.join(entry or ".", info, "direct_url.json")
            return Path(path).read_text(encoding="utf-8") if os.path.isfile(path) else None
    return None


def _shown(root: Path) -> str:
    """``root`` relative to the working folder when the working folder is inside it."""
    cwd = Path.cwd().resolve()
    return os.path.relpath(root, cwd) if cwd.is_relative_to(root) else str(root)
