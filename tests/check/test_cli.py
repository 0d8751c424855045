"""`lightdsl check` as a user runs it: exit codes, formats, globs, and no torch or pydantic
import."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lightdsl.cli import main
from tests.helpers.runner import TIMEOUT_S, run_code, run_lightdsl

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


# what `check specs/*.lit` must not load: heavy libraries, lightdsl's other commands and what
# only they use (each command's module is imported when that command runs), and the checkers
# of what none of these specs has: a sweep block, python(...), --set, a syntax error (issue 18)
NOT_FOR_CHECK = ("torch", "pydantic", "pydantic_core", "mlflow", "optuna",
                 "lightdsl.commands.train", "lightdsl.commands.fmt", "lightdsl.commands.sweep",
                 "lightdsl.frontend.formatting", "lightdsl.trainer", "lightdsl.sweep",
                 "lightdsl.codegen", "lightdsl.lsp", "lightdsl.api",
                 "lightdsl.checker.python", "lightdsl.frontend.syntax_errors")
# what only a spec with a sweep block needs (specs/iris_sweep.lit has one)
FOR_SWEEPS_ONLY = ("lightdsl.space", "lightdsl.overrides")


def _imported_by_check(pattern: str, modules: tuple[str, ...]) -> list[str]:
    code = ("import json, sys; from lightdsl.cli import main; "
            f"rc = main(['check', {str(ROOT / 'specs' / pattern)!r}]); "
            f"print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules))); sys.exit(rc)")
    result = run_code(code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_never_imports_torch_or_pydantic():
    """Start-up is most of what `check` costs: it loads neither torch nor pydantic, mlflow or
    optuna, nor the other commands' code (issues 17, 18)."""
    assert _imported_by_check("*.lit", NOT_FOR_CHECK) == []


def test_the_sweep_checker_is_imported_only_for_a_sweep():
    assert _imported_by_check("statquest.lit", FOR_SWEEPS_ONLY) == []
    assert _imported_by_check("iris_sweep.lit", FOR_SWEEPS_ONLY) == sorted(FOR_SWEEPS_ONLY)


def test_each_command_module_registers_the_name_its_table_entry_says():
    """`lightdsl X` imports the module COMMANDS names for X, so that module must add X."""
    import argparse

    from lightdsl.commands import COMMANDS, register

    for name in COMMANDS:
        commands = argparse.ArgumentParser().add_subparsers()
        register(commands, name)
        assert list(commands.choices) == [name]


def test_help_lists_every_command_in_table_order(capsys):
    from lightdsl.commands import COMMANDS

    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    listed = re.findall(r"^    (\S+)", capsys.readouterr().out, re.MULTILINE)
    assert listed == list(COMMANDS)


def test_an_unknown_command_is_told_every_command(capsys):
    from lightdsl.commands import COMMANDS

    with pytest.raises(SystemExit) as stop:
        main(["chek", "spec.lit"])
    assert stop.value.code == 2
    assert f"(choose from {', '.join(map(repr, COMMANDS))})" in capsys.readouterr().err


def test_python_dash_m_entry_point():
    result = run_lightdsl("check", ROOT / "specs")
    assert result.returncode == 2 and "is a directory" in result.stderr


# ---- --set overrides are located in the override itself (issue 11 item 14) ----------------

DIGITS = str(ROOT / "specs" / "digits_mlp.lit")
COMMANDS = {  # every command that takes --set, with the arguments it needs besides
    "train": [], "lr-find": [], "graph": ["-o", "x.dot"], "tune-batch-size": [],
    "plot": ["--ckpt", "last"], "evaluate": ["--ckpt", "last"],
    "predict": ["--ckpt", "last", "--input", "x.csv"],
    "export": ["--ckpt", "last", "--format", "torchscript", "--output", "x.pt"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_bad_set_value_is_located_in_the_override(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main([command, DIGITS, *COMMANDS[command], "--set", "train.max_epochs= 0"])
    err = capsys.readouterr().err
    assert code == 2
    message = '"max_epochs": expected an integer >= 1 or `-1` or `none`, got 0'
    assert err.splitlines() == [
        "error: --set train.max_epochs= 0 is not valid:",
        f"--set:1:19: error: {message}  [type]",
        "    train.max_epochs= 0",
        "                      ^"]


@pytest.mark.parametrize("override,location,caret", [
    # found by the check of the whole spec, after the override is in place
    ("train.optimizer=sgd(lr=0.1, momentun=0.9)", "--set:1:29:", 28 * " " + "^~~~~~~~"),
    ("train.model=Nett", "--set:1:13:", 12 * " " + "^~~~"),
    ("train.optimizer=sgd(lr=-1)", "--set:1:24:", 23 * " " + "^~"),
    # found while reading the override
    ("train.max_epochs=[1,", "--set:1:21:", 20 * " " + "^"),
    ("data.batch_size=2**70", "--set:1:17:", 16 * " " + "^~~~~"),
    ("train.precision=bf16-mix", "--set:1:17:", 16 * " " + "^~~~~~~~"),
])
def test_override_errors_point_at_the_override_text(override, location, caret, capsys):
    assert main(["graph", DIGITS, "--set", override]) in (1, 2)
    lines = capsys.readouterr().err.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(location))
    assert lines[header + 1] == f"    {override}"
    assert lines[header + 2] == f"    {caret}"
    assert "digits_mlp.lit:1:" not in "\n".join(lines)


def test_shortcut_option_is_located_in_its_argument(capsys):
    assert main(["train", DIGITS, "--devices", "0"]) == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        '--devices:1:1: error: "devices": expected an integer >= 1, got 0  [type]', "    0",
        "    ^"]


def test_readme_set_examples_are_accepted():
    """Every `--set KEY=VALUE` the README shows is a valid override (issue 11 item 15)."""
    from lightdsl.api import load

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    overrides = re.findall(r"--set (\S+)", readme)
    assert "train.precision=bf16-mixed" in overrides
    experiment = load(DIGITS, overrides=overrides)
    values = {**experiment.run.settings.values, **experiment.run.data.settings.values}
    for override in overrides:
        key, _, value = override.partition("=")
        assert str(values[key.split(".")[-1]]) == value


# ---- output that a spec cannot forge (issue 11 item 17) ------------------------------------

def test_github_format_escapes_properties_and_messages(tmp_path, capsys):
    path = tmp_path / "a,b:c.lit"
    path.write_text('model M { layers { linear(1, 1) } }\ndata D { inputs = [[1.0]]\n'
                    ' labels = [[1.0]] }\ntrain { model = M\n data = D\n loss = mse\n'
                    ' callbacks = [checkpoint(monitor = "val_x\\n::error file=x::forged%")] }\n')
    assert main(["check", "--format", "github", str(path)]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"::error file={str(tmp_path).replace(':', '%3A')}/a%2Cb%3Ac.lit,")
    assert 'monitors "val_x\\n::error file=x::forged%25", ' in line


def test_text_format_escapes_control_characters(tmp_path, capsys):
    path = tmp_path / "forge.lit"
    path.write_text('model M { layers { linear(1, 1) } }\ndata D { inputs = [[1.0]]\n'
                    ' labels = [[1.0]] }\ntrain { model = M\n data = D\n loss = mse\n'
                    ' callbacks = [checkpoint(monitor = "val_\\n::error::x\\x1b[2J")] }\n')
    assert main(["check", "-q", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4  # message, source line, caret, hint
    assert 'monitors "val_\\n::error::x\\x1b[2J", ' in lines[0]


def test_diagnostics_come_before_the_summary_in_one_pipe(three):
    """`lightdsl check spec.lit 2>&1 | less`: the summary (stderr) after the diagnostics
    (stdout), each on its own line, though stdout is block-buffered in a pipe."""
    import subprocess
    import sys

    from tests.helpers.runner import child_env
    env = child_env()
    env.pop("PYTHONUNBUFFERED")  # as in a user's shell: stdout block-buffered in a pipe
    done = subprocess.run([sys.executable, "-m", "lightdsl", "check", str(three)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env, timeout=TIMEOUT_S, check=False)
    lines = done.stdout.splitlines()
    assert done.returncode == 1
    assert lines[-1] == "Found 3 errors in 1 file (checked 1 file)"
    assert not any("Found" in line for line in lines[:-1])
