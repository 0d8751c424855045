"""The generated model class computes what lightdsl's compiled model computes."""

from __future__ import annotations

import pytest
import torch

import lightdsl
from lightdsl.compile.model import SpecModel

from ..helpers.scripts import CASES, case_id, load_script, write_script


def _models(path, run, tmp_path, target="torch"):
    experiment = lightdsl.load(str(path), run)
    info = experiment.run.model
    compiled = SpecModel(info)
    script = load_script(write_script(path, tmp_path / f"gen_{target}.py", run, target))
    generated = eval(script_call(experiment), vars(script))  # the run's model call
    return experiment, compiled, generated


def script_call(experiment) -> str:
    from lightdsl.codegen import generate

    return generate(experiment.analysis, experiment.name).model_call


def _inputs(experiment, dtype):
    shape = experiment.run.data.sample_shape
    if shape is None:  # a file check cannot see into (.npz, .pt): its first samples
        return experiment.data.train.inputs[:4].to(dtype)
    generator = torch.Generator().manual_seed(0)
    if experiment.run.data.input_dtype == "int":  # indices for an embedding
        return torch.randint(0, 10, (4, *shape), generator=generator)
    return torch.randn((4, *shape), generator=generator, dtype=dtype) + 0.1


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dict_keys_are_the_compiled_models(case, tmp_path):
    _, compiled, generated = _models(*case, tmp_path)
    assert list(generated.state_dict()) == list(compiled.state_dict())
    for (name, a), (_, b) in zip(compiled.named_parameters(), generated.named_parameters()):
        assert a.requires_grad == b.requires_grad, name


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 0.0), (torch.float32, 1e-6)])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_outputs_equal_the_compiled_models(case, dtype, tol, tmp_path):
    experiment, compiled, generated = _models(*case, tmp_path)
    compiled, generated = compiled.to(dtype).eval(), generated.to(dtype).eval()
    generated.load_state_dict(compiled.state_dict())
    x = _inputs(experiment, dtype)
    expected, actual = compiled(x), generated(x)
    if tol == 0.0:
        assert torch.equal(actual, expected)
    else:
        torch.testing.assert_close(actual, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_lightning_model_matches_too(case, tmp_path):
    pytest.importorskip("pytorch_lightning")
    experiment, compiled, generated = _models(*case, tmp_path, "lightning")
    generated.load_state_dict(compiled.state_dict())
    compiled, generated = compiled.double().eval(), generated.double().eval()
    x = _inputs(experiment, torch.float64)
    assert torch.equal(generated(x), compiled(x))
