"""``lightdsl sweep show DIR``: a table of the trials (values, objective, state, time), the
best trial, and PNG plots (history, parallel coordinates, parameter importance) when
matplotlib is installed."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from ..display import plural
from .study import load_study, read_info

PLOTS = {"history": "plot_optimization_history",
         "parallel_coordinates": "plot_parallel_coordinate",
         "importance": "plot_param_importances"}


def trial_rows(study) -> list[list[str]]:
    """One row per trial: number, state, objective, seconds, then each parameter."""
    names = sorted({k for t in study.trials for k in t.params})
    rows = [["trial", "state", "objective", "time_s", *names]]
    for trial in study.trials:
        seconds = trial.duration.total_seconds() if trial.duration else None
        rows.append([str(trial.number), state_of(trial),
                     f"{trial.value:.4g}" if trial.value is not None else "-",
                     f"{seconds:.1f}" if seconds is not None else "-",
                     *[_short(trial.params.get(name, "-")) for name in names]])
    return rows


def state_of(trial) -> str:
    """complete, pruned, fail, running, interrupted (Ctrl-C) or lost (its worker killed, or
    its machine's heartbeat stopped)."""
    state = trial.state.name.lower()
    if trial.user_attrs.get("interrupted"):
        return "interrupted"
    if trial.user_attrs.get("lost") or (state == "fail" and "error" not in trial.user_attrs):
        return "lost"
    return state


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in rows)


def summary(study, monitor: str) -> str:
    states = {}
    for trial in study.trials:
        states[state_of(trial)] = states.get(state_of(trial), 0) + 1
    counts = ", ".join(f"{v} {k}" for k, v in sorted(states.items()))
    try:
        best = study.best_trial
    except ValueError:
        return f"{plural(len(study.trials), 'trial')} ({counts}); none completed"
    values = ", ".join(f"{k} = {_short(v)}" for k, v in best.params.items())
    return (f"{plural(len(study.trials), 'trial')} ({counts}); best: trial {best.number}, {monitor} "
            f"{best.value:.4g} with {values}")


def show(folder: str, plots: bool = True, storage: str | None = None) -> int:
    info = read_info(Path(folder))
    study = load_study(Path(folder), storage)
    print(table(trial_rows(study)))
    print(summary(study, info["monitor"]))
    for trial in study.trials:
        if "error" in trial.user_attrs:
            first = trial.user_attrs["error"].splitlines()[0]
            print(f"trial {trial.number} failed: {first}")
    if plots:
        for path in write_plots(study, Path(folder)):
            print(f"wrote {path}", file=sys.stderr)
    return 0


def write_plots(study, folder: Path) -> list[Path]:
    """The PNG plots Optuna's matplotlib backend draws (none without matplotlib, or before
    two trials completed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from optuna.visualization import matplotlib as views
    except ImportError:
        print("no plots: matplotlib is not installed (pip install matplotlib)", file=sys.stderr)
        return []
    completed = [t for t in study.trials if t.state.name == "COMPLETE"]
    written = []
    for name, function in PLOTS.items():
        if len(completed) < 2 or (name == "importance" and len(completed[0].params) < 1):
            continue
        try:
            with warnings.catch_warnings():  # Optuna calls its matplotlib plots experimental
                warnings.simplefilter("ignore")
                axes = getattr(views, function)(study)
        except (ValueError, RuntimeError) as error:  # e.g. importance of one constant value
            print(f"no {name} plot: {error}", file=sys.stderr)
            continue
        figure = getattr(axes, "figure", None) or axes.flat[0].figure
        path = folder / f"{name}.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)

