"""A python(...) layer that fails only in training mode, or a python loss or metric that
raises, is a located error naming the spec line and the step, not a traceback (issue 16
item 18). The dry run runs in eval mode, so it cannot see these."""

from __future__ import annotations

import pytest

import lightdsl
from lightdsl.errors import LightdslError

CODE = '''
import torch
from torch import nn


class TrainOnly(nn.Module):
    """Fine in eval mode (the dry run); raises in training mode."""

    def forward(self, x):
        if self.training:
            raise RuntimeError("dropout mask not ready")
        return x


class WideInTraining(nn.Module):
    """Its output is twice as wide in training mode: the next layer refuses it."""

    def forward(self, x):
        return torch.cat([x, x], dim=1) if self.training else x


def bad_loss(output, labels):
    raise ValueError("labels must be floats")


def bad_metric(output, labels):
    raise KeyError("missing class")
'''


def spec(package, layer: str = "relu()", loss: str = "cross_entropy", metrics: str = "[]"):
    (package.root / package.name / "faulty.py").write_text(CODE, encoding="utf-8")
    return package.layers_spec("linear(4, 4)", layer, "linear(4, 3)", loss=loss,
                               labels="[0, 2]", train=(f"metrics = {metrics}", "max_epochs = 1",
                                                       "logger = none"))


def fit_error(path) -> str:
    experiment = lightdsl.load(str(path))
    with pytest.raises(LightdslError) as raised:
        experiment.fit(enable_progress_bar=False, enable_model_summary=False,
                       enable_checkpointing=False)
    return raised.value.report()  # what the CLI prints: the location first


def test_a_layer_raising_only_in_training_mode_names_its_line(package):
    message = fit_error(spec(package, f'python("{package.name}.faulty:TrainOnly")'))
    assert message.startswith(f"{package.root / 'spec.lit'}:4:16: error: python(")
    assert message.endswith("the layer raised in a train step (training mode): RuntimeError: "
                            "dropout mask not ready")


def test_a_wrong_shape_only_in_training_mode_names_the_layer(package):
    message = fit_error(spec(package, f'python("{package.name}.faulty:WideInTraining")'))
    assert message.startswith(f"{package.root / 'spec.lit'}:4:16: error: python(")
    assert "its output (N, 8) does not fit what follows it in a train step (training mode): " \
        "RuntimeError: mat1 and mat2 shapes cannot be multiplied" in message


def test_a_python_loss_that_raises_names_its_line(package):
    message = fit_error(spec(package, loss=f'python("{package.name}.faulty:bad_loss")'))
    assert message.startswith(f"{package.root / 'spec.lit'}:17:19: error: python(")
    assert message.endswith("the loss raised in a train step: ValueError: labels must be floats")


def test_a_python_metric_that_raises_names_its_line(package):
    message = fit_error(spec(package, metrics=f'[python("{package.name}.faulty:bad_metric")]'))
    assert message.startswith(f"{package.root / 'spec.lit'}:18:23: error: python(")
    assert message.endswith("the metric raised in a train step: KeyError: 'missing class'")
