"""The learning-rate finder's curve: smoothed loss over the learning rate, suggestion marked."""

from __future__ import annotations

import math

from .common import require_matplotlib, save_figure


def plot_lr_curve(result, path, suggest: bool = True, formats=("png",)) -> list[str]:
    """Draw ``result`` (an :class:`~lightdsl.tuner.LRFinderResult`) and write it to ``path``.

    The x axis is logarithmic for exponential spacing; the suggested lr is a red dot with its
    value in the legend. Non-finite losses are left out. Returns the written paths.
    """
    plt = require_matplotlib()
    points = [(lr, loss) for lr, loss in zip(result.lrs, result.losses) if math.isfinite(loss)]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    if points:
        ax.plot(*zip(*points), color="tab:blue", label="smoothed loss")
    if result.mode == "exponential":
        ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (smoothed)")
    ax.set_title(f"learning-rate finder ({len(result.lrs)} steps, {result.mode})")
    ax.grid(True, which="both", alpha=0.3)
    lr = result.suggestion() if suggest else None
    if lr is not None:
        index = result.optimal_index
        ax.plot([lr], [result.losses[index]], "o", color="red", markersize=9,
                label=f"suggestion: lr = {lr:.3g}")
    if points:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no finite loss recorded", ha="center", transform=ax.transAxes)
    return save_figure(fig, path, formats)
