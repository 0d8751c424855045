"""The Lightning script logs the confusion-matrix picture lightdsl logs (counts in the cells,
class names, axis labels; for many classes the most confused only), drawn by the same runtime
code; without matplotlib both fall back to the numpy picture with a one-time warning."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from lightdsl.plots import confusion

from ..helpers.scripts import load_script, write_script

pytest.importorskip("matplotlib")

SPEC = """
model Net {
    layers {
        linear(2, 3)
    }
}
data pts {
    inputs = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.2], [0.1, 0.9], [0.9, 0.3]]
    labels = ["coastal", "alpina", "borealis", "alpina", "coastal", "borealis"]
    val = split(0.5, seed = 1)
    batch_size = 2
}
train {
    model = Net
    data = pts
    loss = cross_entropy
    metrics = [accuracy, confusion_matrix]
    optimizer = sgd(lr = 0.1)
    max_epochs = 2
    seed = 3
}
"""
NAMES = ["alpina", "borealis", "coastal"]
MATRIX = np.array([[20, 0, 3], [1, 12, 7], [0, 0, 20]])


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    (folder / "pts.lit").write_text(SPEC, encoding="utf-8")
    return load_script(write_script(folder / "pts.lit", folder / "pts_pl.py", target="lightning"))


def test_the_script_draws_lightdsls_picture(script):
    """Before: the script carried the numpy picture only, 73 x 73 px of shaded cells."""
    assert script.CLASS_NAMES == NAMES  # the inline labels' classes, in lightdsl's order
    drawn = script.confusion_image(MATRIX, script.CLASS_NAMES, title="val_confusion_matrix")
    np.testing.assert_array_equal(drawn, confusion.confusion_image(MATRIX, NAMES,
                                                                   "val_confusion_matrix"))
    figure = script.confusion_figure(MATRIX, NAMES, "val_confusion_matrix")
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert [t.get_text() for t in ax.texts] == ["20", "0", "3", "1", "12", "7", "0", "0", "20"]


def test_many_classes_draw_the_most_confused_as_lightdsl(script):
    matrix = np.diag(np.full(300, 5))
    matrix[250, 7] = matrix[7, 250] = 9
    np.testing.assert_array_equal(script.confusion_image(matrix, title="val_confusion_matrix"),
                                  confusion.confusion_image(matrix, None, "val_confusion_matrix"))
    figure = script.confusion_figure(matrix, None, "val_confusion_matrix")
    assert "the 20 of 300 classes most often confused" in figure.get_suptitle()


def test_without_matplotlib_the_script_warns_once_and_draws_the_numpy_picture(script,
                                                                              monkeypatch):
    import warnings

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setattr(script.confusion_image, "warned", False, raising=False)
    with pytest.warns(UserWarning, match=r"matplotlib is not installed \(pip install matplotlib"):
        image = script.confusion_image(MATRIX, NAMES, title="val_confusion_matrix")
    np.testing.assert_array_equal(image, script.matrix_image(MATRIX, limit=20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once only
        script.confusion_image(MATRIX, NAMES, title="val_confusion_matrix")


def test_the_scripts_tensorboard_has_lightdsls_picture(script, tmp_path, monkeypatch):
    """The last validation's picture in the event file is, pixel for pixel, lightdsl's picture
    of the trained model's confusion matrix on the validation data."""
    pl = pytest.importorskip("pytorch_lightning")
    import torch
    from matplotlib.image import imread
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    monkeypatch.chdir(tmp_path)
    logger = pl.loggers.TensorBoardLogger(str(tmp_path), name="pl")
    model = script.main(logger=logger, enable_progress_bar=False, enable_model_summary=False,
                        enable_checkpointing=False)
    events = EventAccumulator(logger.log_dir, size_guidance={"images": 0})
    events.Reload()
    assert {"val_confusion_matrix", "train_confusion_matrix_epoch"} <= set(
        events.Tags()["images"])
    png = events.Images("val_confusion_matrix")[-1].encoded_image_string
    logged = (imread(io.BytesIO(png), format="png")[..., :3] * 255).round().astype(np.uint8)
    data = script.PtsData()
    data.setup()
    inputs, labels = data.val_set
    with torch.no_grad():
        predicted = model.eval()(inputs).argmax(dim=1)
    matrix = np.zeros((3, 3), dtype=np.int64)
    np.add.at(matrix, (labels.numpy(), predicted.numpy()), 1)
    expected = confusion.confusion_image(matrix, NAMES, "val_confusion_matrix")
    assert expected.shape[0] > 300  # not the 73 x 73 numpy picture
    np.testing.assert_array_equal(logged, expected)
