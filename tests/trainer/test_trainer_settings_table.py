"""The one table of trainer settings and precisions (lightdsl.run_settings): the vocabulary,
TrainerConfig, Trainer(...) and codegen all read it."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
import torch

from lightdsl import run_settings as rs
from lightdsl.errors import ConfigError
from lightdsl.trainer import Trainer, TrainerConfig, resolve_precision
from lightdsl.vocab.registry import REGISTRY


def test_trainer_arguments_and_config_fields_are_the_tables():
    names = [s.name for s in rs.TRAINER_SETTINGS]
    assert [f.name for f in dataclasses.fields(TrainerConfig)] == names
    params = inspect.signature(Trainer).parameters
    assert list(params) == names
    assert all(params[s.name].default == s.default for s in rs.TRAINER_SETTINGS)
    assert "device_stats" not in names and "run_name" in names  # a callback; the Trainer's own


def test_the_spec_takes_the_tables_settings_with_its_defaults():
    train = REGISTRY.get("settings", "train")
    for setting in rs.SETTINGS_TABLE:
        if setting.spec:
            assert train.arg(setting.name).default == setting.default, setting.name
    assert train.arg("logger").default == rs.SETTING["logger"].default


def test_codegen_defaults_are_the_tables():
    from lightdsl.codegen.torch_target import DEFAULTS

    assert DEFAULTS and all(DEFAULTS[k] == rs.SETTING[k].default for k in DEFAULTS)


def test_an_unknown_trainer_argument_suggests_the_closest():
    with pytest.raises(TypeError, match='unexpected keyword argument .max_epoch.; did you mean '
                                        '"max_epochs"'):
        Trainer(max_epoch=3)


@pytest.mark.parametrize("name, value, expected", [
    ("max_steps", 0, 0), ("num_sanity_val_steps", -1, -1), ("precision", "half", "16-true"),
    ("precision", 16, "16-mixed"), ("fast_dev_run", True, 1), ("gradient_clip_val", 0, None)])
def test_each_value_is_checked_by_its_rule(name, value, expected):
    assert getattr(TrainerConfig(**{name: value}), name) == expected


@pytest.mark.parametrize("name, value", [("max_epochs", 0), ("seed", 2**32), ("max_steps", -2),
                                         ("precision", "17-mixed"), ("devices", 0)])
def test_a_value_the_spec_refuses_the_trainer_refuses_too(name, value):
    spec_type = REGISTRY.get("settings", "train").arg(name).type
    assert spec_type.problem(value) is not None
    with pytest.raises(ConfigError, match=name):
        TrainerConfig(**{name: value})


def test_a_precision_is_the_tables_everywhere():
    from lightdsl.codegen.script import PRECISION_DTYPES

    for entry in rs.PRECISION_TABLE:
        resolved = resolve_precision(entry.name, torch.device("meta"))
        assert resolved.param_dtype == getattr(torch, entry.param_dtype)
        weights, autocast = PRECISION_DTYPES[entry.name]
        assert (weights or "torch.float32") == str(resolved.param_dtype)
        assert autocast == (entry.autocast_dtype and f"torch.{entry.autocast_dtype}")
        assert resolved.needs_grad_scaler is False  # only CUDA has a scaler
        cuda = dataclasses.replace(resolved, device_type="cuda")
        assert cuda.needs_grad_scaler is entry.grad_scaler
    assert resolve_precision("16-mixed", torch.device("cpu")).name == "bf16-mixed"
