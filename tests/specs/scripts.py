"""Training a spec with its generated script and with lightdsl, and comparing the weights."""

from __future__ import annotations

from pathlib import Path

import torch

import lightdsl

from ..helpers.scripts import load_script, write_script

QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None,
         "enable_checkpointing": False}


def assert_script_trains_as_lightdsl(spec: Path, tmp_path: Path, monkeypatch, target: str,
                                     name: str, seed: int) -> str:
    """Generate ``spec``'s script for ``target``, run its ``main()`` and lightdsl's fit from the
    same ``seed`` (the spec's: the generated main() seeds before building the model too), and
    assert the trained state dicts (weights and buffers such as batch-norm statistics) agree.
    Returns the generated source."""
    out = tmp_path / f"generated_{target}.py"
    script = load_script(write_script(spec, out, target=target), f"{name}_{target}")
    monkeypatch.chdir(tmp_path)
    if target == "torch":
        model = script.main()
    else:
        model = script.main(logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False)
    experiment = lightdsl.load(str(spec))
    torch.manual_seed(seed)
    experiment.fit(default_root_dir=str(tmp_path / "logs"), **QUIET)
    expected = experiment.module.state_dict()
    assert list(model.state_dict()) == list(expected)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=1e-5, atol=1e-6, msg=key)
    return out.read_text(encoding="utf-8")


def generated_and_compiled(spec: Path, tmp_path: Path, target: str, name: str):
    """``spec``'s generated model (built as the script's main() builds it) and the compiled
    one, both float64 in eval mode with the same weights, and the loaded experiment; asserts
    the same state_dict keys."""
    from lightdsl.codegen import generate
    from lightdsl.compile.model import SpecModel

    experiment = lightdsl.load(str(spec))
    compiled = SpecModel(experiment.run.model).double().eval()
    script = load_script(write_script(spec, tmp_path / f"gen_{target}.py", target=target),
                         f"{name}_{target}")
    model_call = generate(experiment.analysis, experiment.name, target).model_call
    generated = eval(model_call, vars(script)).double().eval()
    generated.load_state_dict(compiled.state_dict())
    assert list(generated.state_dict()) == list(compiled.state_dict())
    return generated, compiled, experiment
