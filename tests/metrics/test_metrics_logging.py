"""The confusion matrix as a picture in TensorBoard's event file and as a table in evaluate;
check's inference and did-you-mean list, without torch."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import lightdsl
from lightdsl.analysis import analyze_text
from lightdsl.runtime.metrics import matrix_image
from lightdsl.trainer.matrices import matrix_text

from ..helpers.runner import run_code
from ..helpers.specs import CLASSIFIER


def test_confusion_matrix_picture_is_in_the_event_file(classifier_spec, monkeypatch):
    """The picture drawn with matplotlib (counts, class names, axes), not 73x73 px of shaded
    cells; the class names come from the data (string labels here)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from lightdsl.trainer import matrices

    data = np.load(classifier_spec.parent / "blobs.npz")
    names = np.array(["alpina", "borealis", "coastal"])[data["y"]]
    np.savez(classifier_spec.parent / "blobs.npz", x=data["x"], y=names)
    drawn = []

    def spy(matrix, names=None, title=""):
        drawn.append((title, names, np.asarray(matrix).sum()))
        return real(matrix, names, title)

    real = matrices.confusion_image
    monkeypatch.setattr(matrices, "confusion_image", spy)
    monkeypatch.chdir(classifier_spec.parent)
    result = lightdsl.load(str(classifier_spec)).fit(
        logger="tensorboard", enable_progress_bar=False, enable_model_summary=False,
        enable_checkpointing=False)
    events = EventAccumulator(str(result.log_dir), size_guidance={"images": 0})
    events.Reload()
    assert {"val_confusion_matrix", "train_confusion_matrix_epoch"} <= set(
        events.Tags()["images"])
    (image,) = events.Images("val_confusion_matrix")
    assert image.width >= 300 and image.height >= 300, (image.width, image.height)
    assert "val_confusion_matrix" not in events.Tags()["scalars"]
    assert "val_f1" in events.Tags()["scalars"]
    assert ("val_confusion_matrix", ["alpina", "borealis", "coastal"], 23) in drawn


def test_confusion_figure_has_counts_class_names_and_axes():
    from lightdsl.plots.confusion import confusion_figure

    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
    matrix = np.arange(100).reshape(10, 10) + 1000 * np.eye(10, dtype=int)
    figure = confusion_figure(matrix, names, "val_confusion_matrix")
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in ax.texts}
    assert cells[(0, 0)] == "1000" and cells[(0, 1)] == "1" and cells[(9, 8)] == "98"
    assert len(cells) == 100
    width, height = figure.get_size_inches() * figure.dpi
    assert 500 <= width <= 1000 and 500 <= height <= 1000  # readable at 10 classes


def test_many_classes_show_the_most_confused_and_never_a_class_squared_picture():
    """2000 classes: the old picture was 48001 x 48001 px (51 GiB as float64)."""
    from lightdsl.plots.confusion import confusion_figure, confusion_image

    matrix = np.diag(np.full(2000, 50))
    matrix[7, 1500] = matrix[1500, 7] = 9  # the classes most often confused
    matrix[42, 3] = 4
    image = confusion_image(matrix, None, "val_confusion_matrix")
    assert image.dtype == np.uint8 and max(image.shape[:2]) <= 1400, image.shape
    figure = confusion_figure(matrix, None, "val_confusion_matrix")
    ticks = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert len(ticks) == 20 and {"3", "7", "42", "1500"} <= set(ticks)
    assert "the 20 of 2,000 classes most often confused" in figure.get_suptitle()
    assert matrix_image(matrix).shape == (64 * 24 + 1, 64 * 24 + 1, 3)


def test_without_matplotlib_the_picture_degrades_with_one_warning(monkeypatch):
    import warnings

    from lightdsl.plots import confusion

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setattr(confusion, "_warned", [])
    with pytest.warns(UserWarning, match="matplotlib is not installed"):
        image = confusion.confusion_image([[3, 1], [0, 0]], ["a", "b"])
    np.testing.assert_array_equal(image, matrix_image(np.array([[3, 1], [0, 0]])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once only
        confusion.confusion_image([[3, 1], [0, 0]], ["a", "b"])


def test_matrix_picture_shades_rows_and_draws_a_grid():
    image = matrix_image(np.array([[3, 1], [0, 0]]))
    assert image.shape == (49, 49, 3) and image.dtype == np.uint8
    assert tuple(image[0, 0]) == (160, 160, 160)  # grid
    assert tuple(image[12, 12]) == (8, 48, 107)  # the row's largest count: darkest
    assert tuple(image[36, 36]) == (255, 255, 255)  # an empty row stays white
    assert 8 < image[12, 36, 0] < 255  # a third of the row's peak: in between


def test_matrix_text_is_aligned():
    assert matrix_text("val confusion_matrix", [[5, 0], [12, 3]]).splitlines()[1:] == [
        "    0   1", "0   5   0", "1  12   3"]


def test_matrix_text_has_the_class_names_and_the_most_confused_of_many():
    text = matrix_text("val confusion_matrix", [[20, 0, 0], [1, 12, 7], [0, 0, 20]],
                       ["alpina", "borealis", "coastal"])
    assert text.splitlines()[1:] == ["            alpina  borealis   coastal",
                                     "alpina          20         0         0",
                                     "borealis         1        12         7",
                                     "coastal          0         0        20"]
    many = np.diag(np.full(300, 5))
    many[250, 7] = 9
    lines = matrix_text("val confusion_matrix", many).splitlines()
    assert lines[1] == "the 20 of 300 classes most often confused"
    assert len(lines) == 3 + 20 and lines[2].split()[-1] == "250"


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
    code = ("import sys; from lightdsl.analysis import analyze_file; "
            f"analyze_file({str(spec)!r}); "
            "print('torch' in sys.modules, 'torchmetrics' in sys.modules)")
    result = run_code(code)
    assert result.stdout.strip() == "False False", result.stderr


@pytest.mark.parametrize("classes, warned", [(1000, False), (2000, True)])
def test_check_warns_about_a_confusion_matrix_of_very_many_classes(classes, warned):
    text = INLINE.replace("linear(6, 3)", f"linear(6, {classes})").replace(
        "labels = [0, 1, 2, 1]", f"labels = [0, 1, 2, 1]\n    num_classes = {classes}")
    analysis, _ = _run(text)
    assert not [d for d in analysis.diagnostics if d.severity == "error"], analysis.diagnostics
    found = [d for d in analysis.diagnostics if d.code == "metric-size"]
    assert len(found) == warned
    if warned:
        (warning,) = found
        assert warning.severity == "warning"
        assert warning.message == (
            "confusion_matrix with 2,000 classes counts 4,000,000 cells (32.0 MB per split) at "
            "every batch; its picture and evaluate's table show only the 20 classes most "
            "often confused")
        assert text[warning.span.start_pos:warning.span.end_pos] == "confusion_matrix"


def test_pictures_take_at_most_a_tenth_of_the_run_and_the_last_is_always_drawn(monkeypatch):
    """A run of many short epochs would spend most of its time drawing (a fraction of a
    second each): a matrix that comes too soon waits, the newest of each name; the end of the
    run draws what waits. A fake clock: every drawing takes 1 s, an epoch 2 s."""
    from lightdsl.trainer import matrices

    now = [0.0]
    written = []

    def draw(matrix, names, title):
        now[0] += 1.0
        return np.zeros((2, 2, 3), np.uint8)

    monkeypatch.setattr(matrices, "confusion_image", draw)
    pictures = matrices.MatrixPictures(lambda name, image, step: written.append((name, step)))
    pictures.clock = lambda: now[0]
    for epoch in range(30):
        pictures.add({"val_confusion_matrix": np.eye(2)}, step=epoch)
        now[0] += 2.0
    drawing = len(written) / now[0]  # drawn seconds / the run's seconds
    pictures.flush()
    # a picture (1 s) then 9 s without: every 5th epoch, and the last one at the end
    assert [step for _, step in written] == [0, 5, 10, 15, 20, 25, 29]
    assert {name for name, _ in written} == {"val_confusion_matrix"}
    assert drawing <= 0.1
