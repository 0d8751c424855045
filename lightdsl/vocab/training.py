"""Losses, metrics, optimizers and learning-rate schedulers."""

from __future__ import annotations

from .registry import Arg, entry
from .shapes import Labels, ShapeError, fmt
from .types import Bool, Choice, Float, Int, ListOf, optional

REDUCTION = Arg("reduction", Choice("mean", "sum", "none"), "mean")


def same_shape_as_labels(name, binary: bool = False):
    """Targets shaped like the output. ``binary`` (bce, bce_with_logits): 0/1 integer labels
    are fine, the builder casts them to floats, and (N,) class labels to the (N, 1) of a
    one-score output (torch wants one shape)."""
    def rule(output, labels: Labels, args):
        if output is None or labels.shape is None:
            return
        if labels.kind == "class" and binary and len(labels.shape) == 1 \
                and tuple(output[1:]) == (1,):
            return
        if len(output) != len(labels.shape) or any(
                a != b and None not in (a, b) for a, b in zip(output[1:], labels.shape[1:])):
            raise ShapeError(f"{name} compares the output {fmt(output)} with labels "
                             f"{fmt(labels.shape)}; the shapes must match (torch would broadcast "
                             "them silently and train on the wrong thing)")
    return rule


def class_labels(name):
    """Class-index labels (N,) for scores (N, num_classes), or per-step labels (N, T) for
    sequence scores (N, T, num_classes): classes last, as a language model returns them."""
    def rule(output, labels: Labels, args):
        if labels.kind == "float":
            raise ShapeError(f"{name} wants integer class labels, but the labels are floats")
        if output is None:
            return
        steps = labels.shape[1:] if labels.shape else None
        if len(output) not in (2, 3) or (steps is not None and len(output) != 2 + len(steps)):
            raise ShapeError(f"{name} wants an output of shape {_scores_shape(steps)}, but the "
                             f"model returns {fmt(output)}")
        for got, want in zip(output[1:-1], steps or ()):
            if None not in (got, want) and got != want:
                raise ShapeError(f"{name}: the model returns scores for {got} steps per sample "
                                 f"but the labels have {want}")
        width, classes = output[-1], labels.num_classes
        if None not in (width, classes) and width != classes:
            per = "step" if steps else "sample"
            raise ShapeError(f"{name}: the model returns {width} scores per {per} but the "
                             f"data has {classes} classes")
    return rule


def _scores_shape(steps) -> str:
    if not steps:
        return "(N, num_classes)"
    dims = ", ".join("?" if s is None else str(s) for s in steps)
    return f"(N, {dims}, num_classes) for labels of shape (N, {dims})"


def _loss(name, target, *args, check, doc, labels="float", **facts):
    """A loss entry; ``labels``: "float" (targets shaped like the output) or "index"."""
    entry("loss", name, *args, target=target, doc=doc, check=check, labels=labels, **facts)


# build: lightdsl's subclass, which skips torch's broadcast where the shapes match (the checker
# makes them match); scripts print torch's class
_loss("mse", "torch.nn.MSELoss", REDUCTION, check=same_shape_as_labels("mse"),
      doc="mean squared error", outputs="values", build="lightdsl.runtime.losses.MSELoss",
      aliases=("mean_squared_error", "mse_loss", "mseloss"))
# python_always: arguments the code generator prints even when the spec leaves them
# out, because lightdsl's default is not torch's (here "sum" where MSELoss means "mean").
_loss("sum_squared_error", "torch.nn.MSELoss", Arg("reduction", Choice("sum"), "sum"),
      check=same_shape_as_labels("sum_squared_error"), doc="sum of squared errors (StatQuest)",
      python_always=("reduction",), outputs="values", aliases=("sse",),
      build="lightdsl.runtime.losses.MSELoss")
_loss("l1", "torch.nn.L1Loss", REDUCTION, check=same_shape_as_labels("l1"),
      doc="mean absolute error", outputs="values", build="lightdsl.runtime.losses.L1Loss",
      aliases=("mean_absolute_error", "mae", "l1_loss", "l1loss"))
# labels="index": the loss indexes the output with each label, so a label outside
# 0 .. width - 1 is an error in torch (the checker points at the inline label).
_loss("cross_entropy", "torch.nn.CrossEntropyLoss", REDUCTION,
      Arg("label_smoothing", Float(ge=0, le=1), 0.0), check=class_labels("cross_entropy"),
      doc="softmax + negative log likelihood on class scores (logits)", labels="index",
      outputs="class_logits",
      aliases=("crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
               "crossentropyloss"))
_loss("nll", "torch.nn.NLLLoss", REDUCTION, check=class_labels("nll"),
      doc="negative log likelihood on log-probabilities", labels="index",
      outputs="class_log_probabilities", aliases=("nll_loss", "nllloss"))
_loss("bce", "torch.nn.BCELoss", REDUCTION, check=same_shape_as_labels("bce", binary=True),
      doc="binary cross entropy on probabilities", outputs="probabilities",
      aliases=("binary_cross_entropy", "binary_crossentropy", "bceloss"))
_loss("bce_with_logits", "torch.nn.BCEWithLogitsLoss", REDUCTION,
      check=same_shape_as_labels("bce_with_logits", binary=True),
      doc="sigmoid + binary cross entropy", outputs="logits", aliases=("bcewithlogitsloss", "binary_cross_entropy_with_logits"))

LR = Arg("lr", Float(gt=0), 0.001, "learning rate")
WEIGHT_DECAY = Arg("weight_decay", Float(ge=0), 0.0)
BETAS = Arg("betas", ListOf(Float(ge=0, lt=1), length=2), [0.9, 0.999])


def _nesterov_needs_momentum(args):
    if args.get("nesterov") and (args.get("momentum", 0) <= 0 or args.get("dampening", 0) != 0):
        return [("nesterov", "nesterov momentum needs momentum > 0 and dampening = 0")]
    return []


entry("optimizer", "sgd", LR, Arg("momentum", Float(ge=0), 0.0), Arg("dampening", Float(ge=0), 0.0),
      WEIGHT_DECAY, Arg("nesterov", Bool(), False), target="torch.optim.SGD",
      validate=_nesterov_needs_momentum, doc="stochastic gradient descent")
entry("optimizer", "adam", LR, BETAS, Arg("eps", Float(gt=0), 1e-8), WEIGHT_DECAY,
      Arg("amsgrad", Bool(), False), target="torch.optim.Adam", doc="Adam")
entry("optimizer", "adamw", LR, BETAS, Arg("eps", Float(gt=0), 1e-8),
      Arg("weight_decay", Float(ge=0), 0.01), Arg("amsgrad", Bool(), False),
      target="torch.optim.AdamW", doc="Adam with decoupled weight decay", aliases=("adam_w",))
entry("optimizer", "rmsprop", Arg("lr", Float(gt=0), 0.01), Arg("alpha", Float(ge=0), 0.99),
      Arg("eps", Float(gt=0), 1e-8), WEIGHT_DECAY, Arg("momentum", Float(ge=0), 0.0),
      Arg("centered", Bool(), False), target="torch.optim.RMSprop", doc="RMSprop")

entry("scheduler", "step", Arg("step_size", Int(ge=1)), Arg("gamma", Float(gt=0), 0.1),
      target="torch.optim.lr_scheduler.StepLR", doc="lr *= gamma every step_size epochs",
      interval="epoch", aliases=("steplr",))
entry("scheduler", "cosine", Arg("T_max", Int(ge=1)), Arg("eta_min", Float(ge=0), 0.0),
      target="torch.optim.lr_scheduler.CosineAnnealingLR",
      doc="cosine annealing from lr to eta_min over T_max epochs", interval="epoch",
      aliases=("cosineannealinglr", "cosine_annealing", "cosinedecay"))
entry("scheduler", "onecycle", Arg("max_lr", Float(gt=0)),
      Arg("total_steps", optional(Int(ge=1)), None, "default: the run's number of steps"),
      Arg("pct_start", Float(gt=0, lt=1), 0.3), Arg("anneal_strategy", Choice("cos", "linear"), "cos"),
      Arg("div_factor", Float(gt=0), 25.0), Arg("final_div_factor", Float(gt=0), 1e4),
      target="torch.optim.lr_scheduler.OneCycleLR", doc="the 1cycle policy, stepped every batch",
      interval="step", run_steps_arg="total_steps", aliases=("onecyclelr",))
