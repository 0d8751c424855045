"""Golden diagnostics: each tests/check/bad/NAME.lit has its expected output in NAME.out.

Regenerate every expected file after a deliberate change, then review the diff:

    python tests/check/golden.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
BAD = HERE / "bad"


def render(spec: Path) -> str:
    """What `lightdsl check` prints for a spec, with the path relative to tests/check."""
    from lightdsl.analysis import analyze_text
    from lightdsl.frontend.diagnostics import render_text

    relative = spec.relative_to(HERE).as_posix()
    cwd = os.getcwd()
    os.chdir(HERE)  # relative data paths in the specs resolve next to them, wherever run from
    try:
        # downloads count as possible, so the output does not depend on torchvision being here
        with mock.patch("lightdsl.checker.data.torchvision_installed", lambda: True):
            analysis = analyze_text(spec.read_text(encoding="utf-8"), relative)
    finally:
        os.chdir(cwd)
    return "".join(render_text(d, analysis.source) + "\n" for d in analysis.diagnostics)


def bad_specs() -> list[Path]:
    return sorted(BAD.glob("*.lit"))


def main() -> int:
    sys.path.insert(0, str(HERE.parent.parent))
    for spec in bad_specs():
        spec.with_suffix(".out").write_text(render(spec), encoding="utf-8")
    print(f"regenerated {len(bad_specs())} golden files in {BAD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
