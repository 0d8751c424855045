"""specs/char_gru.lit: a character-level GRU language model (issue 12 item 6).

The shipped spec's model, trained two epochs on specs/data/tiny.txt, must beat the unigram
baseline (the best a model that ignores context can do) and the best bigram model (counted
from the training split: the best a model that sees only the current character can do, what
specs/char_bigram.lit converges to). Its generated scripts compute and train as lightdsl does.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

import lightdsl
from lightdsl.analysis import analyze_file
from lightdsl.data.text import unigram_baseline

from .scripts import assert_script_trains_as_lightdsl, generated_and_compiled

SPEC = Path(__file__).resolve().parents[2] / "specs" / "char_gru.lit"
TINY = SPEC.parent / "data" / "tiny.txt"
QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None,
         "enable_checkpointing": False}


def bigram_baseline(train, val, classes: int, smoothing: float = 0.01) -> float:
    """The mean cross-entropy, in nats, on ``val`` of the bigram model counted on ``train``
    (next-character frequencies after each character, add-``smoothing``)."""
    counts = torch.full((classes, classes), smoothing, dtype=torch.float64)
    ones = torch.ones(train.inputs.numel(), dtype=torch.float64)
    pairs = (train.inputs.reshape(-1).long(), train.labels.reshape(-1).long())  # int16 kept
    counts.index_put_(pairs, ones, accumulate=True)
    log_p = (counts / counts.sum(1, keepdim=True)).log()
    return float(-log_p[val.inputs.reshape(-1).long(), val.labels.reshape(-1).long()].mean())


def small_spec(folder: Path, hidden: int = 16) -> Path:
    """The spec's model on the first 3000 characters of tiny.txt in windows of 16 (a copy in
    ``folder``), with a train block for ``CharGRU(hidden = hidden)``."""
    text = TINY.read_text(encoding="utf-8")[:3000]
    (folder / "chars.txt").write_text(text, encoding="utf-8")
    model = SPEC.read_text(encoding="utf-8").split("\ndata ")[0]
    spec = folder / "char_gru_small.lit"
    spec.write_text(model + f"""
data chars {{
    source = text(path = "chars.txt", seq_len = 16)
    val = split(0.2, seed = 0)
    batch_size = 16
}}

train {{
    model = CharGRU(vocab = {len(set(text))}, hidden = {hidden})
    data = chars
    loss = cross_entropy
    metrics = [accuracy]
    optimizer = adam(lr = 0.01)
    max_epochs = 1
    seed = 7
}}
""", encoding="utf-8")
    return spec


def test_the_spec_checks_clean():
    analysis = analyze_file(str(SPEC))
    assert analysis.diagnostics == []
    run = analysis.program.runs["default"]
    classes = len(set(TINY.read_text(encoding="utf-8")))
    assert run.data.sample_shape == (64,) and run.data.input_dtype == "int"
    assert run.data.labels.num_classes == classes == 29
    assert run.output_shape == (None, 64, classes)


def test_the_gru_beats_the_unigram_and_bigram_baselines(tmp_path):
    experiment = lightdsl.load(str(SPEC), overrides=["train.max_epochs=2", "train.seed=0"])
    data = experiment.data
    unigram = unigram_baseline(data.val.labels)
    bigram = bigram_baseline(data.train, data.val, experiment.run.data.labels.num_classes)
    start = time.perf_counter()
    result = experiment.fit(default_root_dir=str(tmp_path / "logs"), **QUIET)
    seconds = time.perf_counter() - start
    val_loss = result.last_metrics["val_loss"]
    print(f"char_gru, 2 epochs: val_loss {val_loss:.3f} < bigram {bigram:.3f} < unigram "
          f"{unigram:.3f} nats ({seconds:.1f} s)")
    assert unigram > 2.5 and 1.8 < bigram < unigram - 0.5
    assert val_loss < bigram - 0.1


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_generated_model_computes_the_compiled_models_outputs(tmp_path, target):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    generated, compiled, _ = generated_and_compiled(SPEC, tmp_path, target, "char_gru")
    x = torch.randint(0, 29, (3, 64), generator=torch.Generator().manual_seed(0))
    expected = compiled(x)
    assert expected.shape == (3, 64, 29)
    assert torch.equal(generated(x), expected)


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_generated_script_trains_as_lightdsl(tmp_path, monkeypatch, target):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    spec = small_spec(tmp_path)
    assert_script_trains_as_lightdsl(spec, tmp_path, monkeypatch, target, "char_gru_train", 7)
