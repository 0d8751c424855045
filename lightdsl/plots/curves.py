"""Loss and metric curves of a finished (or running) run, read from its log directory.

A run directory holds ``metrics.csv`` (the CSV logger) or TensorBoard event files; both are
read into ``{metric: ([steps], [values])}``. Losses share one panel; every other metric
(``accuracy``: train and val together) gets its own.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

from ..errors import UsageError
from .common import require_matplotlib, save_figure

Series = dict[str, tuple[list[float], list[float]]]


def resolve_run_dir(path: str | Path) -> Path:
    """``path`` itself when it holds logs, else its newest ``version_N`` child that does."""
    path = Path(path)
    if not path.is_dir():
        raise UsageError(f"{path}: no such run directory",
                         hint="give a log directory such as lightning_logs/<run>/version_0")
    if _has_logs(path):
        return path
    versions = log_versions(path)
    if versions:
        return versions[-1]
    raise UsageError(f"{path} has no metrics.csv and no TensorBoard event files",
                     hint="logs are written by logger = tensorboard (the default) or csv")


def log_versions(path: str | Path) -> list[Path]:
    """``path``'s ``version_N`` children that hold logs, by N."""
    versions = sorted((p for p in Path(path).iterdir() if re.fullmatch(r"version_\d+", p.name)),
                      key=lambda p: int(p.name.split("_")[1]))
    return [p for p in versions if _has_logs(p)]


def _has_logs(path: Path) -> bool:
    return (path / "metrics.csv").is_file() or any(path.glob("events.out.tfevents.*"))


def read_metrics(run_dir: str | Path) -> Series:
    """Every logged scalar of a run, by step (``metrics.csv`` first, else the event files)."""
    run_dir = Path(run_dir)
    if (run_dir / "metrics.csv").is_file():
        return _read_csv(run_dir / "metrics.csv")
    return _read_events(run_dir)


def _read_csv(path: Path) -> Series:
    series: Series = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            step = _number(row.get("step"))
            for name, text in row.items():
                value = _number(text)
                if name in ("step", "epoch") or value is None or step is None:
                    continue
                steps, values = series.setdefault(name, ([], []))
                steps.append(step)
                values.append(value)
    return series


def _number(text) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _read_events(run_dir: Path) -> Series:
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        raise UsageError("reading TensorBoard logs needs the tensorboard package",
                         hint="pip install tensorboard, or log with logger = csv") from None
    accumulator = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    accumulator.Reload()
    series: Series = {}
    for tag in accumulator.Tags().get("scalars", []):
        if tag == "epoch" or tag.startswith("lr_find/"):
            continue
        events = accumulator.Scalars(tag)
        series[tag] = ([float(e.step) for e in events], [float(e.value) for e in events])
    return series


def group_metrics(series: Series) -> dict[str, list[str]]:
    """Panels: ``loss`` (every name with "loss"), then one per other metric, train+val; a
    device statistic (``DeviceStatsMonitor.on_train_batch_end/cpu_percent``) is titled by
    its own name (``cpu_percent``)."""
    panels: dict[str, list[str]] = {}
    for name in sorted(series):
        base = re.sub(r"^DeviceStatsMonitor\.\w+/", "", name)
        base = re.sub(r"^(train|val|test)_|_(epoch|step)$", "", base)
        base = re.sub(r"_(epoch|step)$", "", base)
        panels.setdefault("loss" if "loss" in name else base, []).append(name)
    return dict(sorted(panels.items(), key=lambda item: item[0] != "loss"))


def plot_run(run_dir, path=None, formats=("png",)) -> list[str]:
    """Draw a run's curves; ``path`` defaults to ``<run_dir>/curves.png``."""
    run_dir = resolve_run_dir(run_dir)
    series = read_metrics(run_dir)
    if not series:
        raise UsageError(f"{run_dir}: the logs hold no metrics yet")
    plt = require_matplotlib()
    panels = group_metrics(series)
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 3.2 * len(panels)), squeeze=False)
    for ax, (title, names) in zip(axes[:, 0], panels.items()):
        for name in names:
            steps, values = series[name]
            # markers too: on a log axis a loss of 0 breaks the line into invisible pieces
            ax.plot(steps, values, ".-", markersize=3 if len(steps) > 60 else 5, label=name)
        ax.set_ylabel(title)
        ax.grid(True, alpha=0.3)
        ax.legend()
        if title == "loss" and _spans_decades(series, names):
            ax.set_yscale("log", nonpositive="mask")  # a loss of exactly 0 is left out
    axes[-1, 0].set_xlabel("optimizer step")
    axes[0, 0].set_title(f"{run_dir}")
    return save_figure(fig, path or run_dir / "curves.png", formats)


def _spans_decades(series: Series, names: list[str]) -> bool:
    values = [v for name in names for v in series[name][1] if v > 0]
    return bool(values) and max(values) / min(values) > 100
