"""``compile = true`` and ``compile(mode = ..., dynamic = ...)`` in a train block, as ``lightdsl
check`` sees them (issue 18 item 5): values, did-you-mean, given twice; and what the run hands
the trainer."""

from __future__ import annotations

import pytest

from lightdsl.analysis import analyze_text
from lightdsl.run_settings import COMPILE_MODES, CompileOptions

SPEC = """model Net {
    layers {
        linear(2, 3)
    }
}

data points {
    inputs = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
    labels = [0, 1, 2, 1]
    batch_size = 2
}

train {
    model = Net
    data = points
    loss = cross_entropy
    LINES
}
"""
TRAIN_LINE = SPEC.splitlines().index("    LINES") + 1  # the spec line the first LINES are on


def check(*lines: str):
    """The analysis of SPEC with ``lines`` in its train block."""
    return analyze_text(SPEC.replace("LINES", "\n    ".join(lines)), "spec.lit")


def errors(*lines: str) -> list[tuple[int, int, str, str | None]]:
    """(line, column, message, hint) of each error."""
    return [(d.span.line, d.span.column, d.message, d.hint)
            for d in check(*lines).diagnostics if d.severity == "error"]


def test_compile_true_and_compile_call_check_clean():
    for lines in (["compile = true"], ["compile = false"], ["compile()"],
                  ['compile(mode = "max-autotune", dynamic = false)'],
                  ["compile(mode = reduce-overhead, dynamic = none)"]):
        assert errors(*lines) == [], lines


@pytest.mark.parametrize("mode", COMPILE_MODES)
def test_every_mode_of_torch_compile_is_accepted(mode):
    run = check(f'compile(mode = "{mode}")').program.runs["default"]
    assert run.compile.values["mode"] == mode


def test_a_misspelt_mode_is_an_error_with_did_you_mean():
    ((line, column, message, _),) = errors('compile(mode = "max-autotun")')
    assert (line, column) == (TRAIN_LINE, 20)
    assert '"max-autotun"' in message and 'did you mean "max-autotune"?' in message
    assert all(f"`{mode}`" in message for mode in COMPILE_MODES)


def test_dynamic_takes_true_false_or_none():
    ((_, column, message, _),) = errors("compile(dynamic = maybe)")
    assert column == 23 and "expected true or false or `none`, got maybe" in message
    ((_, _, message, _),) = errors("compile = 1")
    assert '"compile": expected true or false, got 1' in message


def test_an_unknown_compile_option_is_an_error():
    ((_, _, message, _),) = errors('compile(backend = "eager")')
    assert "backend" in message


def test_compile_given_twice():
    ((line, column, message, _),) = errors("compile()", 'compile(mode = "max-autotune")')
    assert (line, column, message) == (TRAIN_LINE + 1, 5, "compile is given twice")


def test_the_setting_and_the_call_together_are_one_too_many():
    # the call's line is reported, with the setting's value, and how to keep one
    ((line, column, message, hint),) = errors("compile = false", 'compile(mode = "default")')
    assert (line, column) == (TRAIN_LINE + 1, 5)
    assert message == "compile is given twice: `compile = false` and `compile(...)`"
    assert "keep one" in hint


def test_lr_find_and_compile_are_separate_statements():
    run = check("lr_find(num_training = 5)", "compile(dynamic = true)").program.runs["default"]
    assert run.lr_find.values["num_training"] == 5 and run.compile.values["dynamic"] is True


def _trainer_compile(*lines: str):
    """The ``compile`` the run's Trainer is given (from the spec; the Trainer's rule applied)."""
    from lightdsl.api import Experiment
    from lightdsl.run_settings import SETTING

    analysis = check(*lines)
    kwargs = Experiment(analysis, analysis.program.runs["default"]).trainer_kwargs()
    return SETTING["compile"].rule.check("compile", kwargs.get("compile", False))


def test_what_the_trainer_is_given():
    assert _trainer_compile() is None
    assert _trainer_compile("compile = false") is None
    assert _trainer_compile("compile = true") == CompileOptions("default", None)
    assert _trainer_compile('compile(mode = "max-autotune", dynamic = false)') == \
        CompileOptions("max-autotune", False)


def test_set_compile_on_the_command_line_replaces_the_specs_compile_call(tmp_path):
    import lightdsl

    spec = tmp_path / "spec.lit"
    spec.write_text(SPEC.replace("LINES", 'compile(mode = "max-autotune")'))
    for override, expected in (("train.compile=false", False), ("train.compile=true", True)):
        experiment = lightdsl.load(str(spec), overrides=[override])
        assert experiment.run.compile is None
        assert experiment.trainer_kwargs()["compile"] is expected
    assert lightdsl.load(str(spec)).trainer_kwargs()["compile"] == {"mode": "max-autotune",
                                                                     "dynamic": None}
