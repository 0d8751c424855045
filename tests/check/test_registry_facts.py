"""The registry is the one source of each fact (issue 12 item 1): Entry's facts are typed fields
(no ``extra`` dict read by string), and what the checker, builder and code generator used to
list by hand (trainable layers, float-label losses, onecycle's step default, augmentations,
precisions, max_epochs = -1, reserved names) is derived from it, checked here against the old
hand lists and against real torch."""

from __future__ import annotations

import dataclasses
import inspect
import textwrap

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lightdsl import run_settings
from lightdsl.analysis import analyze_text
from lightdsl.vocab import REGISTRY, Entry
from lightdsl.vocab.registry import Arg
from lightdsl.vocab.types import Int

from .test_vocab_vs_torch import _torch_layer, values_of

# The hand lists this issue replaced (as they were in checker/models.py, compile/module.py,
# codegen/script.py, codegen/torch_target.py).
OLD_PARAMETERIZED = {"linear": None, "conv1d": None, "conv2d": None, "embedding": None,
                     "batchnorm1d": "affine", "batchnorm2d": "affine",
                     "layernorm": "elementwise_affine"}
OLD_LAYERS = ["linear", "conv1d", "conv2d", "maxpool2d", "avgpool2d", "batchnorm1d",
              "batchnorm2d", "layernorm", "dropout", "embedding", "flatten", "relu", "gelu",
              "tanh", "sigmoid", "softmax", "log_softmax", "leaky_relu"]
OLD_FLOAT_LABEL_LOSSES = {"mse", "sum_squared_error", "l1", "bce", "bce_with_logits"}
OLD_INTERVALS = {"step": "epoch", "cosine": "epoch", "onecycle": "step"}
REQUIRED = {"linear": {"in_features": 3, "out_features": 2},
            "conv1d": {"in_channels": 2, "out_channels": 2, "kernel_size": 1},
            "conv2d": {"in_channels": 2, "out_channels": 2, "kernel_size": 1},
            "maxpool2d": {"kernel_size": 2}, "avgpool2d": {"kernel_size": 2},
            "batchnorm1d": {"num_features": 2}, "batchnorm2d": {"num_features": 2},
            "layernorm": {"normalized_shape": 3},
            "embedding": {"num_embeddings": 4, "embedding_dim": 2}}


# ---- typed fields -------------------------------------------------------------------------

def test_entry_facts_are_typed_fields_not_a_dict():
    assert "extra" not in {f.name for f in dataclasses.fields(Entry)}
    hints = inspect.get_annotations(Entry)
    for field in dataclasses.fields(Entry):
        assert field.name in hints and "Any" != hints[field.name], field.name
    for entries in (REGISTRY.kind(k) for k in ("layer", "loss", "source", "transform")):
        assert not any(hasattr(e, "extra") for e in entries.values())


def test_a_misspelt_or_unknown_fact_fails_when_the_vocabulary_loads():
    with pytest.raises(TypeError):
        Entry(kind="scheduler", name="x", intervall="step")  # misspelt field
    with pytest.raises(TypeError):
        Entry(kind="layer", name="x", extra={"params": None})
    with pytest.raises(ValueError, match="interval"):
        Entry(kind="scheduler", name="x", interval="steps")
    with pytest.raises(ValueError, match="labels"):
        Entry(kind="loss", name="x", labels="floats")
    with pytest.raises(ValueError, match="'dmi'"):
        Entry(kind="layer", name="x", args=(Arg("dim", Int()),), python_always=("dmi",))
    with pytest.raises(ValueError, match="'total'"):
        Entry(kind="scheduler", name="x", run_steps_arg="total")


# ---- trainable layers ---------------------------------------------------------------------

def _old_trainable(name: str, values: dict) -> bool:
    flag = OLD_PARAMETERIZED.get(name, False)
    return flag is None or bool(flag and values.get(flag))


@pytest.mark.parametrize("name", OLD_LAYERS)
def test_trainability_matches_the_old_hand_list_and_torch(name):
    entry = REGISTRY.get("layer", name)
    flags = [a.name for a in entry.args if a.name in ("bias", "affine", "elementwise_affine")]
    for off in [None, *flags]:
        values = {**entry.defaults(), **REQUIRED.get(name, {})}
        if off is not None:
            values[off] = False
        layer = _torch_layer(entry, values)
        in_torch = any(p.requires_grad for p in layer.parameters())
        assert entry.trainable(values) == _old_trainable(name, values) == in_torch, (name, off)


@pytest.mark.parametrize("name", REGISTRY.names("layer"))
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(data=st.data())
def test_every_layer_is_trainable_exactly_when_its_torch_module_has_parameters(name, data):
    entry = REGISTRY.get("layer", name)
    values = {a.name: data.draw(values_of(a.type), label=a.name) for a in entry.args}
    assume(not (entry.validate and entry.validate(values)))
    layer = _torch_layer(entry, values)
    assert entry.trainable(values) == any(p.requires_grad for p in layer.parameters())


def _spec(layers: str) -> str:
    return textwrap.dedent(f"""\
        model M {{
            layers {{ {layers} }}
        }}
        data d {{
            inputs = [[1.0, 2.0], [3.0, 4.0]]
            labels = [[1.0, 2.0], [3.0, 4.0]]
        }}
        train {{
            model = M
            data = d
            loss = mse
            max_epochs = 1
        }}
        """)


@pytest.mark.parametrize("layers, trainable", [
    ("relu()", False), ("batchnorm1d(2, affine = false)", False),
    ("layernorm(2, elementwise_affine = false)", False), ("batchnorm1d(2)", True),
    ("linear(2, 2, bias = false)", True), ("relu() layernorm(2)", True)])
def test_check_reports_a_model_without_trainable_layers(layers, trainable):
    analysis = analyze_text(_spec(layers), "m.lit")
    codes = [d.code for d in analysis.diagnostics]
    assert ("no-trainable" not in codes) == trainable, analysis.diagnostics


# ---- losses -------------------------------------------------------------------------------

def test_float_label_losses_are_the_old_list():
    losses = REGISTRY.kind("loss")
    assert {n for n, e in losses.items() if e.labels == "float"} == OLD_FLOAT_LABEL_LOSSES
    assert {n for n, e in losses.items() if e.labels == "index"} == {"cross_entropy", "nll"}
    assert all(e.check is not None for e in losses.values())


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("name", REGISTRY.names("loss"))
def test_a_losss_label_kind_is_what_torch_takes(name):
    entry = REGISTRY.get("loss", name)
    loss = _torch_layer(entry, entry.defaults())
    output, indices = torch.rand(4, 3), torch.tensor([0, 2, 1, 2])
    if entry.labels == "index":  # one class index per sample, as integers
        loss(output.log_softmax(1), indices)
        with pytest.raises(RuntimeError):
            loss(output.log_softmax(1), indices.float())
    else:  # targets shaped like the output (so integer labels are cast, not indices)
        loss(output, torch.rand(4, 3))
        with pytest.raises((RuntimeError, ValueError)):
            loss(output, indices.float())


# ---- schedulers ---------------------------------------------------------------------------

def test_scheduler_facts_are_the_old_special_cases():
    schedulers = REGISTRY.kind("scheduler")
    assert {n: e.interval for n, e in schedulers.items()} == OLD_INTERVALS
    assert {n: e.run_steps_arg for n, e in schedulers.items() if e.run_steps_arg} == \
        {"onecycle": "total_steps"}
    onecycle = schedulers["onecycle"]
    assert onecycle.run_steps_default({"total_steps": None}) == "total_steps"
    assert onecycle.run_steps_default({"total_steps": 7}) is None


def test_the_run_steps_arg_is_one_torch_needs():
    entry = REGISTRY.get("scheduler", "onecycle")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    values = {k: v for k, v in entry.defaults().items() if k != entry.run_steps_arg}
    with pytest.raises(ValueError):  # torch cannot tell the schedule's length without it
        _resolve(entry.target)(optimizer, max_lr=0.1, **values)
    _resolve(entry.target)(optimizer, max_lr=0.1, **values, **{entry.run_steps_arg: 10})


def _resolve(target: str):
    import importlib

    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module(module), name)


ONECYCLE = """
model M {
    layers { linear(2, 1) }
}
data d {
    inputs = [[1.0, 2.0], [3.0, 4.0], [0.5, 1.0], [2.0, 2.0]]
    labels = [[1.0], [2.0], [0.5], [1.5]]
    batch_size = 2
}
train {
    model = M
    data = d
    loss = mse
    optimizer = sgd(lr = 0.1)
    scheduler = onecycle(max_lr = 0.5)
    EPOCHS
}
"""


@pytest.mark.parametrize("epochs, steps", [
    ("max_epochs = -1\n    max_steps = 5", 5), ('max_epochs = "-1"\n    max_steps = 4', 4),
    ("max_epochs = 3", 6), ("max_steps = 3", 3)])
def test_onecycle_defaults_to_the_runs_steps_outside_a_trainer(epochs, steps, tmp_path):
    """configure_optimizers without a trainer estimates the steps from the spec's settings
    (``max_epochs = "-1"``, the word, used to reach the step count as a str: TypeError)."""
    import lightdsl

    path = tmp_path / "onecycle.lit"
    path.write_text(ONECYCLE.replace("EPOCHS", epochs), encoding="utf-8")
    config = lightdsl.load(str(path)).module.configure_optimizers()
    assert config["lr_scheduler"]["interval"] == "step"
    assert config["lr_scheduler"]["scheduler"].total_steps == steps


# ---- data ---------------------------------------------------------------------------------

def test_transforms_facts_name_the_data_librarys_functions():
    import inspect

    from lightdsl.vocab.registry import resolve

    transforms = REGISTRY.kind("transform")
    assert {n for n, e in transforms.items() if e.augment} == {"random_crop", "random_flip"}
    assert {n for n, e in transforms.items() if e.converts} == {"normalize", "standardize",
                                                                "to_float"}
    assert {n for n, e in transforms.items() if e.fit} == {"normalize", "standardize", "one_hot"}
    for entry in transforms.values():  # augmentations take a batch and a generator
        parameters = inspect.signature(resolve(entry.target)).parameters
        assert ("generator" in parameters) == entry.augment, entry.name
        assert set(entry.arg_names) <= set(parameters), entry.name
        if entry.fit:
            fit = set(inspect.signature(resolve(entry.fit)).parameters)
            assert {"train", *entry.arg_names} <= fit, entry.name


def test_sources_facts():
    sources = REGISTRY.kind("source")
    assert all(e.sample is not None for e in sources.values())
    assert {n for n, e in sources.items() if e.files} == {"mnist", "fashion_mnist", "kmnist",
                                                          "cifar10"}
    assert {n for n, e in sources.items() if e.needs_torchvision} == {"cifar10"}
    assert {n for n, e in sources.items() if e.input_dtype == "float"} == {
        "mnist", "fashion_mnist", "kmnist", "cifar10", "digits", "csv"}


# ---- settings -----------------------------------------------------------------------------

def test_one_precision_list():
    from lightdsl.codegen.script import PRECISION_DTYPES
    from lightdsl.trainer import resolve_precision
    from lightdsl.trainer.config import check_precision

    spec_choices = REGISTRY.get("settings", "train").arg("precision").type.options
    assert list(spec_choices) == [*run_settings.PRECISIONS, *run_settings.SHORT_PRECISIONS]
    assert set(PRECISION_DTYPES) == set(run_settings.PRECISIONS)
    for name in spec_choices:
        canonical = run_settings.canonical_precision(name)
        assert check_precision(name) == canonical in run_settings.PRECISIONS
    for name, (weights, autocast) in PRECISION_DTYPES.items():  # the script's dtypes: the trainer's
        # the table itself ("meta": no device rule; on the CPU, 16-mixed trains as bf16-mixed)
        resolved = resolve_precision(name, torch.device("meta"))
        assert str(resolved.param_dtype) == (weights or "torch.float32"), name
        assert str(resolved.autocast_dtype) == str(autocast), name
    assert resolve_precision("16-mixed", torch.device("cpu")).autocast_dtype == torch.bfloat16


@pytest.mark.parametrize("value, max_steps, expected", [
    (None, -1, 1000), (None, 10, -1), ("-1", -1, -1), ("-1", 10, -1), (5, -1, 5), (5, 10, 5)])
def test_max_epochs_rule(value, max_steps, expected):
    from lightdsl.trainer import TrainerConfig

    assert run_settings.max_epochs(value, max_steps) == expected
    if value != "-1":  # the trainer's own argument is an int (or None)
        assert TrainerConfig(max_epochs=value, max_steps=max_steps).max_epochs == expected


def test_codegen_reserved_names_are_the_checkers():
    from lightdsl.codegen.reserved import MODULE_ATTRIBUTES
    from lightdsl.vocab import reserved

    assert MODULE_ATTRIBUTES == (reserved.NN_MODULE_METHODS | reserved.NN_MODULE_ATTRIBUTES
                                 | reserved.LIGHTNING_MODULE)
    assert reserved.reserved_reason("training_step").startswith("lightdsl's compiled module")


def test_every_loss_says_what_the_output_is_and_metrics_read_it():
    """The loss entries' ``outputs`` replace the metric module's hand lists of loss names:
    class-index losses are exactly those reading labels as indices, binary ones the bce pair,
    and only a logits loss makes metrics apply a sigmoid."""
    from lightdsl.vocab.metrics import is_binary_loss, is_index_loss, loss_outputs

    losses = REGISTRY.names("loss")
    assert all(loss_outputs(name) is not None for name in losses)
    assert [n for n in losses if is_index_loss(n)] == ["cross_entropy", "nll"]
    assert [n for n in losses if is_index_loss(n)] == \
        [n for n in losses if REGISTRY.get("loss", n).labels == "index"]
    assert [n for n in losses if is_binary_loss(n)] == ["bce", "bce_with_logits"]
    assert [n for n in losses if loss_outputs(n) == "logits"] == ["bce_with_logits"]
    assert loss_outputs("Smooth") is None and not is_index_loss(None)  # python(...) losses
