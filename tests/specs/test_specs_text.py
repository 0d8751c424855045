"""The text source, sequence losses and the unigram baseline (issue 12 item 6, groundwork of
the character-level language model).

The model trained here is a bigram model (embedding + linear: each character predicts the
next from itself alone), expressible without recurrent layers; it must already beat the
unigram baseline, the best any model that ignores context can do.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import lightdsl
from lightdsl.analysis import analyze_file
from lightdsl.data.text import load_text, unigram_baseline
from lightdsl.errors import DataError
from lightdsl.runtime import text as runtime_text

from .scripts import assert_script_trains_as_lightdsl

TINY = Path(__file__).resolve().parents[2] / "specs" / "data" / "tiny.txt"
QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None,
         "enable_checkpointing": False}

BIGRAM = """
model Bigram(vocab = {vocab}, dim = 24) {{
    layers {{
        embedding(vocab, dim)
        linear(dim, vocab)
    }}
}}

data chars {{
    source = text(path = "{path}", seq_len = {seq_len})
    val = split(0.2, seed = 0)
    batch_size = 32
}}

train {{
    model = Bigram()
    data = chars
    loss = {loss}
    metrics = [accuracy]
    optimizer = adam(lr = 0.02)
    max_epochs = {epochs}
    seed = 7
}}
"""


def bigram_spec(folder: Path, text: str | None = None, seq_len: int = 32, epochs: int = 1,
                loss: str = "cross_entropy", vocab: int | None = None) -> Path:
    """A bigram spec next to a copy of tiny.txt (or ``text``) in ``folder``."""
    data = folder / "chars.txt"
    if text is None:
        shutil.copy(TINY, data)
    else:
        data.write_text(text, encoding="utf-8")
    classes = vocab or len(set(data.read_text(encoding="utf-8")))
    spec = folder / "bigram.lit"
    spec.write_text(BIGRAM.format(vocab=classes, path=data.name, seq_len=seq_len, loss=loss,
                                  epochs=epochs), encoding="utf-8")
    return spec


# ---- the text source ----

def test_windows_are_the_next_characters(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("hello world, hello text\n", encoding="utf-8")
    data = load_text(path, seq_len=5)
    vocabulary = runtime_text.text_vocabulary(path.read_text(encoding="utf-8"))
    assert vocabulary == sorted(set("hello world, hello text\n"))

    def decode(row):
        return "".join(vocabulary[i] for i in row.tolist())

    assert data.inputs.dtype == data.labels.dtype == torch.int16  # widened a batch at a time
    assert data.inputs.shape == data.labels.shape == (4, 5)  # 24 chars, windows of 6 every 5
    assert [decode(r) for r in data.inputs] == ["hello", " worl", "d, he", "llo t"]
    assert [decode(r) for r in data.labels] == ["ello ", "world", ", hel", "lo te"]
    overlapping = load_text(path, seq_len=5, stride=2)
    assert len(overlapping) == (24 - 6) // 2 + 1
    assert decode(overlapping.inputs[1]) == "llo w"


def test_generated_scripts_load_the_same_tensors(tmp_path):
    x, y = runtime_text.load_text(TINY, seq_len=40, stride=17)
    data = load_text(TINY, seq_len=40, stride=17)
    assert torch.equal(x, data.inputs) and torch.equal(y, data.labels)


@pytest.mark.parametrize("content,message", [
    (None, "file not found"),
    (b"\xff\xfeabc", "not UTF-8 text"),
    (b"short", "the file has 5 characters; seq_len = 8 needs at least 9"),
])
def test_bad_files_are_data_errors(tmp_path, content, message):
    path = tmp_path / "t.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_text(path, seq_len=8)


def test_check_knows_the_shapes_and_the_vocabulary(tmp_path):
    analysis = analyze_file(str(bigram_spec(tmp_path)))
    assert analysis.errors == []
    run = analysis.program.runs["default"]
    classes = len(set(TINY.read_text(encoding="utf-8")))
    assert run.data.sample_shape == (32,) and run.data.input_dtype == "int"
    assert (run.data.labels.kind, run.data.labels.shape) == ("class", (None, 32))
    assert run.data.labels.num_classes == classes
    assert run.output_shape == (None, 32, classes)


def _diagnostics(spec: Path):
    analysis = analyze_file(str(spec))
    return [(d.severity, d.code, d.message) for d in analysis.diagnostics]


def test_check_reports_bad_text_files_where_they_are_named(tmp_path):
    spec = bigram_spec(tmp_path, text="abcdefgh", seq_len=8, vocab=8)
    short = "chars.txt has 8 characters; seq_len = 8 needs at least 9"
    assert _diagnostics(spec) == [("error", "data", short)]
    (tmp_path / "chars.txt").write_bytes(b"abc\xff" * 10)
    [(severity, code, message)] = _diagnostics(spec)
    assert (severity, code) == ("error", "data") and "is not UTF-8 text" in message
    (tmp_path / "chars.txt").unlink()
    [(severity, code, message)] = _diagnostics(spec)
    assert (severity, code) == ("warning", "missing-file") and "does not exist" in message


def test_check_compares_the_vocabulary_with_the_output_width(tmp_path):
    spec = bigram_spec(tmp_path, vocab=len(set(TINY.read_text(encoding="utf-8"))) + 1)
    errors = [m for s, _, m in _diagnostics(spec) if s == "error"]
    assert errors and all("scores per step but the data has" in m for m in errors)


def test_check_wants_one_score_vector_per_step(tmp_path):
    spec = bigram_spec(tmp_path)
    text = spec.read_text(encoding="utf-8").replace("linear(dim, vocab)",
                                                    "flatten()\n        linear(dim * 32, vocab)")
    spec.write_text(text, encoding="utf-8")
    errors = [m for s, _, m in _diagnostics(spec) if s == "error"]
    assert errors[0].startswith("cross_entropy wants an output of shape (N, 32, num_classes) "
                                "for labels of shape (N, 32), but the model returns (N, ")


# ---- sequence losses ----

@pytest.mark.parametrize("output,labels,message", [
    ((None, 16, 29), (None, 32), ("the model returns scores for 16 steps per sample but the "
                                 "labels have 32")),
    ((None, 32, 30), (None, 32), "the model returns 30 scores per step but the data has 29"),
    ((None, 29), (None, 32), "wants an output of shape (N, 32, num_classes)"),
    ((None, 32, 29), (None,), ("wants an output of shape (N, num_classes), but the model "
                              "returns (N, 32, 29)")),
    ((None, 4, 32, 29), None, "wants an output of shape (N, num_classes)"),
])
def test_the_class_label_rule_matches_steps_and_classes(output, labels, message):
    from lightdsl.vocab.shapes import Labels, ShapeError
    from lightdsl.vocab.training import class_labels

    with pytest.raises(ShapeError) as error:
        class_labels("cross_entropy")(output, Labels("class", labels, 29), {})
    assert message in error.value.message
    class_labels("cross_entropy")((None, 32, 29), Labels("class", (None, 32), 29), {})
    class_labels("cross_entropy")((None, 32, 29), Labels(), {})  # labels of unknown shape



@pytest.mark.parametrize("loss", ["cross_entropy", "cross_entropy(label_smoothing = 0.1)",
                                  "cross_entropy(reduction = \"sum\")", "nll"])
def test_sequence_cross_entropy_is_torchs_over_every_step(tmp_path, loss):
    spec = bigram_spec(tmp_path, loss=loss)
    if loss == "nll":  # log-probabilities: the same numbers as cross_entropy on the scores
        spec.write_text(spec.read_text(encoding="utf-8").replace(
            "linear(dim, vocab)", "linear(dim, vocab)\n        log_softmax()"), encoding="utf-8")
    module = lightdsl.load(str(spec)).module
    inputs, labels = (t[:8].long() for t in module.data.train.tensors)  # as a loader gives
    output = module(inputs)  # (8, 32, V): classes last
    smoothing = 0.1 if "smoothing" in loss else 0.0
    reduction = "sum" if "sum" in loss else "mean"
    expected = F.cross_entropy(output.reshape(-1, output.shape[-1]), labels.reshape(-1),
                               label_smoothing=smoothing, reduction=reduction)
    results = module.validation_step((inputs, labels), 0)
    torch.testing.assert_close(results["loss"], expected, rtol=1e-6, atol=1e-6)
    hits = (output.argmax(-1) == labels).double().mean()
    # accuracy is a torchmetrics object over every step of every sequence
    torch.testing.assert_close(results["accuracy"].compute().double(), hits)


def test_classifier_outputs_are_untouched():
    output, labels = torch.randn(4, 3), torch.tensor([0, 2, 1, 1])
    from lightdsl.runtime.sequences import class_scores_first

    assert class_scores_first(output, labels) is output
    scores = torch.randn(4, 5, 3)
    assert class_scores_first(scores, torch.zeros(4, 5, dtype=torch.long)).shape == (4, 3, 5)


# ---- the baseline ----

def test_unigram_baseline_is_the_entropy_of_the_labels():
    labels = torch.tensor([[0, 0, 1, 2], [0, 0, 1, 2]])
    p = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    assert unigram_baseline(labels) == pytest.approx(float(-(p * p.log()).sum()))
    # no constant prediction does better: the best one is the frequencies themselves
    logits = torch.zeros(3, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=0.1)
    for _ in range(300):
        optimizer.zero_grad()
        loss = F.cross_entropy(logits.expand(8, 3), labels.reshape(-1))
        loss.backward()
        optimizer.step()
    assert loss.item() >= unigram_baseline(labels) - 1e-9
    assert loss.item() == pytest.approx(unigram_baseline(labels), abs=1e-3)


def test_the_shipped_bigram_spec_beats_the_unigram_baseline(tmp_path):
    spec = TINY.parent.parent / "char_bigram.lit"
    experiment = lightdsl.load(str(spec), overrides=["train.max_epochs=2", "train.seed=0"])
    baseline = unigram_baseline(experiment.data.val.labels)
    start = time.perf_counter()
    result = experiment.fit(default_root_dir=str(tmp_path / "logs"), **QUIET)
    seconds = time.perf_counter() - start
    val_loss = result.last_metrics["val_loss"]
    print(f"char_bigram: val_loss {val_loss:.3f} < unigram {baseline:.3f} nats "
          f"({seconds:.1f} s)")
    assert baseline > 2.5  # the shipped text's characters: about 2.9 nats
    assert val_loss < baseline - 0.4


# ---- codegen ----

@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_generated_script_trains_as_lightdsl(tmp_path, monkeypatch, target):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    spec = bigram_spec(tmp_path, text=TINY.read_text(encoding="utf-8")[:4000], seq_len=16)
    source = assert_script_trains_as_lightdsl(spec, tmp_path, monkeypatch, target, "bigram", 7)
    assert "class_scores_first(output, labels)" in source and "to_float" not in source
