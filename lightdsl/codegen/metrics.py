"""The metric parts of generated scripts: torchmetrics objects built from the same bound
arguments as lightdsl's (so the numbers match), and the ``metric_inputs`` calls feeding them."""

from __future__ import annotations

from ..checker.train import Run
from ..vocab.metrics import MATRIX_METRICS, torch_kwargs
from .printer import literal
from .writer import flat


def metric_call(bound) -> str:
    """``torchmetrics.F1Score(task="multiclass", num_classes=10, average="macro")``."""
    kwargs = torch_kwargs(bound.name, bound.values)
    args = ", ".join(f"{k}={flat(literal(v))}" for k, v in kwargs.items())
    return f"{bound.entry.target}({args})"


def write_metric_dict(w, run: Run, name: str = "metrics", wrap: str = "") -> None:
    """``metrics = {...}``: the run's metric objects by name, one per line (the dict passed to
    ``wrap``, e.g. ``nn.ModuleDict``, if given)."""
    w.line(f"{name} = {wrap}{'(' if wrap else ''}{{")
    with w.indent():
        for m in run.metrics:
            w.line(f'"{m.name}": {metric_call(m)},')
    w.line("})" if wrap else "}")


def write_updates(w, run: Run) -> None:
    """Feed one batch's ``output`` and ``labels`` to every metric of ``metrics``."""
    for line in inputs_lines(run):
        w.line(line)
    if len(inputs_names(run)) == 1:
        w.line("for metric in metrics.values():")
        with w.indent():
            w.line(f"metric.to(output.device).update({update_args(run, run.metrics[0])})")
        return
    for metric in run.metrics:
        w.line(f'metrics["{metric.name}"].to(output.device).update('
               f"{update_args(run, metric)})")


def inputs_names(run: Run) -> dict:
    """The variables each task's ``metric_inputs`` result goes to: ``preds, target`` for the
    first task, suffixed ones for others (a run rarely mixes regression and class metrics)."""
    names = {}
    for bound in run.metrics:
        task = bound.values.get("task")
        if task not in names:
            suffix = "" if not names else f"_{task or 'regression'}"
            names[task] = (f"preds{suffix}", f"target{suffix}")
    return names


def inputs_lines(run: Run) -> list[str]:
    """``preds, target = metric_inputs(output, labels, "multiclass")`` for each task."""
    sigmoid = ", sigmoid=True" if run.loss is not None and run.loss.name == "bce_with_logits" \
        else ""
    lines = []
    for task, (preds, target) in inputs_names(run).items():
        task_arg = f", {flat(literal(task))}{sigmoid}" if task is not None else ""
        lines.append(f"{preds}, {target} = metric_inputs(output, labels{task_arg})")
    return lines


def update_args(run: Run, bound) -> str:
    preds, target = inputs_names(run)[bound.values.get("task")]
    return f"{preds}, {target}"


def is_matrix(bound) -> bool:
    return bound.name in MATRIX_METRICS
