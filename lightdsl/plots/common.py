"""Shared by every picture: importing matplotlib (headless) and writing PNG/SVG files."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import LightdslError, UsageError
from ..outputs import prepare_file, writing

FORMATS = ("png", "svg", "pdf")


def require_matplotlib():
    """``matplotlib.pyplot`` on the non-interactive Agg backend, or a clear error."""
    try:
        import matplotlib
    except ImportError:
        raise LightdslError("pictures need matplotlib, which is not installed",
                            hint="pip install lightdsl[plot]") from None
    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def output_paths(path: str | os.PathLike, formats=("png",)) -> list[Path]:
    """The files to write: ``path`` with each format's suffix. A suffix on ``path`` adds its
    format first (``x.svg`` with the default formats writes x.svg and x.png)."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in FORMATS:
        formats = [suffix, *formats]
        path = path.with_suffix("")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"cannot write pictures as {', '.join(unknown)}; use png, svg or pdf")
    return [path.with_name(f"{path.name}.{fmt}") for fmt in dict.fromkeys(formats)]


def save_figure(fig, path, formats=("png",), dpi: float = 100) -> list[str]:
    """Write ``fig`` once per format, close it, and return the paths written."""
    plt = require_matplotlib()
    written = []
    try:
        for target in output_paths(path, formats):
            prepare_file(target)
            with writing(target):
                fig.savefig(target, dpi=dpi, bbox_inches="tight")
            written.append(str(target))
    finally:
        plt.close(fig)
    return written
