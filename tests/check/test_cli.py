"""`lightdsl check` as a user runs it: exit codes, formats, globs, and no torch import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lightdsl.cli import main

ROOT = Path(__file__).resolve().parents[2]
THREE_MISTAKES = """\
model Net {
    layers {
        flatten()
        linear(700, 10)
    }
}

data digits8 {
    source = digits()
    batch_size = 0
}

train {
    model = Net
    data = digits8
    loss = cross_entropy
    optimizer = sgd(lr = 0.1, momentun = 0.9)
}
"""


@pytest.fixture
def three(tmp_path):
    path = tmp_path / "three.lit"
    path.write_text(THREE_MISTAKES)
    return path


def test_three_separate_mistakes_are_all_reported(three, capsys):
    assert main(["check", str(three)]) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if ": error: " in line]
    assert [line.split(": error: ")[0].rsplit(":", 2)[1:] for line in lines] == [
        ["4", "16"], ["10", "18"], ["17", "31"]]
    assert "but 64 arrive" in lines[0]
    assert 'did you mean "momentum"?' in lines[2]


def test_json_format_has_structured_fields(three, capsys):
    main(["check", "--format", "json", str(three)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["severity"] for r in records} == {"error"}
    first = records[0]
    assert (first["line"], first["column"], first["end_line"], first["end_column"]) == (4, 16, 4, 19)
    assert first["code"] == "shape" and first["file"] == str(three)


def test_github_format_is_workflow_annotations(three, capsys):
    main(["check", "--format", "github", str(three)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"::error file={three},line=4,col=16,endLine=4,endColumn=19,")


def test_examples_pass_and_globs_expand(capsys):
    assert main(["check", str(ROOT / "specs" / "*.lit")]) == 0
    assert "Success: no errors in" in capsys.readouterr().out


def test_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.lit")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_glob_matching_nothing_and_directories_are_usage_errors(tmp_path, capsys):
    assert main(["check", str(tmp_path / "*.lit")]) == 2
    assert main(["check", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_bad_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--format", "xml", "x.lit"])
    assert exit_info.value.code == 2


def test_undecodable_bytes_are_diagnostics_not_a_crash(tmp_path, capsys):
    path = tmp_path / "binary.lit"
    path.write_bytes(b"model \xff\xfe {\x00}")
    assert main(["check", str(path)]) == 1
    assert "error:" in capsys.readouterr().out


def test_check_never_imports_torch():
    code = ("import sys; from lightdsl.cli import main; "
            f"rc = main(['check', {str(ROOT / 'specs' / '*.lit')!r}]); "
            "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "lightdsl", "check", str(ROOT / "specs")],
                            check=False, capture_output=True, text=True)
    assert result.returncode == 2 and "is a directory" in result.stderr
