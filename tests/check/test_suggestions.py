"""Did-you-mean and hints (issue 16 item 11): names are compared ignoring case, other libraries'
spellings are suggested (never accepted), one did_you_mean serves the checker, the trainer and
the data loaders, and ``--format github`` keeps the hint."""

from __future__ import annotations

import pytest

from lightdsl import suggest
from lightdsl.analysis import analyze_text
from lightdsl.cli import main
from lightdsl.frontend import diagnostics
from lightdsl.vocab.registry import REGISTRY

SPEC = """
model Net {
    layers {
        LAYER
    }
}
data d { inputs = [[1.0, 2.0, 3.0, 4.0]]  labels = [0]  batch_size = 1 }
train { model = Net  data = d  loss = LOSS  optimizer = OPTIMIZER(lr = 0.1) }
"""


def _messages(layer="linear(4, 2)", loss="cross_entropy", optimizer="adam") -> list[str]:
    text = SPEC.replace("LAYER", layer).replace("LOSS", loss).replace("OPTIMIZER", optimizer)
    return [d.message for d in analyze_text(text, "spec.lit").errors]


@pytest.mark.parametrize("layer, meant", [
    ("Dense(4, 2)", "linear"), ("dense(4, 2)", "linear"), ("fc(4, 2)", "linear"),
    ("ReLU()", "relu"), ("Conv2d(1, 2, 3)", "conv2d"), ("Conv2D(1, 2, 3)", "conv2d"),
    ("BatchNorm2d(3)", "batchnorm2d"), ("LeakyReLU()", "leaky_relu"),
    ("MaxPooling2D(2)", "maxpool2d"), ("LayerNormalization(4)", "layernorm"),
    ("Dense", "linear"), ("ReLU", "relu")])  # bare names in a layers block too
def test_layer_spellings_of_keras_and_pytorch_are_suggested(layer, meant):
    name = layer.split("(")[0]
    messages = _messages(layer)
    assert f'unknown layer "{name}"; did you mean "{meant}"?' in messages, messages


@pytest.mark.parametrize("loss, meant", [("CrossEntropyLoss", "cross_entropy"),
                                         ("MSELoss", "mse"), ("BCELoss", "bce"),
                                         ("sparse_categorical_crossentropy", "cross_entropy"),
                                         ("NLLLoss", "nll"), ("L1Loss", "l1")])
def test_loss_spellings_are_suggested(loss, meant):
    assert f'unknown loss "{loss}"; did you mean "{meant}"?' in _messages(loss=loss)


def test_optimizer_case_is_ignored_in_the_suggestion():
    assert 'unknown optimizer "Adam"; did you mean "adam"?' in _messages(optimizer="Adam")
    assert 'unknown optimizer "AdamW"; did you mean "adamw"?' in _messages(optimizer="AdamW")


def test_an_alias_is_a_suggestion_not_a_second_name():
    for kind in ("layer", "loss", "optimizer", "scheduler", "callback"):
        for alias, name in REGISTRY._aliases.get(kind, {}).items():
            assert REGISTRY.get(kind, alias) is None and REGISTRY.get(kind, name) is not None
    with pytest.raises(ValueError, match="taken"):
        REGISTRY.alias("layer", "linear", "relu")


def test_one_did_you_mean_everywhere():
    from lightdsl.checker import binding, flow
    from lightdsl.data import dataset
    from lightdsl.trainer import callbacks, config

    assert binding.did_you_mean is flow.did_you_mean is suggest.did_you_mean
    assert not hasattr(diagnostics, "did_you_mean")  # the front end has none of its own
    assert config.did_you_mean is callbacks.did_you_mean is dataset.did_you_mean \
        is suggest.did_you_mean
    with pytest.raises(Exception) as err:  # the trainer's options compare ignoring case too
        config.check_choice("accelerator", "CUDA_", config.ACCELERATORS)
    assert err.value.hint == 'did you mean "cuda"?'
    assert dataset.name_hint("Species", ["species", "width"]) == 'did you mean "species"?'
    assert dataset.name_hint("zzz", ["x", "y"]) == "available: 'x', 'y'"


def test_closest_ignores_case_but_spells_as_the_candidate():
    assert suggest.closest("RELU", ["relu", "gelu"]) == "relu"
    assert suggest.closest("Linear", ["linear"]) == "linear"
    assert suggest.closest("xyz", ["linear"]) is None
    assert suggest.did_you_mean("xyz", ["linear"]) == ""


def test_github_format_keeps_the_hint(tmp_path, capsys):
    spec = tmp_path / "spec.lit"
    spec.write_text(SPEC.replace("LAYER", "dropout(50)").replace("LOSS", "cross_entropy")
                    .replace("OPTIMIZER", "adam"))
    assert main(["check", "--format", "github", str(spec)]) == 1
    out = capsys.readouterr().out
    (line,) = [x for x in out.splitlines() if "dropout" in x]
    assert line.startswith("::error file=") and "%0Ahint: this is a fraction, not a " \
        "percentage: 0.5" in line, line
    text_format = analyze_text(spec.read_text(), str(spec)).errors[0]
    assert text_format.hint == "this is a fraction, not a percentage: 0.5"
