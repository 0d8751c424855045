"""The learning-rate finder's curve: smoothed loss over the learning rate, suggestion marked."""

from __future__ import annotations

import math
import textwrap

from .common import require_matplotlib, save_figure


def plot_lr_curve(result, path, suggest: bool = True, formats=("png",)) -> list[str]:
    """Draw ``result`` (an :class:`~lightdsl.tuner.LRFinderResult`) and write it to ``path``.

    The x axis is logarithmic for exponential spacing; the suggested lr is a red dot with its
    value in the legend; without a suggestion, the figure says why (too few points). The title
    says why the search ended. Non-finite losses are left out. Returns the written paths.
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
    ax.set_title(textwrap.fill(f"learning-rate finder, {result.mode}: "
                               f"the search {result.describe_stop()}", 70), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    lr = result.suggestion() if suggest else None
    if lr is not None:
        index = result.optimal_index
        ax.plot([lr], [result.losses[index]], "o", color="red", markersize=9,
                label=f"suggestion: lr = {lr:.3g}")
    if points:
        ax.legend()
    if suggest and lr is None:
        why = result.why_no_suggestion() if points else "no finite loss recorded"
        ax.text(0.5, 0.5, textwrap.fill(f"no suggestion: {why}", 50), ha="center",
                va="center", transform=ax.transAxes, color="tab:red",
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    return save_figure(fig, path, formats)
