"""specs/resnet_cifar.lit: a small ResNet for CIFAR-10-shaped data (issue 12 item 6).

The spec trains on CIFAR-10 for real use (torchvision's files); here its model, as written
in the spec, memorizes 512 random images with random labels, which proves the plumbing
(residual adds, batch norm, the onecycle schedule) end to end, and its generated script trains
as lightdsl does.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

import lightdsl
from lightdsl.analysis import analyze_file

from .scripts import assert_script_trains_as_lightdsl

SPEC = Path(__file__).resolve().parents[2] / "specs" / "resnet_cifar.lit"
QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None,
         "enable_checkpointing": False}


def random_spec(folder: Path, settings: str, samples: int = 512, width: int = 8) -> Path:
    """The spec's model with a data block of random images and labels (saved as a .pt file)
    and a train block of ``settings``."""
    generator = torch.Generator().manual_seed(0)
    torch.save({"x": torch.randn(samples, 3, 32, 32, generator=generator),
                "y": torch.randint(0, 10, (samples,), generator=generator)},
               folder / "random.pt")
    model = SPEC.read_text(encoding="utf-8").split("\ndata ")[0]
    spec = folder / "resnet_random.lit"
    spec.write_text(model + f"""
data random {{
    source = pt(path = "random.pt")
    batch_size = 64
}}

train {{
    model = ResNet(width = {width})
    data = random
    loss = cross_entropy
    metrics = [accuracy]
    seed = 0
{settings}
}}
""", encoding="utf-8")
    return spec


def test_the_spec_checks_clean_with_cifar_shapes():
    analysis = analyze_file(str(SPEC))
    assert analysis.errors == []
    assert {d.code for d in analysis.diagnostics} <= {"missing-file"}  # no CIFAR-10 here
    run = analysis.program.runs["default"]
    assert run.data.sample_shape == (3, 32, 32)
    assert run.data.labels.num_classes == 10
    assert run.output_shape == (None, 10)
    assert run.scheduler.name == "onecycle"


def test_resnet_memorizes_512_random_samples(tmp_path):
    spec = random_spec(tmp_path, "    optimizer = adam(lr = 0.02)\n"
                                 "    scheduler = onecycle(max_lr = 0.02)\n"
                                 "    max_epochs = 12")
    experiment = lightdsl.load(str(spec))
    start = time.perf_counter()
    result = experiment.fit(default_root_dir=str(tmp_path / "logs"), **QUIET)
    seconds = time.perf_counter() - start
    module = experiment.module.eval()
    data = experiment.data.train
    with torch.no_grad():
        accuracy = float((module(data.inputs).argmax(1) == data.labels).float().mean())
    logged = result.last_metrics["train_accuracy_epoch"]
    print(f"resnet width 8: train accuracy {accuracy:.4f} (eval mode), {logged:.4f} "
          f"(last epoch, as logged), 12 epochs in {seconds:.1f} s")
    assert len(data) == 512
    assert accuracy >= 0.99 and logged >= 0.99


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_generated_script_trains_as_lightdsl(tmp_path, monkeypatch, target):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    spec = random_spec(tmp_path, "    optimizer = sgd(lr = 0.05, momentum = 0.9)\n"
                                 "    max_epochs = 1", samples=128, width=4)
    assert_script_trains_as_lightdsl(spec, tmp_path, monkeypatch, target, "resnet", 0)


def test_building_leaves_batch_norm_statistics_alone(tmp_path):
    """The probe that measures the output width of data of unknown shape (a .pt file) runs in
    eval mode: a training-mode forward would move the running statistics before training."""
    spec = random_spec(tmp_path, "    max_epochs = 1", samples=8, width=4)
    module = lightdsl.load(str(spec)).module
    assert module.training
    assert int(module.bn0.num_batches_tracked) == 0
    assert torch.equal(module.bn0.running_mean, torch.zeros(4))
