"""The static check of a sweep: each point through the checker, located errors, bounded."""

from __future__ import annotations

import time

from lightdsl.analysis import analyze_file, analyze_text
from lightdsl.checker import check
from lightdsl.frontend.diagnostics import Reporter
from lightdsl.frontend.formatting import format_text
from lightdsl.space import apply_point

from ..helpers.runner import run_code
from .helpers import write_spec

HEADS = """
model Net(hidden = 16, heads = 4) {
    up   = linear(4, hidden)
    attn = multihead_attention(hidden, heads)
    head = linear(hidden, 3)
    forward(x) { return head(mean(attn(up(x)), dim = 1)) }
}
data d {
    inputs = [[[1.0, 2.0, 3.0, 4.0]], [[1.0, 2.0, 3.0, 4.0]]]
    labels = [0, 2]
    batch_size = 1
}
train { model = Net()  data = d  loss = cross_entropy }
"""


def _messages(analysis, severity="error"):
    return [d for d in analysis.diagnostics if d.severity == severity]


def test_impossible_int_values_are_named_with_a_step_hint():
    analysis = analyze_text(HEADS + "sweep { hidden = int(16, 65) }", "s.lit")
    [error] = _messages(analysis)
    assert error.code == "sweep-value" and error.span.line == 14
    assert error.message.startswith('"hidden": 37 of 50 values are impossible (17, 18, 19,')
    assert error.hint == "step = 4: hidden = int(16, 64, step = 4) keeps the possible values"
    assert "with hidden = 17" in error.notes[0].message and error.notes[0].span.line == 4


def test_a_stepped_range_of_possible_values_checks_clean():
    assert analyze_text(HEADS + "sweep { hidden = int(16, 64, step = 4) }", "s.lit").ok


def test_a_huge_range_is_sampled_fast_and_says_so():
    started = time.perf_counter()
    analysis = analyze_text(HEADS + "sweep { hidden = int(16, 1000000) }", "s.lit")
    assert time.perf_counter() - started < 2
    [warning] = _messages(analysis, "warning")
    assert warning.code == "sweep-sample" and "999985 values" in warning.message
    [error] = _messages(analysis)
    assert "of the 63 values checked are impossible" in error.message
    assert "step = 4" in error.hint


def test_values_that_only_fail_together_are_found():
    sweep = "sweep { hidden = choice(8, 10)  heads = choice(2, 4) }"
    spec = HEADS.replace("heads = 4)", "heads = 2)")  # each value checks with the other's
    [error] = _messages(analyze_text(spec + sweep, "s.lit"))
    assert error.message == ("1 of 4 combinations of this sweep's values are impossible, "
                             "e.g. hidden = 10, heads = 4")


def test_a_wrong_word_inside_a_choice_is_reported_where_it_is_written():
    sweep = "sweep {\n lr = loguniform(1e-4, 1e-1)\n optimizer = choice(adam(lr = lr), " \
            "sgd(lr = lr, momentm = 0.9)) }"
    [error] = _messages(analyze_text(HEADS + sweep, "s.lit"))
    assert error.message == 'sgd has no argument "momentm"; did you mean "momentum"?'
    assert error.span.line == 16


def test_keys_bind_as_documented(tmp_path):
    path = write_spec(tmp_path, """sweep {
        hidden = choice(32)
        max_epochs = choice(2)
        batch_size = choice(8)
        optimizer.lr = choice(0.5)
        momentum_typo = uniform(0, 1)
        mode = max
        monitor = val_accuracy
    }""")
    analysis = analyze_file(str(path))
    assert analysis.ok, analysis.diagnostics
    space = analysis.sweeps["default"]
    kinds = {d.key: (d.target.kind, d.target.name) for d in space.dims}
    assert kinds == {"hidden": ("hyper", "hidden"), "max_epochs": ("train", "max_epochs"),
                     "batch_size": ("data", "batch_size"), "optimizer.lr": ("call", "lr"),
                     "momentum_typo": ("variable", "momentum_typo")}
    [unused] = _messages(analysis, "warning")
    assert unused.message.startswith('sweep variable "momentum_typo" is not a hyperparameter')
    point = {"hidden": 32, "max_epochs": 2, "batch_size": 8, "optimizer.lr": 0.5,
             "momentum_typo": 0.1}
    reporter = Reporter(analysis.source)
    program = check(apply_point(analysis.program.spec, space, point, analysis.source.text),
                    reporter)
    run = program.runs["default"]
    assert not reporter.has_errors
    assert run.model.hypers["hidden"] == 32
    assert run.settings.values["max_epochs"] == 2 and run.data.settings.values["batch_size"] == 8
    assert run.optimizer.values["lr"] == 0.5


def test_an_ambiguous_name_and_an_unknown_key_are_located_errors():
    spec = HEADS.replace("model Net(hidden = 16, heads = 4)",
                         "model Net(hidden = 16, heads = 4, seed = 1)")
    analysis = analyze_text(spec + "sweep {\n seed = choice(0, 1)\n model.hiden = int(8, 9)\n}",
                            "s.lit")
    ambiguous, unknown = _messages(analysis)
    assert ambiguous.code == "ambiguous" and ambiguous.hint == "write model.seed or train.seed"
    assert unknown.message == 'model Net has no hyperparameter "hiden"; did you mean "hidden"?'


def test_fmt_round_trips_a_sweep():
    text = HEADS + "sweep fast {\nhidden=int(16,64,step=4)   # width\n data.batch_size = " \
        "choice(1,2)\nmode=max }\n"
    formatted = format_text(text)
    assert "sweep fast {\n    hidden          = int(16, 64, step = 4)  # width\n" in formatted
    assert format_text(formatted) == formatted


def test_check_of_a_sweep_imports_neither_torch_nor_optuna(tmp_path):
    path = write_spec(tmp_path, "sweep { hidden = int(4, 64) }")
    code = ("import sys; from lightdsl.analysis import analyze_file; "
            f"a = analyze_file({str(path)!r}); assert a.ok, a.diagnostics; "
            "print(sorted(m for m in ('torch', 'optuna') if m in sys.modules))")
    out = run_code(code, check=True).stdout
    assert out.strip() == "[]"
