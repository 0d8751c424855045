"""Confusion matrices (and other matrix-valued metrics) as pictures and as text.

The picture is :func:`lightdsl.plots.confusion.confusion_image` (matplotlib: counts, class
names, axes), or, without matplotlib, :func:`~lightdsl.runtime.metrics.matrix_image` (numpy
alone; generated scripts carry it). TensorBoard shows it under IMAGES. Above
:data:`~lightdsl.plots.confusion.PICTURE_CLASSES` classes, the picture and the table show only
the classes most often confused.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from lightdsl.plots.confusion import PICTURE_CLASSES, class_labels, confusion_image
from lightdsl.runtime.metrics import matrix_image, top_confused

__all__ = ["MatrixPictures", "confusion_image", "matrix_image", "matrix_text"]


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


class MatrixPictures:
    """The pictures of a run's matrices, spending at most ``share`` of the run's time on them.

    A picture takes matplotlib a fraction of a second; a run of many short epochs would spend
    most of its time drawing. So a matrix that comes sooner than that allows waits (only the
    newest one of each name), and :meth:`flush`, at the end of the run, draws what waits: the
    last epoch's picture is always there. (TensorBoard keeps a sample of 10 pictures per name
    anyway.)
    """

    clock = staticmethod(time.monotonic)

    def __init__(self, write: Callable[[str, np.ndarray, int], None], share: float = 0.1):
        self.write, self.share = write, share
        self.class_names: list[str] | None = None
        self.waiting: dict[str, tuple[object, int]] = {}
        self.next_time = float("-inf")

    def add(self, matrices: dict, step: int) -> None:
        """Draw ``matrices`` (name -> count matrix) at ``step`` now, or when time allows."""
        self.waiting.update({name: (matrix, step) for name, matrix in matrices.items()})
        if self.clock() >= self.next_time:
            self.flush()

    def flush(self) -> None:
        """Draw every matrix that waits."""
        start = self.clock()
        for name, (matrix, step) in self.waiting.items():
            self.write(name, confusion_image(np.asarray(matrix), self.class_names, name), step)
        self.waiting.clear()
        spent = self.clock() - start
        self.next_time = start + spent / self.share
