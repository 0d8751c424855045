"""Pictures: the lr-finder curve, a run's loss and metric curves, a 1-in/1-out model's response,
the network diagram (:mod:`lightdsl.plots.graph`, Graphviz DOT, torch-free; without Graphviz
laid out by grandalf, :mod:`lightdsl.plots.layout`) and the confusion matrix
(:mod:`lightdsl.plots.confusion`).

matplotlib and grandalf are the optional extra ``plot`` (``pip install lightdsl[plot]``); they
are imported only when a picture is drawn, and their absence is one clear
:class:`~lightdsl.errors.LightdslError` (the confusion matrix falls back to numpy instead).
"""

from __future__ import annotations

from .common import require_matplotlib, save_figure


def plot_lr_curve(result, path, suggest: bool = True, formats=("png",)) -> list[str]:
    """The lr-finder curve (see :mod:`lightdsl.plots.lr_curve`)."""
    from .lr_curve import plot_lr_curve as plot

    return plot(result, path, suggest=suggest, formats=formats)


def plot_run(run_dir, path=None, formats=("png",)) -> list[str]:
    """Loss and metric curves of a run's logs (see :mod:`lightdsl.plots.curves`)."""
    from .curves import plot_run as plot

    return plot(run_dir, path, formats=formats)


def plot_response(module, data, low: float, high: float, path, formats=("png",),
                  **labels) -> list[str]:
    """A 1-input, 1-output model's output over [low, high] (see :mod:`lightdsl.plots.response`);
    ``labels``: ``title``, ``xlabel``."""
    from .response import plot_response as plot

    return plot(module, data, low, high, path, formats=formats, **labels)


__all__ = ["plot_lr_curve", "plot_response", "plot_run", "require_matplotlib", "save_figure"]
