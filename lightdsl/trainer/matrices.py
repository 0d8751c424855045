"""Confusion matrices (and other matrix-valued metrics) as pictures and as text.

The picture is :func:`lightdsl.plots.confusion.confusion_image` (matplotlib: counts, class
names, axes), or, without matplotlib, :func:`~lightdsl.runtime.metrics.matrix_image` (numpy
alone; generated scripts carry it). TensorBoard shows it under IMAGES. Above
:data:`~lightdsl.plots.confusion.PICTURE_CLASSES` classes, the picture and the table show only
the classes most often confused.
"""

from __future__ import annotations

import numpy as np

from lightdsl.plots.confusion import PICTURE_CLASSES, class_labels, confusion_image
from lightdsl.runtime.metrics import matrix_image, top_confused

__all__ = ["confusion_image", "matrix_image", "matrix_text"]


def matrix_text(name: str, matrix, names=None) -> str:
    """The matrix as an aligned table: one row per true class, one column per prediction,
    headed by the class names (``names``; default: the class indices)."""
    counts = np.asarray(matrix)
    shown = top_confused(counts, PICTURE_CLASSES)
    labels = [class_labels(len(counts), names)[i] for i in shown]
    cells = [[_cell(counts[i, j]) for j in shown] for i in shown]
    width = max(len(c) for row in [*cells, labels] for c in row)
    side = max(len(label) for label in labels)
    lines = [f"{name} (rows: true class, columns: predicted class)"]
    if len(shown) < len(counts):
        lines.append(f"the {len(shown)} of {len(counts):,} classes most often confused")
    lines.append(" " * side + "".join(label.rjust(width + 2) for label in labels))
    lines += [label.ljust(side) + "".join(c.rjust(width + 2) for c in row)
              for label, row in zip(labels, cells)]
    return "\n".join(lines)


def _cell(value) -> str:
    return str(int(value)) if float(value).is_integer() else f"{float(value):.3g}"
