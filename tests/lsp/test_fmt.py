"""``lightdsl fmt``: one layout, comments kept, the same tree, idempotent; the CLI's modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightdsl.cli import main
from lightdsl.frontend.formatting import FormatError, format_text, parse_strict, same_tree
from lightdsl.frontend.source import SourceFile

from ..helpers.runner import run_lightdsl

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted([*ROOT.glob("specs/**/*.lit"), *ROOT.glob("tests/**/*.lit")])


def _tree(text: str):
    return parse_strict(SourceFile(text))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_spec_and_golden_file_round_trips(path):
    text = path.read_text()
    try:
        once = format_text(text)
    except FormatError:  # the golden files of syntax errors: fmt refuses them
        with pytest.raises(FormatError):
            _tree(text)
        return
    assert same_tree(_tree(once), _tree(text))
    assert format_text(once) == once
    assert text.count("#") <= once.count("#")  # every comment kept


def test_the_files_checked_are_many():
    assert len(SPECS) > 100 and sum(p.parent.name == "specs" for p in SPECS) >= 9


def test_the_example_specs_are_fmt_clean(capsys):
    examples = sorted(str(p) for p in ROOT.glob("specs/*.lit"))
    assert len(examples) >= 9
    assert main(["fmt", "--check", *examples]) == 0, capsys.readouterr().out
    check = (ROOT / "Makefile").read_text().split("\ncheck:")[1].split("\n\n")[0]
    assert "$(BIN)/lightdsl fmt --check specs/*.lit" in check  # make check keeps them so


def test_layout_spaces_aligns_and_drops_redundant_parentheses():
    text = ("model  Net( a=1,b = 2 ,) {\n  param w = 1.70 frozen\n  param bb = -0.5 frozen\n"
            "  l1=linear(a,b)\n  long_name = linear(b, (a+b)*2)\n"
            "  forward(x) { h = l1(x) + -(2) ** 2 ** (w) + ((-2)) ** 2\n return long_name((h)) }\n}\n")
    assert format_text(text) == (
        "model Net(a = 1, b = 2) {\n"
        "    param w = 1.70  frozen\n"
        "    param bb = -0.5 frozen\n"
        "    l1        = linear(a, b)\n"
        "    long_name = linear(b, (a + b) * 2)\n"
        "    forward(x) {\n"
        "        h = l1(x) + -2 ** 2 ** w + (-2) ** 2\n"
        "        return long_name(h)\n"
        "    }\n"
        "}\n")


def test_comments_stay_where_they_were():
    text = ("# head\n\nmodel Net {   # after the brace\n    # before layers\n    layers {\n"
            "        linear(4, 2)       # trailing\n        relu()             # aligned\n"
            "    }\n    # at the end\n}  # after the model\n\n# tail\n")
    assert format_text(text) == text
    # a comment right after a definition is set off by a blank line, as definitions are
    assert format_text(text.replace("\n\n# tail", "\n# tail")) == text


def test_a_comment_inside_a_statement_keeps_that_statement_as_written():
    text = "data d {\n  labels = [1, 2,   # two\n    3]\n  batch_size=4\n}\n"
    assert format_text(text) == ("data d {\n    labels = [1, 2,   # two\n      3]\n"
                                 "    batch_size = 4\n}\n")


def test_long_calls_wrap_under_their_bracket():
    items = ", ".join(f"{i}.0" for i in range(40))
    out = format_text(f"data d {{\n    inputs = [{items}]\n}}\n")
    lines = out.splitlines()
    assert max(map(len, lines)) <= 100 and len(lines) > 3
    assert all(line.startswith(" " * len("    inputs = [")) for line in lines[2:-1])


def _run(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_lists_what_would_change_and_changes_nothing(tmp_path, capsys):
    messy, clean = tmp_path / "messy.lit", tmp_path / "clean.lit"
    messy.write_text("model Net{layers{relu()}}\n")
    clean.write_text("model Net {\n    layers {\n        relu()\n    }\n}\n")
    code, out, err = _run(["fmt", "--check", str(tmp_path / "*.lit")], capsys)
    assert code == 1 and out == f"would reformat {messy}\n"
    assert "1 file would be reformatted, 1 file left unchanged" in err
    assert messy.read_text() == "model Net{layers{relu()}}\n"
    assert _run(["fmt", "--check", str(clean)], capsys)[0] == 0


def test_fmt_rewrites_in_place_keeping_the_mode(tmp_path, capsys):
    path = tmp_path / "spec.lit"
    path.write_text("model Net{layers{relu()}}\n")
    path.chmod(0o640)
    code, _, err = _run(["fmt", str(path)], capsys)
    assert code == 0 and f"reformatted {path}" in err
    assert path.read_text() == "model Net {\n    layers {\n        relu()\n    }\n}\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.lit"]  # no temporary left
    assert _run(["fmt", str(path)], capsys)[0] == 0


def test_a_file_that_does_not_parse_is_reported_and_left_alone(tmp_path, capsys):
    path = tmp_path / "broken.lit"
    path.write_text("model Net {\n    layers {\n")
    code, _, err = _run(["fmt", str(path)], capsys)
    assert code == 1 and f"{path}:2:13: error:" in err and "with syntax errors" in err
    assert path.read_text() == "model Net {\n    layers {\n"


def test_stdin_to_stdout_for_editors():
    done = run_lightdsl("fmt", "-", cwd=ROOT, input="train{max_epochs=1}")
    assert done.returncode == 0 and done.stdout == "train {\n    max_epochs = 1\n}\n"
