"""check_fit / fit: the renaming rules and every problem by name (torch-free, like check)."""

from __future__ import annotations

from lightdsl.weightfiles import check_fit, fit

MODEL = {"backbone.0.weight": ((16, 4), "float32"), "backbone.0.bias": ((16,), "float32"),
         "head.weight": ((3, 16), "float32"), "head.bias": ((3,), "float32")}


def renamed(prefix_from: str, prefix_to: str, tensors=MODEL) -> dict:
    """``tensors`` with ``prefix_to`` (where a name has it) replaced by ``prefix_from``."""
    return {prefix_from + k[len(prefix_to):] if k.startswith(prefix_to) else k: v
            for k, v in tensors.items()}


def kinds(problems) -> list[tuple[str, str]]:
    return [(p.kind, p.name) for p in problems]


def test_the_same_names_and_shapes_fit():
    assert check_fit(MODEL, MODEL) == []
    assert fit(MODEL, MODEL).pairs == {k: k for k in MODEL}


def test_missing_unexpected_and_reshaped_are_named():
    found = {**MODEL, "head.weight": ((5, 16), "float32"), "extra": ((1,), "float32")}
    del found["backbone.0.bias"]
    problems = check_fit(MODEL, found)
    assert [p.message for p in problems] == [
        "backbone.0.bias is missing from the file",
        "the file has extra, the model does not",
        "head.weight is [5, 16] in the file, [3, 16] here"]
    assert [p.fails(strict=False) for p in problems] == [False, False, False]
    assert all(p.fails(strict=True) for p in problems)


def test_a_key_map_renames_by_prefix_the_longest_first():
    found = {"encoder.0.weight": MODEL["backbone.0.weight"],
             "encoder.0.bias": MODEL["backbone.0.bias"],
             "encoder.head.weight": MODEL["head.weight"], "encoder.head.bias": MODEL["head.bias"]}
    result = fit(MODEL, found, {"encoder.": "backbone.", "encoder.head.": "head."})
    assert result.problems == []
    assert result.pairs["encoder.head.weight"] == "head.weight"
    assert result.pairs["encoder.0.weight"] == "backbone.0.weight"


def test_an_empty_prefix_puts_a_whole_file_under_a_name():
    body = {"0.weight": MODEL["backbone.0.weight"], "0.bias": MODEL["backbone.0.bias"]}
    result = fit(MODEL, body, {"": "backbone."})
    assert result.missing == ["head.weight", "head.bias"]
    assert sorted(result.pairs.values()) == ["backbone.0.bias", "backbone.0.weight"]


def test_a_rule_that_matches_nothing_is_an_error_with_a_suggestion():
    found = renamed("encoder.", "backbone.")
    problems = check_fit(MODEL, found, {"encodr.": "backbone."})
    rule = [p for p in problems if p.kind == "map"]
    assert [p.message for p in rule] == [
        "key_map 'encodr.': no tensor of the file starts with it; did you mean \"encoder.\"?"]
    assert rule[0].fails(strict=False)


def test_two_names_becoming_one_is_an_error():
    found = {"a.weight": MODEL["head.weight"], "b.weight": MODEL["head.weight"]}
    problems = check_fit({"head.weight": MODEL["head.weight"]}, found,
                         {"a.": "head.", "b.": "head."})
    assert kinds(problems) == [("duplicate", "head.weight"), ("nothing", "")]
    assert problems[0].message == "a.weight and b.weight all become head.weight: give one of them"


def test_nothing_fitting_is_an_error_even_when_not_strict():
    problems = check_fit(MODEL, {"w": ((2,), "float32")})
    assert problems[-1].kind == "nothing" and problems[-1].fails(strict=False)


def test_lightning_and_ddp_prefixes_are_dropped():
    result = fit(MODEL, renamed("model.module.", ""))
    assert result.problems == [] and result.stripped == {"model.module.": 4}


def test_a_prefix_the_model_has_is_kept():
    model = {"model.w": ((2,), "float32"), "w": ((3,), "float32")}
    result = fit(model, {"model.w": ((2,), "float32"), "model.model.w": ((2,), "float32")})
    assert result.pairs == {"model.w": "model.w"}  # not model.model.w: the file gives model.w
    assert kinds(result.problems) == [("missing", "w"), ("unexpected", "model.model.w")]


def test_torch_compiles_wrapper_is_dropped_unless_the_model_has_it():
    assert check_fit(MODEL, renamed("_orig_mod.", "")) == []
    assert fit(MODEL, {"backbone._orig_mod.0.weight": MODEL["backbone.0.weight"]}).pairs == {
        "backbone._orig_mod.0.weight": "backbone.0.weight"}
    compiled = renamed("_orig_mod.", "")
    assert kinds(check_fit(compiled, MODEL))[:1] == [("missing", "_orig_mod.backbone.0.weight")]


def test_a_key_map_applies_to_the_name_without_the_wrapper_too():
    found = renamed("_orig_mod.encoder.", "backbone.")
    result = fit(MODEL, found, {"encoder.": "backbone."})
    assert result.problems == []
    assert result.pairs["_orig_mod.encoder.0.weight"] == "backbone.0.weight"


def test_dtypes_are_cast_and_a_change_of_kind_noted():
    found = {**MODEL, "head.bias": ((3,), "float16"), "head.weight": ((3, 16), "int64")}
    problems = check_fit(MODEL, found)
    assert [p.message for p in problems] == [
        "head.weight is int64 in the file, float32 here: it is converted"]
    assert not problems[0].fails(strict=True)


def test_unknown_shapes_and_dtypes_are_not_compared():
    assert check_fit({"w": (None, None)}, {"w": ((9, 9), "int8")}) == []
    assert check_fit({"w": ((2,), "float32")}, {"w": (None, None)}) == []


def test_a_key_map_is_suggested_when_the_names_differ_by_a_prefix():
    result = fit(MODEL, renamed("encoder.", "backbone."))
    assert result.hint == 'the names differ by a prefix: key_map = {"encoder.": "backbone."}'
    reshaped = {k: ((1, 1), "float32") for k in renamed("encoder.", "backbone.")}
    assert fit(MODEL, reshaped).hint is None  # names alone do not make a rule: shapes too


UNKNOWN = {"stem.weight": ((4, 2), "float32"), "stem.bias": ((4,), "float32")}
WITH_ODD = {**UNKNOWN, "odd.secret": ((4, 2), "float32"), "odd.inner.w": ((3,), "float32")}


def test_names_under_an_unknown_prefix_are_neither_compared_nor_unexpected():
    result = fit(UNKNOWN, WITH_ODD, unknown_prefixes=["odd."])
    assert result.problems == [] and sorted(result.unchecked) == ["odd.inner.w", "odd.secret"]
    assert kinds(check_fit(UNKNOWN, WITH_ODD)) == [("unexpected", "odd.secret"),
                                                   ("unexpected", "odd.inner.w")]
    # what is known is still compared; a prefix is a prefix, not a name's start
    found = {**WITH_ODD, "stem.bias": ((5,), "float32"), "oddity.w": ((1,), "float32")}
    assert kinds(check_fit(UNKNOWN, found, unknown_prefixes=["odd."])) == [
        ("unexpected", "oddity.w"), ("shape", "stem.bias")]


def test_a_wrapper_is_dropped_onto_an_unknown_part_and_only_unknown_is_not_nothing():
    lightning = {f"model.{k}": v for k, v in WITH_ODD.items()}
    result = fit(UNKNOWN, lightning, unknown_prefixes=["odd."])
    assert result.problems == [] and result.stripped == {"model.": 4}
    only_odd = {"odd.secret": ((4, 2), "float32")}
    assert kinds(check_fit(UNKNOWN, only_odd, unknown_prefixes=["odd."])) == [
        ("missing", "stem.weight"), ("missing", "stem.bias")]  # not "nothing fits"
    assert check_fit({}, WITH_ODD, unknown_prefixes=[""]) == []  # a part that is all unknown
