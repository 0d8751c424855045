"""Every example spec generates exactly its golden script, per target (see golden.py to
regenerate them after a deliberate change)."""

from __future__ import annotations

import pytest

from .golden import GOLDEN, golden_cases, golden_path, render

CASES = golden_cases()


def _id(case) -> str:
    return golden_path(*case).stem


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_generated_script_matches_golden(case):
    expected = golden_path(*case)
    assert expected.exists(), "no golden script; run python tests/codegen/golden.py"
    assert render(*case) == expected.read_text(encoding="utf-8"), (
        f"{expected.name} differs; if the change is deliberate, run "
        "python tests/codegen/golden.py and review the diff")


def test_no_stale_golden_scripts():
    assert sorted(GOLDEN.glob("*.py")) == sorted(golden_path(*case) for case in CASES)
    assert len(CASES) == 18  # 9 example specs, each for both targets
