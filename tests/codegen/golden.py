"""Golden generated scripts: for each specs/NAME.lit, the script `lightdsl codegen` writes for
each target, as tests/codegen/golden/NAME_TARGET.py (written there, so their SPEC_DIR leads
back to specs/ and they run in place). Every change to generated code shows in review.

Regenerate every golden script after a deliberate change, then review the diff:

    python tests/codegen/golden.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOLDEN = HERE / "golden"
TARGETS = ("torch", "lightning")


def golden_cases() -> list[tuple[Path, str]]:
    """(spec, target) for every example spec and both targets."""
    return [(spec, target) for spec in sorted((ROOT / "specs").glob("*.lit"))
            for target in TARGETS]


def golden_path(spec: Path, target: str) -> Path:
    return GOLDEN / f"{spec.stem}_{target}.py"


def render(spec: Path, target: str) -> str:
    """The script codegen writes for ``spec`` into its golden file's place."""
    from lightdsl.codegen import generate_file

    return generate_file(str(spec), None, target, str(golden_path(spec, target))).text


def main() -> int:
    sys.path.insert(0, str(ROOT))
    GOLDEN.mkdir(exist_ok=True)
    cases = golden_cases()
    for stale in set(GOLDEN.glob("*.py")) - {golden_path(*case) for case in cases}:
        stale.unlink()
    for spec, target in cases:
        golden_path(spec, target).write_text(render(spec, target), encoding="utf-8")
    print(f"regenerated {len(cases)} golden scripts in {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
