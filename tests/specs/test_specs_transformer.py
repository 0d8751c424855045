"""specs/transformer_classifier.lit: a small transformer classifier (issue 12 item 6).

Its task (specs/data/order.npz: does marker A come before marker B?) cannot be solved from a
bag of tokens, which is proved here on the data itself; the spec's model, trained a few epochs,
must be far above chance on validation data, and its generated scripts compute and train as
lightdsl does.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import lightdsl
from lightdsl.analysis import analyze_file

from .scripts import assert_script_trains_as_lightdsl, generated_and_compiled

SPEC = Path(__file__).resolve().parents[2] / "specs" / "transformer_classifier.lit"
DATA = SPEC.parent / "data"
QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None,
         "enable_checkpointing": False}


def generator():
    """specs/data/make_order_task.py, imported from its file."""
    spec = importlib.util.spec_from_file_location("make_order_task",
                                                  DATA / "make_order_task.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def swap_markers(x: torch.Tensor) -> torch.Tensor:
    """One-hot sequences with markers A (token 6) and B (token 7) exchanged."""
    return x[..., [0, 1, 2, 3, 4, 5, 7, 6]]


def test_the_spec_checks_clean():
    analysis = analyze_file(str(SPEC))
    assert analysis.diagnostics == []
    run = analysis.program.runs["default"]
    assert run.model.name == "OrderTransformer"
    assert run.data.sample_shape == (16, 8)  # from the .npz headers
    assert (run.data.labels.kind, run.data.labels.shape) == ("class", (None,))
    assert run.output_shape == (None, 2)


def test_the_shipped_data_is_the_generators():
    make = generator()
    tokens, labels = make.make_task()
    with np.load(DATA / "order.npz") as shipped:
        assert np.array_equal(shipped["x"], make.one_hot(tokens))
        assert np.array_equal(shipped["y"], labels)
    assert ((tokens == make.A).sum(1) == 1).all() and ((tokens == make.B).sum(1) == 1).all()
    first_a = np.argmax(tokens == make.A, axis=1)
    assert np.array_equal(labels, first_a < np.argmax(tokens == make.B, axis=1))
    assert 0.45 < labels.mean() < 0.55


def test_a_bag_of_tokens_cannot_tell_the_labels():
    """Exchanging A and B keeps every sequence's bag of tokens and flips its label: any model
    that sees only the bag (no positions) is right on exactly half of the two sets together."""
    experiment = lightdsl.load(str(SPEC))
    x, y = experiment.data.train.inputs, experiment.data.train.labels
    swapped = swap_markers(x)
    assert torch.equal(swapped.sum(1), x.sum(1))
    argmax = swapped.argmax(-1)
    assert torch.equal((argmax == 6).float().argmax(1) < (argmax == 7).float().argmax(1),
                       y == 0)


def test_the_transformer_learns_the_order(tmp_path):
    experiment = lightdsl.load(str(SPEC), overrides=["train.max_epochs=5"])
    start = time.perf_counter()
    result = experiment.fit(default_root_dir=str(tmp_path / "logs"), **QUIET)
    seconds = time.perf_counter() - start
    accuracy = result.last_metrics["val_accuracy"]
    module = experiment.module.eval()
    val = experiment.data.val
    with torch.no_grad():  # the same sequences with A and B exchanged: every label flips
        flipped = float((module(swap_markers(val.inputs)).argmax(1) == 1 - val.labels)
                        .float().mean())
    print(f"transformer_classifier, 5 epochs: val accuracy {accuracy:.3f}, {flipped:.3f} "
          f"with the markers exchanged (chance 0.5; {len(val)} samples, {seconds:.1f} s)")
    assert len(val) == 240
    assert accuracy >= 0.9 and flipped >= 0.9


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_generated_model_computes_the_compiled_models_outputs(tmp_path, target):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    generated, compiled, experiment = generated_and_compiled(SPEC, tmp_path, target, "transformer")
    x = experiment.data.val.inputs[:5].double()
    expected = compiled(x)
    assert expected.shape == (5, 2)
    assert torch.equal(generated(x), expected)


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_generated_script_trains_as_lightdsl(tmp_path, monkeypatch, target):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    (tmp_path / "data").mkdir()
    generator().main(tmp_path / "data" / "order.npz", samples=96, seed=1)
    spec = tmp_path / "transformer.lit"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace("max_epochs = 20",
                                                             "max_epochs = 1"), encoding="utf-8")
    assert_script_trains_as_lightdsl(spec, tmp_path, monkeypatch, target, "transformer_train", 0)
