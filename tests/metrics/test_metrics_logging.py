"""The confusion matrix as a picture in TensorBoard's event file and as a table in evaluate;
check's inference and did-you-mean list, without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import lightdsl
from lightdsl.frontend.analysis import analyze_text
from lightdsl.runtime.metrics import matrix_image
from lightdsl.trainer.matrices import matrix_text

from .conftest import CLASSIFIER


def test_confusion_matrix_picture_is_in_the_event_file(classifier_spec, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.chdir(classifier_spec.parent)
    result = lightdsl.load(str(classifier_spec)).fit(
        logger="tensorboard", enable_progress_bar=False, enable_model_summary=False,
        enable_checkpointing=False)
    events = EventAccumulator(str(result.log_dir), size_guidance={"images": 0})
    events.Reload()
    assert {"val_confusion_matrix", "train_confusion_matrix_epoch"} <= set(
        events.Tags()["images"])
    (image,) = events.Images("val_confusion_matrix")
    assert (image.width, image.height) == (3 * 24 + 1, 3 * 24 + 1)
    assert "val_confusion_matrix" not in events.Tags()["scalars"]
    assert "val_f1" in events.Tags()["scalars"]


def test_matrix_picture_shades_rows_and_draws_a_grid():
    image = matrix_image(np.array([[3, 1], [0, 0]]))
    assert image.shape == (49, 49, 3) and image.dtype == np.uint8
    assert tuple(image[0, 0]) == (160, 160, 160)  # grid
    assert tuple(image[12, 12]) == (8, 48, 107)  # the row's largest count: darkest
    assert tuple(image[36, 36]) == (255, 255, 255)  # an empty row stays white
    assert 8 < image[12, 36, 0] < 255  # a third of the row's peak: in between


def test_matrix_text_is_aligned():
    assert matrix_text("val confusion_matrix", [[5, 0], [12, 3]]).splitlines()[1:] == [
        "     0  1", " 0   5  0", " 1  12  3"]


def _run(text):
    analysis = analyze_text(text, "spec.lit")
    return analysis, next(iter(analysis.program.runs.values())) if analysis.program else None


INLINE = CLASSIFIER.replace('source = npz("blobs.npz")', "inputs = [[0.0, 1.0, 0.0, 1.0], "
                            "[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0], [2.0, 1.0, 1.0, 0.0]]"
                            "\n    labels = [0, 1, 2, 1]")


def test_check_infers_the_task_from_the_output_and_loss():
    analysis, run = _run(INLINE)
    assert not [d for d in analysis.diagnostics if d.severity == "error"]
    tasks = {m.name: (m.values["task"], m.values["num_classes"]) for m in run.metrics}
    assert set(tasks.values()) == {("multiclass", 3)}
    binary = INLINE.replace("linear(6, 3)", "linear(6, 1)").replace("cross_entropy",
                                                                     "bce_with_logits")
    binary = binary.replace("labels = [0, 1, 2, 1]", "labels = [0, 1, 1, 0]")
    analysis, run = _run(binary)
    assert not [d for d in analysis.diagnostics if d.severity == "error"], analysis.diagnostics
    assert {(m.values["task"], m.values["num_classes"]) for m in run.metrics} == {
        ("binary", None)}


def test_monitor_did_you_mean_lists_the_metric_names():
    text = INLINE.replace("seed = 3", 'seed = 3\n    callbacks = [checkpoint(monitor = "val_f2")]')
    analysis, _ = _run(text)
    (error,) = [d for d in analysis.diagnostics if d.severity == "error"]
    assert 'did you mean "val_f1"' in error.message
    assert "val_auroc" in error.hint and "val_confusion_matrix" not in error.hint


def test_check_with_metrics_imports_neither_torch_nor_torchmetrics(tmp_path):
    spec = tmp_path / "spec.lit"
    spec.write_text(INLINE, encoding="utf-8")
    code = ("import sys; from lightdsl.frontend.analysis import analyze_file; "
            f"analyze_file({str(spec)!r}); "
            "print('torch' in sys.modules, 'torchmetrics' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.stdout.strip() == "False False", result.stderr
