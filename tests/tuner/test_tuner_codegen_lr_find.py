"""The torch script's lr_find draws the curve lightdsl's lr_find draws, point for point, also
when its num_training steps take more epochs than max_epochs (both run them all)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lightdsl
from lightdsl.tuner.experiment import run_lr_find
from tests.helpers.scripts import load_script, write_script


def _spec(settings: str, samples: int) -> str:
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=(samples, 4)), 3).tolist()
    y = rng.integers(0, 3, size=samples).tolist()
    return f"""
model Mlp {{
    layers {{
        linear(4, 8)
        dropout(0.2)
        tanh()
        linear(8, 3)
    }}
}}

data blobs {{
    inputs = {x}
    labels = {y}
    batch_size = 3
    shuffle = true
}}

train {{
    model = Mlp
    data = blobs
    loss = cross_entropy
    optimizer = sgd(lr = 0.05, momentum = 0.9)
    seed = 7
{settings}
}}
"""


def _lightdsl_curve(spec, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    experiment = lightdsl.load(str(spec))
    torch.manual_seed(7)  # the generated main() seeds before building the model, too
    experiment.module  # noqa: B018 - build it now, after seeding
    result = run_lr_find(experiment)
    return result.lrs, result.losses


def _script_curve(spec, tmp_path):
    script = load_script(write_script(spec, tmp_path / "script_torch.py"))
    tests = []

    class Recorded(script.RangeTest):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            tests.append(self)

    script.RangeTest = Recorded
    script.main()
    (test,) = tests
    return test.lrs, test.losses


@pytest.mark.parametrize("settings, samples, points", [
    # 6 batches an epoch, 1 epoch: the 20 steps take 4 epochs
    (("    max_epochs = 1\n    lr_find(min_lr = 0.001, num_training = 20, "
     "early_stop_threshold = none)"), 18, 20),
    # 5 batches an epoch under accumulation: each epoch's last step closes an incomplete
    # window, and is run but not recorded (as in Lightning)
    (("    max_epochs = 2\n    accumulate_grad_batches = 2\n    max_steps = 4\n"
     "    lr_find(min_lr = 0.001, num_training = 14, early_stop_threshold = none)"), 15, None),
])
def test_the_scripts_curve_is_lightdsls_whatever_max_epochs(tmp_path, monkeypatch, settings,
                                                            samples, points):
    spec = tmp_path / "finder.lit"
    spec.write_text(_spec(settings, samples), encoding="utf-8")
    lrs, losses = _lightdsl_curve(spec, monkeypatch, tmp_path)
    script_lrs, script_losses = _script_curve(spec, tmp_path)
    if points is not None:
        assert len(lrs) == points
    assert script_lrs == lrs
    assert script_losses == pytest.approx(losses, rel=1e-9)
