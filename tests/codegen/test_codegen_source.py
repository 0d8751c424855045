"""Generated source is formatted, lint-clean, deterministic, lightdsl-free and injection-proof."""

from __future__ import annotations

import ast
import inspect
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightdsl.analysis import analyze_text
from lightdsl.codegen import generate, generate_file
from lightdsl.codegen.helpers import available
from lightdsl.codegen.printer import str_literal
from lightdsl.vocab import REGISTRY

from ..helpers.runner import run_code
from ..helpers.scripts import CASES, ROOT, case_id, ruff
from .deadcode import unused_definitions

TARGETS = ["torch", "lightning"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_ruff_format_and_check_clean(case, target, tmp_path):
    out = tmp_path / "generated.py"
    out.write_text(generate_file(str(case[0]), case[1], target).text, encoding="utf-8")
    formatted = ruff("format", "--isolated", "--diff", str(out), cwd=tmp_path)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    # laid out as ruff lays the code out from scratch, not only kept by its magic trailing
    # commas (a sum split as ``relu((a + b),)`` was stable under plain ruff format)
    scratch = ruff("format", "--isolated", "--config", "format.skip-magic-trailing-comma=true",
                   "--diff", str(out), cwd=tmp_path)
    assert scratch.returncode == 0, scratch.stdout
    checked = ruff("check", "--isolated", str(out), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_deterministic_and_free_of_lightdsl(case, target):
    first = generate_file(str(case[0]), case[1], target)
    assert generate_file(str(case[0]), case[1], target).text == first.text
    tree = ast.parse(first.text)
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if m.split(".")[0] == "lightdsl"]


def test_line_map_points_at_the_spec_lines():
    path = ROOT / "specs" / "statquest.lit"
    spec_line = next(i for i, line in enumerate(path.read_text().splitlines(), 1)
                     if line.strip().startswith("top "))
    code = generate_file(str(path))
    lines = code.text.splitlines()
    forward = next(i for i, line in enumerate(lines, 1) if "top = torch.relu" in line)
    assert code.line_map[forward] == spec_line
    assert lines[forward - 1].endswith(f"# statquest.lit:{spec_line}")


HOSTILE = [
    '"; __import__("os").system("echo pwned"); "',
    "'''\n__import__('os')\n'''",
    'a\nimport os\nos.system("x")',
    '\\" + __import__("os").getcwd() + "',
    "\r__import__('os')\x0c\u2028",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_stay_string_literals(value, tmp_path):
    text, path = json.dumps(value), json.dumps(value + ".csv")  # as spec string literals
    spec = f"""
model M {{
    layers {{ flatten()  linear(4, 2) }}
}}
data d {{
    source = csv({path}, label = {text}, delimiter = ",")
    batch_size = 2
}}
train {{
    model = M
    data = d
    loss = cross_entropy
    callbacks = [early_stopping(monitor = "train_loss")]
    logger = tensorboard(save_dir = {text}, name = {text})
}}
"""
    analysis = analyze_text(spec, str(tmp_path / "x.lit"))
    assert analysis.ok, analysis.diagnostics
    for target in TARGETS:
        source = generate(analysis, target=target).text
        tree = ast.parse(source)
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id in ("__import__", "exec", "eval")]
        assert not calls
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
        assert value in strings and f"{value}.csv" in strings


@given(st.text())
def test_str_literal_round_trips(text):
    literal = str_literal(text)
    assert ast.literal_eval(literal) == text
    assert "\n" not in literal and "\r" not in literal


def test_codegen_does_not_import_torch():
    code = ("import sys; from lightdsl.codegen import generate_file; "
            f"generate_file({str(ROOT / 'specs' / 'mnist_cnn.lit')!r}, target='lightning'); "
            "print('torch' in sys.modules)")
    result = run_code(code)
    assert result.stdout.strip() == "False", result.stderr


def test_every_vocabulary_target_is_printable():
    helpers = available()
    for kind in ("layer", "function", "loss", "optimizer", "scheduler", "metric", "source",
                 "transform", "split", "callback"):
        for entry in REGISTRY.kind(kind).values():
            name = entry.target.rsplit(".", 1)[1]
            printed = entry.target.startswith(("torch.", "torchmetrics."))
            assert printed or name in helpers, entry.name


def _resolve(target):
    import importlib

    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_omitted_arguments_are_torchs_defaults():
    """The generator leaves out what the spec did not write: that is only right where the
    vocabulary's default is torch's (else the entry lists the argument as always printed)."""
    torch = pytest.importorskip("torch")  # noqa: F841
    for kind in ("layer", "function", "loss", "optimizer", "scheduler"):
        for entry in REGISTRY.kind(kind).values():
            always = entry.python_always
            target = _resolve(entry.target)
            try:
                parameters = inspect.signature(target).parameters
            except (TypeError, ValueError):
                continue  # a builtin without a signature: torch.relu and friends
            for arg in entry.args:
                if arg.required or arg.name in always or arg.name not in parameters:
                    continue
                default = parameters[arg.name].default
                ours = tuple(arg.default) if isinstance(arg.default, list) else arg.default
                assert default == ours, f"{kind} {entry.name}: {arg.name}"


def test_cli_writes_stdout_and_files(tmp_path):
    from lightdsl.cli import main

    out = tmp_path / "sq.py"
    assert main(["codegen", str(ROOT / "specs" / "statquest.lit"), "-o", str(out)]) == 0
    assert out.read_text().startswith('"""BasicLightningTrain on doses')
    assert main(["codegen", str(tmp_path / "missing.lit")]) == 2
    assert main(["codegen", str(ROOT / "specs" / "statquest.lit"), "--run", "nope"]) == 2


def test_cli_reports_spec_errors(tmp_path, capsys):
    from lightdsl.cli import main

    bad = tmp_path / "bad.lit"
    bad.write_text("model M { layers { linear(2) } }\n")
    assert main(["codegen", str(bad)]) == 1
    assert "bad.lit" in capsys.readouterr().err


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_no_unused_function_or_class(case, target):
    """Every top-level def and class of a script is reached from its module-level code
    (symbol tables: a parameter named ``split`` does not keep the ``split`` helper alive, which
    fooled the generator once and fools vulture's name-based count), and vulture finds no
    unused function, class or import and no unreachable code."""
    text = generate_file(str(case[0]), case[1], target).text
    assert unused_definitions(text) == {}
    vulture = pytest.importorskip("vulture")  # the dev extra has it
    scanner = vulture.Vulture()
    scanner.scan(text, filename="generated.py")
    unused = [f"{item.first_lineno}: {item.message}" for item in scanner.get_unused_code()
              if item.typ in ("function", "class", "import", "unreachable_code")]
    assert unused == []
