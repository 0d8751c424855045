"""Metrics (``metrics = [accuracy, f1(average = "macro"), confusion_matrix]``): torchmetrics
classes, accumulated over an epoch and synced over ranks by torchmetrics itself.

A classification metric needs to know its task (binary, multiclass or multilabel) and the number
of classes. The checker infers both from the model's output shape and the run's loss
(:func:`infer_task`) and writes them into the bound arguments, so that the builder and the code
generator construct exactly ``torchmetrics.F1Score(task="multiclass", num_classes=10,
average="macro")``. Nothing here imports torch or torchmetrics.
"""

from __future__ import annotations

from ..display import MATRIX_SHOWN_CLASSES  # noqa: F401 - re-exported (the checker reads it)
from .registry import REGISTRY, Arg, entry
from .shapes import Labels, ShapeError, fmt
from .types import Choice, Int, optional

TASKS = ("binary", "multiclass", "multilabel")


# What the model's output is follows from the run's loss (its entry's ``outputs``): one score
# per class under a class-index loss, one probability or logit per output under a binary loss,
# a regression output under any other. An unknown loss (a python(...) one) says nothing.
def loss_outputs(loss: str | None) -> str | None:
    """The ``outputs`` kind of the vocabulary loss ``loss`` (None when unknown)."""
    entry = REGISTRY.get("loss", loss) if loss else None
    return entry.outputs if entry is not None else None


def is_index_loss(loss: str | None) -> bool:
    return loss_outputs(loss) in ("class_logits", "class_log_probabilities")


def is_binary_loss(loss: str | None) -> bool:
    return loss_outputs(loss) in ("probabilities", "logits")


def _classification_losses() -> list[str]:
    losses = REGISTRY.kind("loss")  # in the order the vocabulary defines them
    return [name for name in losses if is_index_loss(name) or is_binary_loss(name)]

TASK = Arg("task", optional(Choice(*TASKS)), None,
           "binary, multiclass or multilabel; default: inferred from the output and the loss")
NUM_CLASSES = Arg("num_classes", optional(Int(ge=2)), None,
                  "classes (labels, for multilabel); default: the output's width")


def _average(default: str, *options: str) -> Arg:
    return Arg("average", Choice(*options), default,
               "micro: over all samples; macro: the mean of the per-class values")


def infer_task(name: str, output, labels: Labels, args: dict, loss: str | None) -> dict:
    """The task and number of classes of classification metric ``name`` (as bound values), from
    the output shape and the loss; raises ShapeError (at ``arg`` when one is to blame) when they
    cannot be inferred or contradict what the spec says."""
    if loss_outputs(loss) == "values":
        raise ShapeError(f"{name} is a classification metric, but the loss {loss} makes the "
                         "output a regression output; use mae, mse or r2, or a classification "
                         "loss (" + ", ".join(_classification_losses()) + ")")
    if labels.kind == "float" and not is_binary_loss(loss):
        raise ShapeError(f"{name} is a classification metric, but the labels are floats")
    task, classes = args.get("task"), args.get("num_classes")
    if output is None:
        if task is None:
            # the output shape is known only once built (data read at run time, a python(...)
            # layer without a declared shape): the builder infers the task from the real
            # output by this same rule
            return {}
        if task != "binary" and classes is None:
            raise ShapeError(f"{name}: the model's output shape is not known here, so the task "
                             "cannot be inferred; give it, e.g. "
                             f'{name}(task = "multiclass", num_classes = 10)')
        return {"task": task, "num_classes": None if task == "binary" else classes}
    inferred, width = _task_of(name, output, loss)
    if task is not None and task != inferred:
        raise ShapeError(f'{name}: task "{task}" contradicts the data: the model returns '
                         f"{fmt(output)} with the loss {loss}, a {inferred} output", arg="task")
    if classes is not None and inferred != "binary" and classes != width:
        raise ShapeError(f"{name}: num_classes = {classes}, but the model returns {width} "
                         "scores per sample", arg="num_classes")
    if inferred == "binary" and labels.num_classes not in (None, 1, 2):
        raise ShapeError(f"{name}: the model returns one score per sample (binary), but the "
                         f"data has {labels.num_classes} classes")
    return {"task": inferred, "num_classes": None if inferred == "binary" else width}


def _task_of(name: str, output, loss: str | None) -> tuple[str, int | None]:
    if len(output) > 2 and is_index_loss(loss):  # a sequence: (N, T, classes), labels (N, T)
        output = (output[0], output[-1])
    if len(output) not in (1, 2):
        raise ShapeError(f"{name} wants an output of shape (N, classes) or (N,), but the model "
                         f"returns {fmt(output)}")
    width = 1 if len(output) == 1 else output[1]
    if width is None:
        raise ShapeError(f"{name}: the output's width is not known here; give num_classes")
    if width == 1:
        if is_index_loss(loss):
            raise ShapeError(f"{name}: the model returns one score per sample, too few for "
                             f"{loss}")
        return "binary", None
    return ("multilabel" if is_binary_loss(loss) else "multiclass"), width


def regression(name: str):
    """The rule of a regression metric: the output compares with float targets, shape for
    shape (torchmetrics would broadcast or fail at run time)."""
    def rule(output, labels: Labels, args: dict, loss: str | None) -> dict:
        if is_index_loss(loss) or is_binary_loss(loss):
            raise ShapeError(f"{name} is a regression metric, but the loss {loss} makes the "
                             "output class scores; use accuracy, f1, auroc, ... instead")
        if output is None or labels.shape is None:
            return {}
        if len(output) != len(labels.shape) or any(
                a != b and None not in (a, b) for a, b in zip(output[1:], labels.shape[1:])):
            raise ShapeError(f"{name} compares the output {fmt(output)} with labels "
                             f"{fmt(labels.shape)}; the shapes must match")
        if name == "r2" and len(output) > 2:
            raise ShapeError(f"r2 wants an output of shape (N,) or (N, outputs), but the model "
                             f"returns {fmt(output)}")
        return {}
    return rule


def classification(name: str, no_micro: tuple[str, ...] = (), no_task: tuple[str, ...] = ()):
    """The rule of a classification metric: infer the task; ``no_micro`` lists the tasks where
    torchmetrics has no micro average, ``no_task`` the tasks the metric does not support."""
    def rule(output, labels: Labels, args: dict, loss: str | None) -> dict:
        found = infer_task(name, output, labels, args, loss)
        task = found.get("task")
        if task in no_task:
            raise ShapeError(f"{name} does not support the {task} task here")
        if args.get("average") == "micro" and task in no_micro:
            raise ShapeError(f'{name}: torchmetrics has no average = "micro" for the '
                             f'{task} task; use "macro"', arg="average")
        return found
    return rule


def torch_kwargs(name: str, values: dict) -> dict:
    """The keyword arguments of the torchmetrics class (the entry's target) for bound
    ``values``: ``num_classes`` is ``num_labels`` for a multilabel task; a binary task takes
    neither, nor an average."""
    task = values.get("task")
    if task is None:
        return {k: v for k, v in values.items() if k not in ("task", "num_classes")}
    kwargs = {"task": task}
    if task != "binary":
        kwargs["num_labels" if task == "multilabel" else "num_classes"] = values["num_classes"]
    rest = {k: v for k, v in values.items() if k not in ("task", "num_classes")}
    if task == "binary":
        rest.pop("average", None)
    return {**kwargs, **rest}


def _metric(name: str, target: str, *args: Arg, check, doc: str, **facts) -> None:
    entry("metric", name, *args, target=target, doc=doc, check=check, **facts)


_metric("accuracy", "torchmetrics.Accuracy", TASK, NUM_CLASSES, _average("micro", "micro", "macro"),
        check=classification("accuracy"), doc="fraction of samples whose highest score is the "
        "label (micro) or the mean of the per-class recalls (macro)")
for _name, _target, _doc in (("precision", "Precision", "true positives / predicted positives"),
                             ("recall", "Recall", "true positives / actual positives"),
                             ("f1", "F1Score", "harmonic mean of precision and recall")):
    _metric(_name, f"torchmetrics.{_target}", TASK, NUM_CLASSES,
            _average("macro", "macro", "micro"), check=classification(_name), doc=_doc)
_metric("auroc", "torchmetrics.AUROC", TASK, NUM_CLASSES, _average("macro", "macro", "micro"),
        check=classification("auroc", no_micro=("multiclass",)),
        doc="area under the ROC curve (one-vs-rest for several classes)")
_metric("confusion_matrix", "torchmetrics.ConfusionMatrix", TASK, NUM_CLASSES,
        check=classification("confusion_matrix", no_task=("multilabel",)),
        doc="counts of (true class, predicted class); logged as a picture, not a scalar",
        matrix=True)
_metric("mae", "torchmetrics.MeanAbsoluteError", check=regression("mae"),
        doc="mean absolute error")
_metric("mse", "torchmetrics.MeanSquaredError", check=regression("mse"),
        doc="mean squared error")
_metric("r2", "torchmetrics.R2Score", check=regression("r2"),
        doc="coefficient of determination")

# Metrics whose value is a matrix (Entry.matrix) are logged as an image, printed as a table.
# Above MATRIX_SHOWN_CLASSES (lightdsl.display) classes a picture or table shows only the
# classes most often confused.
# check warns above this many classes: torchmetrics counts all classes**2 cells at every batch
# (a 2,000-class matrix is 4,000,000 int64 counts, 32 MB, per split and per update).
MATRIX_WARNING_CLASSES = 1000
