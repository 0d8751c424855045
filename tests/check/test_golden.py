"""Every bad spec gives exactly its golden diagnostics (see golden.py to regenerate)."""

from __future__ import annotations

import pytest

from .golden import bad_specs, render


@pytest.mark.parametrize("spec", bad_specs(), ids=lambda p: p.stem)
def test_bad_spec_matches_golden(spec):
    expected = spec.with_suffix(".out")
    assert expected.exists(), "no golden file; run python tests/check/golden.py"
    actual = render(spec)
    if spec.stem.startswith("warn_"):  # a finding check only warns about (a command refuses)
        assert "warning:" in actual and "error:" not in actual
    else:
        assert "error:" in actual, "a bad spec must produce at least one error"
    assert actual == expected.read_text(encoding="utf-8")


def test_corpus_is_large_enough():
    assert len(bad_specs()) >= 40
