"""Inputs that used to make `lightdsl check` raise or run for minutes get located errors, fast:
huge and non-finite numbers, deep nesting, NUL in strings, empty CSV delimiters (issue 11
items 8 and 9); bare hyphenated choices (item 15); a byte-order mark (item 17)."""

from __future__ import annotations

import time

import pytest

from lightdsl.analysis import analyze_file, analyze_text
from lightdsl.checker.binding import bind_call
from lightdsl.checker.constants import MAX_BITS
from lightdsl.cli import main
from lightdsl.frontend.diagnostics import Reporter
from lightdsl.frontend.parser import MAX_DEPTH, parse_value
from lightdsl.frontend.source import SourceFile
from lightdsl.vocab.registry import REGISTRY
from lightdsl.vocab.types import choices, normalize_choice

MODEL = "model M { layers { linear(1, 1) } }\n"
DATA = "data D {\n inputs = [[1.0], [2.0]]\n labels = [[1.0], [2.0]]\n}\n"


def spec_with(line: str, data: str = DATA) -> str:
    """A clean spec whose train block has ``line`` on line 10."""
    return (MODEL + data + "train {\n model = M\n data = D\n loss = mse\n"
            + line + "\n}\n")


def errors(text: str) -> list[tuple[int, int, str]]:
    analysis = analyze_text(text, "limits.lit")
    return [(d.line, d.column, d.message) for d in analysis.errors]


@pytest.mark.parametrize("line,column,message", [
    (" max_epochs = " + "9" * 5000, 15,
     "number too large: a 5000-digit integer does not fit in a 64-bit integer"),
    (" max_epochs = 99999999999999999999", 15, "does not fit in a 64-bit integer"),
    (" seed = 2**70", 9, "number too large: 2**70 does not fit in a 64-bit integer"),
    (" seed = 10**200", 9, "number too large: 10**200 does not fit in a 64-bit integer"),
    (" max_epochs = 1 + 2**10000", 19, f"2**10000 would have about 10001 bits (at most {MAX_BITS})"),
    (" optimizer = sgd(lr = 1e999)", 23, "number too large: 1e999 overflows to infinity"),
    (" optimizer = sgd(lr = -1e999)", 24, "number too large: 1e999 overflows to infinity"),
    (" optimizer = sgd(lr = 1e308*10)", 23, "number too large: 1e308*10 overflows to infinity"),
    (" optimizer = sgd(lr = 2.0**5000)", 23, "number too large: 2.0**5000 overflows"),
    (" optimizer = sgd(lr = 1/0)", 23, "cannot compute this: division by zero"),
    (" optimizer = sgd(lr = (-8)**0.5)", 23, "complex number"),
])
def test_numbers_too_large_are_located_errors(line, column, message):
    found = errors(spec_with(line))
    assert len(found) == 1, found
    assert found[0][:2] == (10, column) and message in found[0][2]


def test_integer_in_a_list_is_located_at_the_item():
    text = MODEL + "data D {\n inputs = [[1.0], [2**64]]\n labels = [[1.0], [2.0]]\n}\n" \
        + "train {\n model = M\n data = D\n loss = mse\n}\n"
    message = "number too large: 2**64 does not fit in a 64-bit integer (at most 2**63 - 1)"
    assert errors(text) == [(3, 20, message)]


def test_large_intermediate_values_are_fine():
    assert errors(spec_with(" optimizer = sgd(lr = 1 / 10**30)")) == []
    assert errors(spec_with(" max_epochs = 2**62 + (2**62 - 1)")) == []


@pytest.mark.parametrize("tower", [
    "2**256**256**256**256**256",
    "((2**256)**256)**256",
    "((((2**64)**64)**64)**64)**64",
    "(10**300) * (10**300) * (10**300)",
    "(-2)**(2**62)",
    "(1 + 1)**(2**62)",
])
def test_power_towers_are_refused_fast(tower):
    """A regression guard, not a benchmark: this used to run 46 s or end in MemoryError."""
    started = time.process_time()  # CPU time: a busy machine stretches wall time
    found = errors(spec_with(f" max_epochs = {tower}"))
    assert time.process_time() - started < 2.0
    assert len(found) == 1 and found[0][0] == 10 and "number too large" in found[0][2]


def test_power_of_one_and_zero_stay_cheap():
    started = time.process_time()  # CPU time: a busy machine stretches wall time
    assert errors(spec_with(" max_epochs = 1**(2**1000) + 0**(2**1000)")) == []
    assert time.process_time() - started < 2.0


DEEP = {  # MAX_DEPTH levels of each kind of nesting
    "sum": lambda k: " + ".join(["1"] * (k + 1)),
    "product": lambda k: " * ".join(["1"] * (k + 1)),
    "power": lambda k: "**".join(["1"] * (k + 1)),
    "negation": lambda k: "-" * k + "1",
    "list": lambda k: "[" * k + "1" + "]" * k,
    "call": lambda k: "f(" * k + "1" + ")" * k,
}


@pytest.mark.parametrize("kind", DEEP)
def test_nesting_beyond_the_limit_is_a_located_error(kind):
    text = spec_with(" max_epochs = " + DEEP[kind](MAX_DEPTH + 1))
    found = errors(text)
    assert found and found[0][0] == 10, found
    assert found[0][2] == f"expression nested too deeply (over {MAX_DEPTH} levels)"


@pytest.mark.parametrize("kind", ["sum", "product", "negation"])
def test_nesting_up_to_the_limit_is_evaluated(kind):
    text = spec_with(" max_epochs = " + DEEP[kind](MAX_DEPTH))
    assert errors(text) == []


@pytest.mark.parametrize("count", [500, 5000])
def test_very_long_chains_and_deep_lists_never_raise(count):
    for kind, build in DEEP.items():
        found = errors(spec_with(" max_epochs = " + build(count)))
        assert any("nested too deeply" in m for _, _, m in found), kind


def test_deep_nesting_in_forward_is_located():
    text = ("model M {\n l = linear(1, 1)\n forward(x) {\n  return l(" + "-" * 600 + "x)\n }\n}\n"
            + DATA + "train {\n model = M\n data = D\n loss = mse\n}\n")
    found = errors(text)
    assert found and found[0][0] == 4 and "nested too deeply" in found[0][2]


def test_nul_in_a_path_is_a_located_error(tmp_path):
    path = tmp_path / "nul.lit"
    path.write_text(MODEL + 'data D { source = csv("a\\x00b.csv", label = "y") }\n'
                    "train {\n model = M\n data = D\n loss = mse\n}\n")
    assert main(["check", "-q", str(path)]) == 1
    found = errors(path.read_text())
    assert found == [(2, 23, "a string cannot contain \\x00")]


def test_raw_nul_and_lone_surrogate_in_strings_are_errors():
    assert errors(spec_with(' default_root_dir = "a\x00b"'))[0][2] == \
        "a string cannot contain \\x00"
    assert errors(spec_with(' default_root_dir = "\\ud800"'))[0][2] == \
        "a string cannot contain \\ud800"


@pytest.mark.parametrize("delimiter", ['""', '"ab"', '"\\n"', "'\"'"])
def test_unusable_csv_delimiter_is_a_located_error(tmp_path, delimiter):
    (tmp_path / "rows.csv").write_text("x,y\n1,2\n")
    spec = tmp_path / "delim.lit"
    spec.write_text(MODEL + f'data D {{ source = csv("rows.csv", label = "y", delimiter = '
                    f"{delimiter}) }}\ntrain {{\n model = M\n data = D\n loss = mse\n}}\n")
    assert main(["check", "-q", str(spec)]) == 1
    found = [(d.line, d.column, d.message) for d in analyze_file(str(spec)).errors]
    assert (2, 60) == found[-1][:2]
    assert found[-1][2].startswith("delimiter must be one character")


# ---- bare choices (item 15) ----------------------------------------------------------------

@pytest.mark.parametrize("written,value", [
    ("bf16-mixed", "bf16-mixed"), ("16-mixed", "16-mixed"), ("bf16-true", "bf16-true"),
    ("64-true", "64-true"), ("32-true", "32-true"), ('"bf16-mixed"', "bf16-mixed"),
    ("bf16", "bf16"), ("16", 16),
])
def test_precision_accepts_bare_hyphenated_choices(written, value):
    analysis = analyze_text(spec_with(f" precision = {written}"), "p.lit")
    assert analysis.errors == []
    assert analysis.program.runs["default"].settings.values["precision"] == value


def test_none_as_a_choice_means_the_option_none():
    text = ("model M { layers { linear(1, 1)\n gelu(approximate = none) } }\n" + DATA
            + "train {\n model = M\n data = D\n loss = mse(reduction = none)\n}\n")
    analysis = analyze_text(text, "none.lit")
    assert analysis.errors == []
    run = analysis.program.runs["default"]
    assert run.loss.values["reduction"] == "none"
    assert run.model.sequence[1].values["approximate"] == "none"


def test_optional_setting_keeps_none():
    analysis = analyze_text(spec_with(" max_epochs = none"), "n.lit")
    assert analysis.errors == []
    assert analysis.program.runs["default"].settings.values["max_epochs"] is None


def test_misspelled_bare_choice_suggests_the_quoted_option():
    analysis = analyze_text(spec_with(" precision = bf16-mix"), "p.lit")
    (error,) = analysis.errors
    assert (error.line, error.column) == (10, 14)
    assert error.message.endswith('got bf16-mix; did you mean "bf16-mixed"?')
    assert error.hint == 'write the option in quotes: precision = "bf16-mixed"'


@pytest.mark.parametrize("line,message", [
    (" max_epochs = epochs-1", '"epochs" is not a hyperparameter or constant'),
    (" optimizer = sgd(lr = base-lr)", '"base" is not a hyperparameter or constant'),
    (" max_epochs = 5 - true", "`-` needs numbers here, got 5 and true"),
])
def test_hyphenated_words_where_no_choice_fits_keep_the_arithmetic_message(line, message):
    found = errors(spec_with(line))
    assert len(found) == 1 and message in found[0][2]


def test_spaced_subtraction_is_not_a_choice():
    found = errors(spec_with(" precision = bf16 - mixed"))
    assert len(found) == 1 and '"bf16" is not a hyperparameter' in found[0][2]


def _bare_spellable(option: str) -> bool:
    return all(part.isidentifier() or part.isdigit() for part in option.split("-"))


CHOICE_ARGS = [(entry, arg, option) for kind in ("layer", "loss", "optimizer", "scheduler",
                                                  "callback", "statement", "source",
                                                  "transform", "settings", "metric", "logger")
               for entry in REGISTRY.kind(kind).values() for arg in entry.args
               for option in choices(arg.type) if _bare_spellable(option)]


def test_the_choice_corpus_covers_hyphenated_options():
    assert any("-" in option for _, _, option in CHOICE_ARGS)
    assert len({(e.name, a.name) for e, a, _ in CHOICE_ARGS}) >= 10


@pytest.mark.parametrize("entry,arg,option", CHOICE_ARGS,
                         ids=lambda x: getattr(x, "name", x))
def test_every_choice_can_be_written_bare(entry, arg, option):
    """Every choice-valued argument of the vocabulary takes each option written bare."""
    source = SourceFile(f"{entry.name}({arg.name} = {option})", "<bare>")
    reporter = Reporter(source)
    call = parse_value(source, 0, reporter)
    bound = bind_call(entry, call, {}, reporter)
    assert [d.message for d in reporter.diagnostics if d.code == "type"] == []
    assert normalize_choice(bound.values[arg.name]) == option  # precision 16 stays an int


# ---- byte-order mark (item 17) -------------------------------------------------------------

def test_byte_order_mark_is_accepted_and_columns_stay_right(tmp_path, capsys):
    text = spec_with(" max_epochs = 0")
    plain, marked = tmp_path / "plain.lit", tmp_path / "marked.lit"
    plain.write_text(text, encoding="utf-8")
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert main(["check", "-q", str(plain)]) == main(["check", "-q", str(marked)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{plain}:10:15: error:")
    assert lines[3].startswith(f"{marked}:10:15: error:")
    clean = tmp_path / "clean.lit"
    clean.write_bytes(b"\xef\xbb\xbf" + spec_with("").encode("utf-8"))
    assert main(["check", "-q", str(clean)]) == 0


def test_byte_order_mark_in_text_given_directly():
    assert analyze_text("\ufeff" + spec_with("")).errors == []
    first_line_error = analyze_text("\ufeffmodel { }").errors[0]
    assert (first_line_error.line, first_line_error.column) == (1, 7)


def test_lines_are_counted_as_the_parser_counts_them():
    """A form feed or a lone CR does not start a line for lark; the caret line must match."""
    text = spec_with(" max_epochs = 0 # a\x0cb\rc")
    (error,) = analyze_text(text, "ff.lit").errors
    assert (error.line, error.column) == (10, 15)
    from lightdsl.frontend.diagnostics import render_text

    rendered = render_text(error, SourceFile(text, "ff.lit")).splitlines()
    assert rendered[1] == "     max_epochs = 0 # a?b?c"
    assert rendered[2] == "                  ^"
