"""The metric parts of generated scripts: torchmetrics objects built from the same bound
arguments as lightdsl's (so the numbers match), and the ``metric_inputs`` calls feeding them."""

from __future__ import annotations

from ..checker.train import Run
from ..vocab.metrics import is_binary_loss, loss_outputs, torch_kwargs
from .printer import literal
from .writer import Doc, Group, concat, flat

OPEN = "<from the output>"  # the task of a metric that check could not infer
RAW = "<python>"  # a python("module:fn") metric: fn(output, labels), averaged over samples


def task_of(bound):
    """The bound task, :data:`OPEN` where the script infers it from the output, :data:`RAW`
    for a python(...) metric, None for a regression metric."""
    if getattr(bound, "ref", None) is not None:
        return RAW
    if "task" in bound.entry.arg_names and bound.values.get("task") is None:
        return OPEN
    return bound.values.get("task")


def is_open(run: Run) -> bool:
    """Whether a metric's task is left to the script (the data's shapes were not known)."""
    return any(task_of(m) == OPEN for m in run.metrics)


def metric_call(bound) -> Doc:
    """``torchmetrics.F1Score(task="multiclass", num_classes=10, average="macro")``; for an
    open task, ``task=task, num_classes=num_classes, num_labels=num_classes`` (from
    ``metric_task``). A python(...) metric function is averaged over the samples, weighted by
    batch size as lightdsl's trainer does: ``torchmetrics.MeanMetric()``."""
    if task_of(bound) == RAW:
        return concat("torchmetrics.MeanMetric", Group("(", (), ")"))
    if task_of(bound) == OPEN:
        rest = {k: v for k, v in bound.values.items() if k not in ("task", "num_classes")}
        args = ["task=task", "num_classes=num_classes", "num_labels=num_classes"]
    else:
        rest, args = torch_kwargs(bound.name, bound.values), []
    args += [f"{k}={flat(literal(v))}" for k, v in rest.items()]
    return concat(bound.entry.target, Group("(", tuple(args), ")"))


def task_line(run: Run) -> str:
    """``task, num_classes = metric_task(output)``, for an open task."""
    binary = ", binary_loss=True" if run.loss is not None and is_binary_loss(run.loss.name) \
        else ""
    return f"task, num_classes = metric_task(output{binary})"


def write_metric_dict(w, run: Run, name: str | None = "metrics", wrap: str = "") -> None:
    """``metrics = {...}``: the run's metric objects by name (the dict passed to ``wrap``,
    e.g. ``nn.ModuleDict``, if given; ``name`` None: a call of ``wrap``), laid out as ruff
    format would."""
    items = tuple(concat(f'"{m.name}": ', metric_call(m)) for m in run.metrics)
    doc = Group("{", items, "}")
    if wrap:
        doc = concat(wrap, Group("(", (doc,), ")"))
    w.statement(doc, prefix=f"{name} = " if name else "")


def write_updates(w, run: Run) -> None:
    """Feed one batch's ``output`` and ``labels`` to every metric of ``metrics``."""
    for line in inputs_lines(run):
        w.line(line)
    if len(inputs_names(run)) == 1 and all(task_of(m) != RAW for m in run.metrics):
        w.line("for metric in metrics.values():")
        with w.indent():
            w.line(f"metric.to(output.device).update({update_args(run, run.metrics[0])})")
        return
    for metric in run.metrics:
        w.statement(concat(f'metrics["{metric.name}"].to(output.device).update',
                           Group("(", tuple(update_args(run, metric).split(", ")), ")")))


def inputs_names(run: Run) -> dict:
    """The variables each task's ``metric_inputs`` result goes to: ``preds, target`` for the
    first task, suffixed ones for others (a run rarely mixes regression and class metrics)."""
    names = {}
    for bound in run.metrics:
        task = task_of(bound)
        if task not in names and task != RAW:
            suffix = "" if not names else f"_{'open' if task == OPEN else task or 'regression'}"
            names[task] = (f"preds{suffix}", f"target{suffix}")
    return names


def inputs_lines(run: Run) -> list[str]:
    """``preds, target = metric_inputs(output, labels, "multiclass")`` for each task."""
    sigmoid = ", sigmoid=True" if run.loss is not None and loss_outputs(run.loss.name) == "logits" \
        else ""
    lines = []
    for task, (preds, target) in inputs_names(run).items():
        shown = "task" if task == OPEN else flat(literal(task))
        task_arg = f", {shown}{sigmoid}" if task is not None else ""
        lines.append(f"{preds}, {target} = metric_inputs(output, labels{task_arg})")
    return lines


def update_args(run: Run, bound) -> str:
    if task_of(bound) == RAW:  # the batch's value, weighted by its size
        return f"{bound.ref.name}(output.detach(), labels), labels.shape[0]"
    preds, target = inputs_names(run)[task_of(bound)]
    return f"{preds}, {target}"


def is_matrix(bound) -> bool:
    return bound.entry.matrix
