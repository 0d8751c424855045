"""A confusion matrix as a picture people can read: the count in every cell, the class names on
the axes ("true class" down, "predicted class" across), each row shaded relative to its largest
count so that rare classes show as clearly as common ones.

Above :data:`PICTURE_CLASSES` classes only the classes most often confused are drawn (said in
the title), so the picture's size never depends on the class count. matplotlib (the ``plot``
extra) draws it on its Agg canvas, without pyplot; :func:`confusion_image` falls back to the
numpy picture of :mod:`lightdsl.runtime.metrics` (what generated scripts log) with a one-time
warning when matplotlib is not installed.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..vocab.metrics import MATRIX_SHOWN_CLASSES as PICTURE_CLASSES  # more: unreadable

TICK_SIZE = 8  # points, the class names
_warned: list[bool] = []


def class_labels(count: int, names=None) -> list[str]:
    """The names of ``count`` classes: ``names`` where it has them, else ``0 .. count-1``."""
    names = list(names or [])
    return [str(names[i]) if i < len(names) else str(i) for i in range(count)]


def confusion_image(matrix, names=None, title: str = "") -> np.ndarray:
    """The picture of ``matrix`` (rows: true class) as ``(H, W, 3)`` uint8, e.g. for
    TensorBoard; ``names``: the class names (default: the class indices)."""
    from ..runtime.metrics import matrix_image  # torch is loaded where pictures are logged

    try:
        figure = confusion_figure(matrix, names, title)
    except ImportError:
        if not _warned:
            _warned.append(True)
            warnings.warn("the confusion-matrix picture is drawn without counts or class "
                          "names: matplotlib is not installed (pip install lightdsl[plot])",
                          stacklevel=2)
        return matrix_image(matrix, limit=PICTURE_CLASSES)
    return _pixels(figure)


def confusion_figure(matrix, names=None, title: str = ""):
    """A matplotlib Figure of the matrix (see the module docstring); raises ImportError
    without matplotlib."""
    from ..runtime.metrics import top_confused

    counts = np.asarray(matrix, dtype=np.float64)
    shown = top_confused(counts, PICTURE_CLASSES)
    labels = [class_labels(len(counts), names)[i] for i in shown]
    counts = counts[np.ix_(shown, shown)]
    k = len(shown)
    longest = max(len(label) for label in labels) * TICK_SIZE * 0.6 / 72  # inches
    cell = max(0.42, 0.75 - 0.03 * k)  # inches a class
    rotate = longest > 0.9 * cell  # the names across would run into each other
    if k < len(np.asarray(matrix)):
        title = f"{title}\nthe {k} of {len(np.asarray(matrix)):,} classes most often confused"
    title = title.strip()
    title_width = max(map(len, title.splitlines() or [""])) * 10 * 0.6 / 72
    figure, ax = _figure(k, cell, longest, rotate, title_width)
    figure.suptitle(title, fontsize=10, y=1 - 0.12 / figure.get_size_inches()[1], va="top")
    peak = counts.max(axis=1, keepdims=True)
    share = np.divide(counts, peak, out=np.zeros_like(counts), where=peak > 0)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    _write_counts(ax, counts, share, fontsize=9 if k <= 12 else 7)
    ticks = np.arange(k)
    ax.set_xticks(ticks, labels, rotation=45 if rotate else 0,
                  ha="right" if rotate else "center", rotation_mode="anchor", fontsize=TICK_SIZE)
    ax.set_yticks(ticks, labels, fontsize=TICK_SIZE)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return figure


def _figure(classes: int, cell: float, names: float, rotated: bool, title: float):
    """A figure whose square axes have ``cell`` inches a class, with margins for the names
    and the title (``names``, ``title``: the widths of the longest name and title line,
    estimated from their length, since tight_layout would draw the picture twice, and it is
    drawn at every validation)."""
    from matplotlib.figure import Figure

    side = cell * classes
    left, right, top = names + 0.6, 0.3, 0.7
    bottom = (0.72 * names if rotated else 0.15) + 0.6
    spare = title + 0.4 - (left + side + right)
    if spare > 0:  # a title wider than the matrix: widen both margins alike
        left, right = left + spare / 2, right + spare / 2
    width, height = left + side + right, bottom + side + top
    figure = Figure(figsize=(width, height), dpi=100)
    ax = figure.add_axes((left / width, bottom / height, side / width, side / height))
    return figure, ax


def _write_counts(ax, counts, share, fontsize) -> None:
    for (i, j), value in np.ndenumerate(counts):
        ax.text(j, i, _count(value), ha="center", va="center", fontsize=fontsize,
                color="white" if share[i, j] > 0.55 else "black")


def _count(value: float) -> str:
    if not float(value).is_integer():
        return f"{value:.3g}"
    value = int(value)
    return str(value) if value < 10_000 else f"{value / 1000:.0f}k"


def _pixels(figure) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
