"""A confusion matrix as a picture people can read (counts, class names, axes; above
:data:`PICTURE_CLASSES` classes only the most confused): drawn by
:mod:`lightdsl.runtime.pictures`, the code the Lightning scripts of ``lightdsl codegen`` carry
too, so that both log the same picture.

matplotlib (the ``plot`` extra) draws it; :func:`confusion_image` falls back to the numpy
picture of :mod:`lightdsl.runtime.metrics` with a one-time warning when matplotlib is not
installed (as the runtime's does, with lightdsl's install command in it).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..display import MATRIX_SHOWN_CLASSES as PICTURE_CLASSES  # more: unreadable
from ..runtime import pictures
from ..runtime.metrics import matrix_image
from ..runtime.pictures import class_labels

__all__ = ["PICTURE_CLASSES", "TICK_SIZE", "class_labels", "confusion_figure",
           "confusion_image"]
TICK_SIZE = 8  # points, the class names
_warned: list[bool] = []


def confusion_image(matrix, names=None, title: str = "") -> np.ndarray:
    """The picture of ``matrix`` (rows: true class) as ``(H, W, 3)`` uint8, e.g. for
    TensorBoard; ``names``: the class names (default: the class indices)."""
    try:
        figure = confusion_figure(matrix, names, title)
    except ImportError:
        if not _warned:
            _warned.append(True)
            warnings.warn("the confusion-matrix picture is drawn without counts or class "
                          "names: matplotlib is not installed (pip install lightdsl[plot])",
                          stacklevel=2)
        return matrix_image(matrix, limit=PICTURE_CLASSES)
    return pictures.figure_pixels(figure)


def confusion_figure(matrix, names=None, title: str = ""):
    """A matplotlib Figure of the matrix (see :mod:`lightdsl.runtime.pictures`); raises
    ImportError without matplotlib."""
    return pictures.confusion_figure(matrix, names, title, PICTURE_CLASSES, TICK_SIZE)
