"""A confusion matrix as a picture people can read: the count in every cell, the class names on
the axes ("true class" down, "predicted class" across), each row shaded relative to its largest
count so that rare classes show as clearly as common ones.

Above ``limit`` classes only the classes most often confused are drawn (said in the title), so
the picture's size never depends on the class count. matplotlib draws it on its Agg canvas,
without pyplot. It is optional: without it :func:`confusion_image` says so once and returns the
numpy picture of :func:`~lightdsl.runtime.metrics.matrix_image` (shading only). lightdsl's
trainer (:mod:`lightdsl.plots.confusion`) and the Lightning scripts of ``lightdsl codegen`` draw
with these functions, so that both log the same picture.
"""

import warnings

import numpy as np

from .metrics import matrix_image, top_confused


def class_labels(count, names=None):
    """The names of ``count`` classes: ``names`` where it has them, else ``0 .. count-1``."""
    names = list(names or [])
    return [str(names[i]) if i < len(names) else str(i) for i in range(count)]


def confusion_image(
    matrix, names=None, title="", limit=20, install="pip install matplotlib"
):
    """The picture of ``matrix`` (rows: true class) as ``(H, W, 3)`` uint8, e.g. for
    TensorBoard; ``names``: the class names (default: the class indices). Without
    matplotlib: the numpy picture, and a warning, the first time, that says ``install``."""
    try:
        figure = confusion_figure(matrix, names, title, limit)
    except ImportError:
        if not getattr(confusion_image, "warned", False):  # once, as lightdsl warns
            confusion_image.warned = True
            warnings.warn(
                "the confusion-matrix picture is drawn without counts or class names: "
                f"matplotlib is not installed ({install})",
                stacklevel=2,
            )
        return matrix_image(matrix, limit=limit)
    return figure_pixels(figure)


def confusion_figure(matrix, names=None, title="", limit=20, tick_size=8):
    """A matplotlib Figure of the matrix (see the module docstring), its class names in
    ``tick_size`` points; raises ImportError without matplotlib."""
    counts = np.asarray(matrix, dtype=np.float64)
    shown = top_confused(counts, limit)
    labels = [class_labels(len(counts), names)[i] for i in shown]
    counts = counts[np.ix_(shown, shown)]
    k = len(shown)
    longest = max(len(label) for label in labels) * tick_size * 0.6 / 72  # inches
    cell = max(0.42, 0.75 - 0.03 * k)  # inches a class
    rotate = longest > 0.9 * cell  # the names across would run into each other
    if k < len(np.asarray(matrix)):
        title = f"{title}\nthe {k} of {len(np.asarray(matrix)):,} classes most often confused"
    title = title.strip()
    title_width = max(map(len, title.splitlines() or [""])) * 10 * 0.6 / 72
    figure, ax = confusion_axes(k, cell, longest, rotate, title_width)
    figure.suptitle(
        title, fontsize=10, y=1 - 0.12 / figure.get_size_inches()[1], va="top"
    )
    peak = counts.max(axis=1, keepdims=True)
    share = np.divide(counts, peak, out=np.zeros_like(counts), where=peak > 0)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    write_counts(ax, counts, share, fontsize=9 if k <= 12 else 7)
    ticks = np.arange(k)
    ax.set_xticks(
        ticks,
        labels,
        rotation=45 if rotate else 0,
        ha="right" if rotate else "center",
        rotation_mode="anchor",
        fontsize=tick_size,
    )
    ax.set_yticks(ticks, labels, fontsize=tick_size)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return figure


def confusion_axes(classes, cell, names, rotated, title):
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


def write_counts(ax, counts, share, fontsize):
    """Each cell's count, white on the darker cells."""
    for (i, j), value in np.ndenumerate(counts):
        ax.text(
            j,
            i,
            count_text(value),
            ha="center",
            va="center",
            fontsize=fontsize,
            color="white" if share[i, j] > 0.55 else "black",
        )


def count_text(value):
    """A cell's count as drawn: ``12``, ``35k`` from 10,000, 3 digits if not whole."""
    if not float(value).is_integer():
        return f"{value:.3g}"
    value = int(value)
    return str(value) if value < 10_000 else f"{value / 1000:.0f}k"


def figure_pixels(figure):
    """The figure drawn on matplotlib's Agg canvas, as ``(H, W, 3)`` uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
