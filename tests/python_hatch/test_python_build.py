"""Building and training python(...) layers, losses and metrics; the generated scripts import
them and compute what the compiled model computes; build-time mistakes are located errors."""

from __future__ import annotations

import re

import pytest
import torch

import lightdsl
from lightdsl.codegen import generate
from lightdsl.compile.model import SpecModel
from lightdsl.compile.python import dry_run, python_layers
from lightdsl.errors import LightdslError
from tests.helpers.runner import run_python

from ..helpers.scripts import load_script, write_script

QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None,
         "enable_checkpointing": False}


def test_trains_two_steps_with_python_layer_loss_and_metric(package, tmp_path):
    experiment = lightdsl.load(str(package.spec()))
    module = experiment.module
    swish = module.layers[1]
    assert type(swish).__name__ == "Swish" and swish.beta.detach().item() == 1.5
    assert type(module.criterion).__name__ == "Smooth" and module.criterion.beta == 0.5
    before = {k: v.clone() for k, v in module.state_dict().items()}
    result = experiment.fit(default_root_dir=str(tmp_path / "logs"), **QUIET)
    assert result.global_step == 2
    after = module.state_dict()
    assert not torch.equal(before["layers.1.beta"], after["layers.1.beta"])  # trained
    assert not torch.equal(before["layers.2.proj.weight"], after["layers.2.proj.weight"])
    hits = result.last_metrics["val_hits"]
    assert hits == pytest.approx(result.last_metrics["val_accuracy"])  # the same quantity
    assert torch.isfinite(torch.tensor(result.last_metrics["train_loss_epoch"]))


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_generated_model_equals_the_compiled_one(package, tmp_path, target):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    spec = package.spec()
    experiment = lightdsl.load(str(spec))
    compiled = SpecModel(experiment.run.model).double().eval()
    text = generate(experiment.analysis, target=target).text
    assert f"from {package.name}.layers import Halve, Swish" in text
    assert "sys.path.insert(0, str(SPEC_DIR))" in text  # the spec's folder
    script = load_script(write_script(spec, tmp_path / f"gen_{target}.py", None, target))
    generated = script.Net().double().eval()
    assert list(generated.state_dict()) == list(compiled.state_dict())
    generated.load_state_dict(compiled.state_dict())
    x = torch.randn(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(generated(x), compiled(x))


def test_generated_script_runs_elsewhere_and_trains_as_lightdsl(package, tmp_path):
    """A function loss with an argument; the script, run from another folder, imports the
    user's modules and (same seed, same data) ends with lightdsl's validation loss."""
    spec = package.spec(loss=f'python("{package.name}.losses:squared", scale = 2.0)')
    script = write_script(spec, tmp_path / "train_it.py")
    assert "loss_fn = functools.partial(squared, scale=2.0)" in script.read_text("utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = run_python(script, cwd=elsewhere)
    assert run.returncode == 0, run.stderr
    theirs = float(re.findall(r"^epoch \d+ .*val_loss (\S+)", run.stdout, re.MULTILINE)[-1])
    result = lightdsl.load(str(spec)).fit(default_root_dir=str(tmp_path / "logs"), **QUIET)
    assert result.last_metrics["val_loss"] == pytest.approx(theirs, rel=1e-5)
    assert "val_hits" in run.stdout  # the metric, computed by the user's function


def build_error(package, layer: str) -> str:
    spec = package.layers_spec("linear(4, 8)", layer, "linear(4, 3)")
    experiment = lightdsl.load(str(spec))
    with pytest.raises(LightdslError) as raised:
        experiment.module  # noqa: B018 (building is what is tested)
    return raised.value.report()  # as the command line prints it


def test_constructor_error_names_the_spec_line(package):
    message = build_error(package, f'python("{package.name}.layers:Picky", size = 0)')
    assert message.startswith(f"{package.root / 'spec.lit'}:4:16: error: ")
    assert "Picky(size=0) failed: ValueError: size must be positive" in message


def test_dry_run_failure_names_the_layer(package):
    message = build_error(package, f'python("{package.name}.layers:Broken")')
    assert message.startswith(f"{package.root / 'spec.lit'}:4:16: error: ")
    assert "the layer raised on a zero batch of the model's input (N, 4): RuntimeError: " \
        "this layer is not finished" in message


def test_dry_run_output_that_does_not_fit_the_next_layer(package):
    message = build_error(package, f'python("{package.name}.layers:Swish")')  # 8 -> linear(4)
    assert message.startswith(f"{package.root / 'spec.lit'}:4:16: error: ")
    assert "its output (N, 8) does not fit what follows it: RuntimeError" in message


def test_import_error_names_the_spec_line(package):
    (package.root / package.name / "needs.py").write_text(
        "import not_installed_anywhere\n\nclass Layer:\n    pass\n", encoding="utf-8")
    message = build_error(package, f'python("{package.name}.needs:Layer")')
    assert message.startswith(f"{package.root / 'spec.lit'}:4:16: error: ")
    assert "importing" in message and "ModuleNotFoundError" in message


def test_dry_run_leaves_the_model_and_random_stream_alone(package):
    experiment = lightdsl.load(str(package.spec()))
    module = experiment.module
    assert module.training  # restored after the eval-mode dry run
    state = torch.random.get_rng_state()
    layers = python_layers(module, experiment.run.model)
    assert sorted(type(m).__name__ for m in layers) == ["Halve", "Swish"]
    dry_run(module, layers, module.example_input_array)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_named_python_layer_in_forward_builds_checks_and_generates(package, tmp_path):
    spec = package.spec(f'''
        model Net(width = 6) {{
            first = linear(4, width)
            act = python("{package.name}.layers:Swish", beta = 0.5, shape = "same")
            halve = python("{package.name}.layers:Halve", width = width)
            last = linear(3, 2)

            forward(x) {{
                h = act(first(x))
                return last(halve(h) + 1.0)
            }}
        }}

        data d {{
            inputs = [[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]]
            labels = [0, 1]
        }}

        train {{
            model = Net
            data = d
            loss = cross_entropy
        }}
        ''')
    experiment = lightdsl.load(str(spec))
    assert experiment.analysis.ok
    compiled = experiment.module
    script = load_script(write_script(spec, tmp_path / "gen.py"))
    generated = script.Net()
    generated.load_state_dict(compiled.state_dict())
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(2))
    assert torch.equal(generated(x), SpecModel.forward(compiled, x))


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_python_layer_inside_a_used_model_is_imported_by_the_script(package, tmp_path, target):
    """A python(...) layer in a model used as a layer (and repeated): the script imports it
    too, and computes what the compiled model computes."""
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    spec = package.spec(f"""
        model Act(width = 4) {{
            layers {{ python("{package.name}.layers:Swish", beta = 1.5, shape = "same") }}
        }}
        model Net {{
            layers {{
                linear(4, 4)
                repeat(2) {{ Act(4) }}
                linear(4, 3)
            }}
        }}
        data d {{
            inputs = [[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0], [3.0, 2.0, 1.0, 0.5]]
            labels = [0, 1, 2]
        }}
        train {{
            model = Net
            data = d
            loss = cross_entropy
            max_epochs = 1
        }}
        """)
    experiment = lightdsl.load(str(spec))
    compiled = SpecModel(experiment.run.model).double().eval()
    script = load_script(write_script(spec, tmp_path / f"nested_{target}.py", None, target))
    generated = script.Net().double().eval()
    assert list(generated.state_dict()) == list(compiled.state_dict())
    generated.load_state_dict(compiled.state_dict())
    x = torch.randn(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    assert torch.equal(generated(x), compiled(x))
