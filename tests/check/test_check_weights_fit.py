"""check compares a warm start's file with the model's tensors, without torch (issue 17):
the train block's ``init = weights(...)`` with the whole model, a part's ``init weights(...)``
with that part, by the names, shapes and dtypes ``state_dict`` will have."""

from __future__ import annotations

import pytest

from lightdsl.analysis import analyze_text
from tests.helpers.runner import run_code

from .safetensors_writer import write_safetensors

SPEC = """
model Body(width = 4) {
    layers {
        linear(2, width)
        batchnorm1d(width)
    }
}
model Net {
    body = Body(4) PART
    odd  = python("mylayers:Odd")
    head = linear(4, 3)
    forward(x) { return head(odd(body(x))) }
}
data d {
    inputs = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0]]
    labels = [0, 1, 2]
}
train {
    model = Net
    data  = d
    loss  = cross_entropy
    TRAIN
}
"""
BODY = {"layers.0.weight": ((4, 2), "F32"), "layers.0.bias": ((4,), "F32"),
        "layers.1.weight": ((4,), "F32"), "layers.1.bias": ((4,), "F32"),
        "layers.1.running_mean": ((4,), "F32"), "layers.1.running_var": ((4,), "F32"),
        "layers.1.num_batches_tracked": ((), "I64")}
HEAD = {"head.weight": ((3, 4), "F32"), "head.bias": ((3,), "F32")}


def diagnostics(tmp_path, part: str = "", train: str = "", **files) -> list[tuple[str, str]]:
    (tmp_path / "mylayers.py").write_text("class Odd:\n    pass\n", encoding="utf-8")
    for name, tensors in files.items():
        write_safetensors(tmp_path / f"{name}.safetensors", tensors)
    text = SPEC.replace("PART", part).replace("TRAIN", train)
    found = analyze_text(text, str(tmp_path / "s.lit")).diagnostics
    return [(d.severity, d.message) for d in found if d.code == "weights"]


def whole(**renamed) -> dict:
    return {**{f"body.{k}": v for k, v in BODY.items()}, **HEAD, **renamed}


def test_a_file_that_fits_says_nothing_and_python_layers_are_left_alone(tmp_path):
    secret = {"odd.w": ((7,), "F32")}  # a python(...) layer's tensors: check cannot know them
    assert diagnostics(tmp_path, train='init = weights("all.safetensors", strict = true)',
                       all=whole(**secret)) == []
    assert diagnostics(tmp_path, part='init weights("body.safetensors", strict = true)',
                       body=BODY) == []


def test_strict_failures_are_errors_at_the_path_with_the_models_names(tmp_path):
    found = diagnostics(tmp_path, train='init = weights("all.safetensors", strict = true)',
                        all={**whole(), "head.weight": ((2, 4), "F32"), "extra": ((1,), "F32")})
    assert found == [("error", ('init weights for model Net: "all.safetensors" (a safetensors '
                                "file) does not fit: the file has extra, the model does not; "
                                "head.weight is [2, 4] in the file, [3, 4] here"))]


def test_without_strict_the_same_problems_are_a_warning(tmp_path):
    found = diagnostics(tmp_path, train='init = weights("all.safetensors")',
                        all={**whole(), "head.weight": ((2, 4), "F32")})
    assert found == [("warning", ('init weights for model Net: "all.safetensors" (a '
                                  "safetensors file): head.weight is [2, 4] in the file, "
                                  "[3, 4] here; train loads the 8 tensors that fit"))]


def test_a_part_is_compared_by_its_own_names_and_a_map_is_suggested(tmp_path):
    saved = {k.replace("layers.", "seq."): v for k, v in BODY.items()}
    (severity, message), (other, rest) = diagnostics(
        tmp_path, part='init weights("body.safetensors")', body=saved)
    assert severity == "error" and "init weights for Net.body" in message
    assert message.endswith("does not fit: no tensor of the file fits the model (none has a "
                            "name and shape the model has)")
    assert other == "warning" and "layers.0.weight is missing from the file" in rest
    assert "the file has seq.0.weight, the model does not" in rest  # the part's own names
    analysis = analyze_text(SPEC.replace("PART", 'init weights("body.safetensors")')
                            .replace("TRAIN", ""), str(tmp_path / "s.lit"))
    hints = [d.hint for d in analysis.diagnostics if d.code == "weights" and d.hint]
    assert 'the names differ by a prefix: map = [["seq.", "layers."]]' in hints
    assert diagnostics(tmp_path, part='init weights("body.safetensors", map = [["seq.", '
                       '"layers."]])', body=saved) == []
    # a wrapper's prefix (Lightning's model., or any other) is dropped as at train time
    assert diagnostics(tmp_path, part='init weights("body.safetensors")',
                       body={f"encoder.{k}": v for k, v in BODY.items()}) == []


def test_a_map_rule_that_matches_nothing_is_an_error_at_the_map(tmp_path):
    text_part = 'init weights("body.safetensors", map = [["encodr.", ""]])'
    found = diagnostics(tmp_path, part=text_part, body={f"encoder.{k}": v for k, v in BODY.items()})
    assert ("error", ("init weights for Net.body: map 'encodr.': no tensor of the file starts "
                      'with it; did you mean "encoder."?')) in found
    analysis = analyze_text(SPEC.replace("PART", text_part).replace("TRAIN", ""),
                            str(tmp_path / "s.lit"))
    at_map = [d for d in analysis.diagnostics if "map 'encodr.'" in d.message]
    assert at_map[0].span.column == SPEC.replace("PART", text_part).splitlines()[8].index("[[") + 1


@pytest.mark.parametrize("contents", [b"\x80\x02}q\x00.", b"\x00" * 64])
def test_a_file_check_cannot_read_is_left_to_train_time(tmp_path, contents):
    (tmp_path / "legacy.pt").write_bytes(contents)
    found = diagnostics(tmp_path, train='init = weights("legacy.pt", strict = true)')
    assert all("does not fit" not in message for _, message in found)


def test_check_with_a_weights_file_stays_torch_free_and_fast(tmp_path):
    write_safetensors(tmp_path / "all.safetensors", whole())
    (tmp_path / "mylayers.py").write_text("class Odd:\n    pass\n", encoding="utf-8")
    spec = tmp_path / "s.lit"
    spec.write_text(SPEC.replace("PART", "").replace(
        "TRAIN", 'init = weights("all.safetensors", strict = true)'), encoding="utf-8")
    code = ("import sys; from lightdsl.cli import main; "
            f"rc = main(['check', {str(spec)!r}]); "
            "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    result = run_code(code)
    assert result.returncode == 0, result.stdout + result.stderr
