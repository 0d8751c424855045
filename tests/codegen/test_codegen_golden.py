"""Every example spec generates exactly its golden script, per target (see golden.py to
regenerate them after a deliberate change)."""

from __future__ import annotations

import ast

import pytest

from lightdsl.codegen import generate_file
from lightdsl.codegen.helpers import available
from lightdsl.codegen.script import HELPERS_BANNER

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


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_reader_meets_the_model_first_and_the_copied_helpers_last(case):
    """The model class, then the script's own functions up to main() and command_line(), then
    the helpers copied from the runtime under their banner, then the __main__ block."""
    generated = generate_file(str(case[0]), None, case[1])
    tree = ast.parse(generated.text)
    defined = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    own = [node.name for node in defined if node.name not in available()]
    copied = [node for node in defined if node.name in available()]
    model = own.index(generated.model_call.split("(")[0])
    # the classes of the models it uses as layers come first, then it, then load_data()
    assert all(isinstance(node, ast.ClassDef) for node in defined[: model + 1])
    assert own[model + 1] == "load_data"
    assert [node.name for node in defined[: len(own)]] == own  # no helper among them
    assert "main" in own[-2:]  # main(), then command_line() where there is one
    lines = generated.text.splitlines()
    banner = lines.index(HELPERS_BANNER[1])
    assert lines[banner - 1 : banner + len(HELPERS_BANNER) - 1] == HELPERS_BANNER
    assert banner > defined[len(own) - 1].end_lineno and banner < copied[0].lineno
    last = tree.body[-1]
    assert isinstance(last, ast.If) and ast.unparse(last.test) == "__name__ == '__main__'"
