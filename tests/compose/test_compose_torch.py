"""Composition in torch: the checker's shapes are torch's, repeats copy weights, generated
code computes what the compiled model computes, training, summary and diagram work."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lightdsl
from lightdsl.codegen import generate
from lightdsl.compile.model import SpecModel
from lightdsl.plots.graph import build_graph, to_dot
from lightdsl.trainer.summary import model_summary

from .specs import RESIDUAL, SPECS


def load(text: str, tmp_path, name: str = "spec.lit"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return lightdsl.load(str(path))


def batch(experiment, size: int = 5) -> torch.Tensor:
    shape = experiment.run.data.sample_shape
    return torch.randn((size, *shape), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_checked_output_shape_is_torchs(name, tmp_path):
    experiment = load(SPECS[name], tmp_path)
    output = experiment.module(batch(experiment))
    checked = experiment.run.output_shape
    assert (5, *checked[1:]) == tuple(output.shape)


@settings(max_examples=8, deadline=None)
@given(width=st.integers(1, 6), depth=st.integers(1, 3), hidden=st.integers(1, 5),
       size=st.integers(1, 4))
def test_shapes_and_parameter_counts_through_composition(width, depth, hidden, size,
                                                         tmp_path_factory):
    text = RESIDUAL.replace("model Net(width = 8, depth = 3)",
                            f"model Net(width = {width}, depth = {depth})").replace(
        "hidden = 4)", f"hidden = {hidden})")
    experiment = load(text, tmp_path_factory.mktemp("spec"))
    module = experiment.module
    output = module(batch(experiment, size))
    assert tuple(output.shape) == (size, *experiment.run.output_shape[1:])
    assert experiment.run.model.parameter_count() == sum(p.numel() for p in module.parameters())
    assert len(module.blocks) == depth


def test_repeat_builds_independent_copies(tmp_path):
    module = load(RESIDUAL, tmp_path).module
    weights = [copy.up.weight for copy in module.blocks]
    assert len(weights) == 3
    assert len({w.data_ptr() for w in weights}) == 3
    assert not torch.equal(weights[0], weights[1])
    with torch.no_grad():
        weights[0].add_(1.0)  # changing one copy leaves the others as they were
    assert not torch.equal(weights[0] - 1.0, weights[1])


def test_used_model_hyperparameters_reach_the_submodule(tmp_path):
    module = load(RESIDUAL, tmp_path).module
    assert isinstance(module.last, SpecModel)
    assert module.last.hparams == {"c": 8, "hidden": 4}
    assert module.blocks[0].hparams == {"c": 8, "hidden": 16}  # derived from c
    assert tuple(module.last.up.weight.shape) == (4, 8)


def _generated_model(experiment, tmp_path, target: str):
    code = generate(experiment.analysis, experiment.name, target)
    path = tmp_path / f"gen_{target}.py"
    path.write_text(code.text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"gen_{target}_{abs(hash(str(path)))}", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return eval(code.model_call, vars(script)), code.text


@pytest.mark.parametrize("target", ["torch", "lightning"])
@pytest.mark.parametrize("name", sorted(SPECS))
def test_generated_code_matches_the_compiled_model(name, target, tmp_path):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    experiment = load(SPECS[name], tmp_path)
    compiled = experiment.module.double().eval()
    generated, text = _generated_model(experiment, tmp_path, target)
    generated = generated.double().eval()
    assert list(generated.state_dict()) == list(compiled.state_dict())
    generated.load_state_dict(compiled.state_dict())
    x = batch(experiment).double()
    assert torch.equal(generated(x), compiled(x))
    classes = [line for line in text.splitlines() if line.startswith("class ")]
    assert len(classes) == len(set(classes))  # each used model's class once


def test_generated_use_sites_keep_the_hyperparameter_names(tmp_path):
    experiment = load(RESIDUAL, tmp_path)
    _, text = _generated_model(experiment, tmp_path, "torch")
    assert "class ResBlock(nn.Module):" in text
    assert "*[ResBlock(c=width, hidden=2 * width) for _ in range(depth)]" in text
    assert "self.last = ResBlock(c=width, hidden=4)" in text


def test_composed_model_trains(tmp_path):
    experiment = load(SPECS["attention"].replace("loss = cross_entropy",
                                                 "loss = cross_entropy  max_epochs = 30"),
                      tmp_path)
    result = experiment.fit(default_root_dir=str(tmp_path), enable_progress_bar=False,
                            enable_model_summary=False, logger=None)
    assert result.epochs == 30
    assert all(torch.isfinite(p).all() for p in experiment.module.parameters())


def test_summary_and_diagram_include_used_models(tmp_path):
    experiment = load(SPECS["nested"], tmp_path)
    summary = model_summary(experiment.module, batch(experiment))
    assert "layers.0.0.first.fc" in summary and "layers.0.1.second.fc" in summary
    dot = to_dot(build_graph(experiment.run))
    assert "repeat(2) { Middle(c = 4) }" in dot
    attention = load(SPECS["attention"], tmp_path, "attention.lit")
    assert "mix: Mix(d = 4)" in to_dot(build_graph(attention.run))


def test_derived_hyperparameters_follow_the_use_site_in_generated_code(tmp_path):
    """hidden = 2 * c: a run overriding the outer width changes both, compiled and generated."""
    text = RESIDUAL.replace("train { model = Net ", "train { model = Net(width = 6, depth = 2) ")
    experiment = load(text, tmp_path)
    compiled = experiment.module.double().eval()
    assert tuple(compiled.blocks[0].up.weight.shape) == (12, 6) and len(compiled.blocks) == 2
    generated, code = _generated_model(experiment, tmp_path, "torch")
    assert "ResBlock(c=width, hidden=2 * width)" in code
    generated = generated.double().eval()
    generated.load_state_dict(compiled.state_dict())
    x = batch(experiment).double()
    assert torch.equal(generated(x), compiled(x))
