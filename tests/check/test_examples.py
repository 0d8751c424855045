"""Every example spec in specs/ checks clean; the front end resolves what the builder needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightdsl.frontend import analyze_file

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
