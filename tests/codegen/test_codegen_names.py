"""Spec names never break generated Python (issue 11 item 9): keywords and names the script
uses itself are renamed, members named like nn.Module attributes are refused; and settings a
target does not reproduce are said at codegen time."""

from __future__ import annotations

import logging

import pytest
import torch

from lightdsl.analysis import analyze_text
from lightdsl.api import SpecError
from lightdsl.cli import main as cli_main
from lightdsl.codegen import generate
from lightdsl.codegen.reserved import MODULE_ATTRIBUTES, shadows_module_attribute
from lightdsl.errors import UsageError

from ..helpers.scripts import load_script

ODD_NAMES = """
model Odd(lambda = 3, class = 2) {
    param None_ = 0.5
    param torch = 0.1
    lambda_ = linear(4, lambda)
    loss_fn = linear(lambda, class)
    rate = linear(class, 3)
    forward(x) {
        def = tanh(lambda_(x)) * torch
        return rate(loss_fn(def)) + None_
    }
}
data d {
    inputs = [[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.5, 0.2], [1.0, 1.0, 1.0, 1.0], [2.0, 0.1, 0.3, 0.0]]
    labels = [0, 1, 2, 0]
    batch_size = 2
}
train {
    model = Odd(lambda = 5)
    data = d
    loss = cross_entropy
    optimizer = sgd(lr = 0.1)
    max_epochs = 2
    seed = 1
    lr_find(num_training = 3)
}
"""
KEYS = ["None_", "lambda_.bias", "lambda_.weight", "loss_fn.bias", "loss_fn.weight",
        "rate.bias", "rate.weight", "torch"]


def test_the_reserved_list_covers_the_installed_module_classes():
    pl = pytest.importorskip("pytorch_lightning")
    names = set(dir(torch.nn.Module())) | set(dir(pl.LightningModule()))
    missing = {n for n in names if not shadows_module_attribute(n)}
    assert not missing, f"add these to lightdsl/codegen/reserved.py: {sorted(missing)}"
    assert {"train", "eval", "training", "forward", "hparams"} <= MODULE_ATTRIBUTES


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_unusual_legal_names_give_a_script_that_trains(target, tmp_path, monkeypatch):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
        logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    analysis = analyze_text(ODD_NAMES, str(tmp_path / "odd.lit"))
    assert analysis.ok, analysis.diagnostics
    path = tmp_path / f"odd_{target}.py"
    path.write_text(generate(analysis, target=target).text, encoding="utf-8")
    compile(path.read_text(encoding="utf-8"), str(path), "exec")
    monkeypatch.chdir(tmp_path)
    script = load_script(path, f"odd_{target}")
    quiet = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False,
             "enable_checkpointing": False} if target == "lightning" else {}
    model = script.main(**quiet)
    assert sorted(model.state_dict()) == KEYS  # the spec's names, as lightdsl's state_dict
    if target == "lightning":
        assert model.learning_rate == 0.1  # no suggestion from 3 points: the spec's lr


@pytest.mark.parametrize("name", ["train", "eval", "training", "forward", "hparams", "__dict__",
                                  "_parameters", "state_dict"])
def test_members_named_like_module_attributes_are_refused(name, tmp_path):
    text = ODD_NAMES.replace("lambda_", name)
    analysis = analyze_text(text, str(tmp_path / "odd.lit"))
    with pytest.raises((UsageError, SpecError)) as raised:
        generate(analysis)  # refused by check (SpecError) or by the generator, located
    if isinstance(raised.value, UsageError):
        assert "odd.lit:5:" in str(raised.value)  # the layer's line
        assert f"error: the layer name {name!r} would shadow" in str(raised.value)


NOT_REPRODUCED = """
model M { layers { linear(2, 2) } }
data d {
    inputs = [[1.0, 2.0], [0.0, 1.0]]
    labels = [0, 1]
    batch_size = 1
    num_workers = 2
}
train {
    model = M
    data = d
    loss = cross_entropy
    logger = csv
    callbacks = [early_stopping(monitor = "train_loss")]
}
"""


def test_settings_the_torch_script_does_not_reproduce_are_said(tmp_path, capsys):
    spec = tmp_path / "notes.lit"
    spec.write_text(NOT_REPRODUCED, encoding="utf-8")
    out = tmp_path / "notes.py"
    assert cli_main(["codegen", str(spec), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: " in err and "does not reproduce logger = csv" in err
    assert "num_workers" in err and "early_stopping monitors" in err
    text = out.read_text(encoding="utf-8")
    assert "Not reproduced by this script" in text and "num_workers/pin_memory" in text
    compile(text, str(out), "exec")
    assert generate(analyze_text(NOT_REPRODUCED, str(spec)), target="lightning").notes == ()


def test_keyword_hyperparameters_have_one_python_name_in_scripts_and_checkpoints(tmp_path):
    """The script's constructor arguments are the names lightdsl's checkpoints save the
    hyperparameters under (argument_names): a keyword gets an underscore, a name the script
    uses itself too, and the renamed never collide with another hyperparameter's name."""
    from lightdsl.vocab.reserved import argument_names

    hypers = ["lambda", "lambda_", "torch", "width", "l", "class"]
    names = argument_names(hypers)
    assert names == {"lambda": "lambda__", "lambda_": "lambda_", "torch": "torch_",
                     "width": "width", "l": "l_", "class": "class_"}
    spec = ("model N(" + ", ".join(f"{h} = 2" for h in hypers) + ") {\n"
            "    layers { linear(lambda, class) }\n}\n"
            "data d {\n    inputs = [[1.0, 2.0], [0.0, 1.0]]\n    labels = [0, 1]\n"
            "    batch_size = 1\n}\n"
            "train {\n    model = N()\n    data = d\n    loss = cross_entropy\n}\n")
    analysis = analyze_text(spec, str(tmp_path / "n.lit"))
    assert analysis.ok, analysis.diagnostics
    for target in ("torch", "lightning"):
        text = generate(analysis, target=target).text
        arguments = ", ".join(f"{names[h]}=2" for h in hypers)
        assert f"def __init__(self, {arguments}):" in text
