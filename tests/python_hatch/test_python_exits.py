"""python(...) code that exits, or fails, as the command line reports it (issue 16 item 19): the
location starts the line, sys.exit() never ends a run silently or with 0, and a standard module
that is an attribute of its parent (os.path) is found."""

from __future__ import annotations

from lightdsl.analysis import analyze_text
from lightdsl.cli import main

SPEC = '''
    model Net {{
        layers {{
            linear(4, 4)
            {layer}
            linear(4, 2)
        }}
    }}

    data d {{
        inputs = [[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]]
        labels = [0, 1]
        batch_size = 2
    }}

    train {{
        model = Net
        data = d
        loss = cross_entropy
        max_steps = 2
        enable_progress_bar = false
        logger = none
        enable_checkpointing = false
    }}
    '''

EXITS = '''
from torch import nn


class ExitsInTraining(nn.Module):
    """Fine in the dry run (eval mode); sys.exit(0) in the first training step."""

    def forward(self, x):
        if self.training:
            raise SystemExit(0)
        return x
'''


def _spec(package, layer: str):
    return package.spec(SPEC.format(layer=layer))


def test_a_build_error_starts_the_line_with_its_location(package, capsys):
    spec = _spec(package, f'python("{package.name}.layers:Picky", size = 0)')
    assert main(["train", str(spec)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{spec}:4:16: error: python('{package.name}.layers:Picky'): "), err
    assert "error: " + str(spec) not in err


def test_sys_exit_0_in_a_layer_is_a_failed_run(package, capsys):
    (package.root / package.name / "exits.py").write_text(EXITS, encoding="utf-8")
    spec = _spec(package, f'python("{package.name}.exits:ExitsInTraining", shape = "same")')
    assert main(["train", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "error: lightdsl train did not finish: Python code called sys.exit(0)" in err, err


def test_sys_exit_at_import_says_so_where_the_spec_names_it(package, capsys):
    (package.root / package.name / "quits.py").write_text(
        "import sys\nsys.exit(3)\n\nclass Layer:\n    pass\n", encoding="utf-8")
    spec = _spec(package, f'python("{package.name}.quits:Layer", shape = "same")')
    assert main(["train", str(spec)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{spec}:4:16: error: python('{package.name}.quits:Layer'): "
                          f"importing {package.name}.quits failed: it called sys.exit(3)"), err


def test_a_standard_module_set_up_by_its_parent_is_found(tmp_path):
    text = SPEC.format(layer="relu()").replace("loss = cross_entropy",
                                               'loss = python("os.path:join")')
    analysis = analyze_text(text, str(tmp_path / "spec.lit"))
    assert [d.message for d in analysis.errors if "module" in d.message] == []
    missing = analyze_text(text.replace("os.path:join", "os.pathx:join"),
                           str(tmp_path / "spec.lit"))
    assert 'cannot find Python module "os.pathx"' in [d.message for d in missing.errors]
