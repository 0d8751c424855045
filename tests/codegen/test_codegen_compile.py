"""A run that compiles (``compile = true``, ``compile(mode = ..., dynamic = ...)``): both
targets' scripts call ``model.compile(...)`` -- torch.compile in place, as lightdsl's trainer
does, so their checkpoints keep the plain names -- and differ from the same run without
compile by exactly that (issue 18 item 5). tests/codegen/specs/compiled.lit is in the corpus
the other codegen tests lint, import and compare."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from lightdsl.codegen import generate_file

SPEC = Path(__file__).resolve().parent / "specs" / "compiled.lit"
CALLS = {"flag": "model.compile()",
         "options": 'model.compile(mode="max-autotune", dynamic=False)'}


def _without_compile(tmp_path: Path) -> Path:
    """compiled.lit without its compile lines (the same spec lines numbered alike, blank)."""
    text = re.sub(r"^    compile.*$", "", SPEC.read_text(), flags=re.MULTILINE)
    plain = tmp_path / SPEC.name
    plain.write_text(text)
    return plain


@pytest.mark.parametrize("target", ["torch", "lightning"])
@pytest.mark.parametrize("run", list(CALLS))
def test_the_script_compiles_the_model_in_place_and_nothing_else_changes(run, target, tmp_path):
    out = str(tmp_path / "generated.py")
    compiled = generate_file(str(SPEC), run, target, out).text.splitlines()
    plain = generate_file(str(_without_compile(tmp_path)), run, target, out).text.splitlines()
    changes = [line for line in difflib.unified_diff(plain, compiled, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    spec_line = next(i for i, line in enumerate(SPEC.read_text().splitlines(), 1)
                     if line.startswith("    compile") and _in_run(i, run))
    assert changes == [
        f"+    # compiled.lit:{spec_line} compile: torch.compile in place, the weights keep their"
        + " names",
        f"+    {CALLS[run]}"]
    at = compiled.index(f"    {CALLS[run]}")
    assert compiled[at - 2].lstrip().startswith("model = Net(")  # right after the model


def _in_run(line: int, run: str) -> bool:
    """Whether spec line ``line`` is inside ``train run { ... }``."""
    lines = SPEC.read_text().splitlines()
    start = next(i for i, text in enumerate(lines, 1) if text.startswith(f"train {run} "))
    end = next(i for i, text in enumerate(lines, 1) if i > start and text == "}")
    return start < line < end


def test_lightnings_trainer_is_not_given_compile():
    text = generate_file(str(SPEC), "flag", "lightning").text
    settings = next(line for line in text.splitlines() if "settings = {" in line)
    assert '"compile"' not in settings and '"max_epochs": 2' in settings
    assert "trainer = pl.Trainer(**settings)" in text
