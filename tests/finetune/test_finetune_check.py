"""Fine-tuning in the language: the options after a layer, ``init = weights(...)`` and
``unfreeze(...)`` parse, format, check (without torch) and refuse what cannot work."""

from __future__ import annotations

import pytest

from lightdsl.analysis import analyze_text
from lightdsl.frontend.formatting import format_text

MODELS = """
model Body(width = 16) {
    layers {
        flatten()
        linear(4, width)
        batchnorm1d(width) frozen(bn = train)
        relu
    }
}
model Net {
    backbone = Body(16) OPTIONS
    head     = linear(16, 3) HEAD
    forward(x) {
        return head(backbone(x))
    }
}
data d {
    inputs = [[0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 1.0, 0.0], [2.0, 1.0, 0.0, 1.0]]
    labels = [0, 1, 2]
}
train {
    model = Net
    data  = d
    loss  = cross_entropy
    TRAIN
}
"""


def spec(options="frozen", head="", train="") -> str:
    return MODELS.replace("OPTIONS", options).replace("HEAD", head).replace("TRAIN", train)


def messages(text: str, severity: str = "error") -> list[str]:
    return [d.message for d in analyze_text(text, "/nowhere/spec.lit").diagnostics
            if d.severity == severity]


def test_options_parse_into_the_layers_records():
    analysis = analyze_text(spec("frozen lr_mult(0.5)", train="unfreeze(backbone, at_epoch = 2,"
                                 " lr = 1e-4)"))
    assert not [d for d in analysis.diagnostics if d.severity == "error"]
    model = analysis.program.models["Net"]
    assert model.options["backbone"].frozen and model.options["backbone"].lr_mult == 0.5
    body = analysis.program.models["Body"]
    assert body.options["layers.2"].bn == "train"  # the third item of layers { }
    run = analysis.program.runs["default"]
    assert [b.values for b in run.unfreeze] == [{"part": "backbone", "at_epoch": 2,
                                                 "lr": 1e-4}]


def test_format_round_trips_every_option():
    text = spec('lr_mult( 0.1 )  init weights("w.pt", strict = true)   frozen', "frozen",
                'init = weights("all.safetensors", map = [["model.", ""]])')
    once = format_text(text)
    assert 'backbone = Body(16) frozen lr_mult(0.1) init weights("w.pt", strict = true)' in once
    assert 'init  = weights("all.safetensors", map = [["model.", ""]])' in once
    assert format_text(once) == once


@pytest.mark.parametrize("options, expected", [
    ("frozen(bn = train_mode)", "bn must be eval"),
    ("frozen(norm = eval)", 'frozen takes no argument "norm"'),
    ("lr_mult(0)", "lr_mult must be a positive number, not 0"),
    ("init load(\"w.pt\")", 'unknown init "load"'),
])
def test_bad_options_are_located_errors(options, expected):
    found = messages(spec(options))
    assert any(expected in m for m in found), found


def test_option_given_twice_is_an_error():
    assert any("`frozen` is given twice" in m for m in messages(spec("frozen frozen")))


def test_unfreeze_names_a_frozen_named_layer():
    assert any('no named layer "bakbone"' in m and "did you mean" in m
               for m in messages(spec(train="unfreeze(bakbone, at_epoch = 1)")))
    assert any('"head" is not frozen' in m
               for m in messages(spec(train="unfreeze(head, at_epoch = 1)")))
    assert any("unfrozen twice" in m for m in messages(
        spec(train="unfreeze(backbone, at_epoch = 1) unfreeze(backbone, at_epoch = 2)")))


def test_missing_weights_file_is_a_warning_at_the_path(tmp_path):
    analysis = analyze_text(spec('frozen init weights("body.pt")'), str(tmp_path / "s.lit"))
    (warning,) = [d for d in analysis.diagnostics if d.code == "missing-file"]
    assert warning.severity == "warning" and str(tmp_path / "body.pt") in warning.message
    assert (warning.span.line, warning.span.column) == (11, 45)


def test_weights_path_that_is_a_folder_is_an_error(tmp_path):
    (tmp_path / "body.pt").mkdir()
    found = [
        d.message for d in analyze_text(spec('init weights("body.pt")'),
                                        str(tmp_path / "s.lit")).diagnostics]
    assert any("is not a regular file" in m for m in found)


def test_a_model_frozen_everywhere_is_trainable_only_with_an_unfreeze():
    frozen = spec("frozen", "frozen")
    assert any("has no trainable parameter" in m for m in messages(frozen, "warning"))
    from lightdsl.checker.finetune import unfrozen_parts
    from lightdsl.checker.models import is_trainable

    program = analyze_text(spec("frozen", "frozen", "unfreeze(head, at_epoch = 3)")).program
    run = program.runs["default"]
    assert not is_trainable(run.model)
    assert is_trainable(run.model, unfrozen_parts(run.unfreeze))


def test_check_does_not_import_torch_for_fine_tuning_specs():
    from pathlib import Path

    from ..helpers.runner import run_code

    root = Path(__file__).resolve().parents[2]
    code = ("import sys; from lightdsl.analysis import analyze_text; "
            f"analyze_text(open({str(root / 'specs/finetune_digits.lit')!r}).read(), "
            f"{str(root / 'specs/finetune_digits.lit')!r}); "
            "assert 'torch' not in sys.modules")
    run_code(code, cwd=root, check=True)
