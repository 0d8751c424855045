"""Every example spec in specs/ checks clean; the front end resolves what the builder needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightdsl.analysis import analyze_file
from lightdsl.cli import main

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.lit"))


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_example_spec_has_no_errors(spec):
    analysis = analyze_file(str(spec))
    assert analysis.errors == []
    assert analysis.program.runs, "an example spec must have a train block"


def test_statquest_resolves_shapes_and_params():
    analysis = analyze_file(str(SPECS[0].parent / "statquest.lit"))
    run = analysis.program.runs["default"]
    assert run.data.sample_shape == ()
    assert run.output_shape == (None,)
    params = run.model.params
    assert params["w01"].value == -40.8 and params["w01"].node.frozen
    assert not params["final_bias"].node.frozen
    assert run.loss.name == "sum_squared_error"
    assert run.lr_find.values["early_stop_threshold"] is None


def test_mnist_mlp_hyperparameters_are_substituted():
    analysis = analyze_file(str(SPECS[0].parent / "mnist_mlp.lit"))
    run = analysis.program.runs["default"]
    first_linear = run.model.sequence[1]
    assert first_linear.values == {"in_features": 784, "out_features": 500, "bias": True}
    assert run.output_shape == (None, 10)
    assert run.data.labels.num_classes == 10


ROOT = SPECS[0].parent.parent
BROKEN = "specs/mistakes/broken.lit"


def readme_block(command: str) -> list[str]:
    """The lines the README shows after ``$ command``, up to the end of its code block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"$ {command}\n") + len(f"$ {command}\n")
    return text[start:text.index("```", start)].splitlines()


def test_readme_check_example_is_exactly_what_check_prints(monkeypatch, capsys):
    """The README's `lightdsl check` example runs on a file that ships (issue 11 item 21)."""
    monkeypatch.chdir(ROOT)
    assert main(["check", BROKEN]) == 1
    captured = capsys.readouterr()  # diagnostics on stdout, then the summary on stderr
    assert (captured.out + captured.err).splitlines() == readme_block(f"lightdsl check {BROKEN}")


def test_the_broken_example_is_not_among_the_checked_examples():
    """`specs/*.lit` (make check, CI, these tests) are the working examples; the README's
    broken one lives in specs/mistakes/ so that they stay clean."""
    assert (ROOT / BROKEN).is_file()
    assert all(spec.parent.name == "specs" for spec in SPECS)
    assert "broken.lit" not in {spec.name for spec in SPECS}
    assert "specs/*.lit" in (ROOT / "Makefile").read_text()
