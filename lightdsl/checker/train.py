"""Checks of ``train`` blocks: references, losses, optimizers, settings, and the shape flow from
the data through the model into the loss."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..sizes import parameter_bytes
from ..suggest import did_you_mean
from ..vocab.metrics import MATRIX_SHOWN_CLASSES, MATRIX_WARNING_CLASSES
from ..vocab.registry import REGISTRY
from ..vocab.shapes import Shape, ShapeError, batched
from ..vocab.types import CallValue, Symbol
from .binding import Bound, bind_call, bind_settings, lookup
from .compose import given_twice, rederive
from .constants import INVALID, any_invalid, evaluate
from .data import DataInfo
from .finetune import bind_unfreeze, bind_weights, check_unfreezes
from .flow import FlowChecker
from .loggers import check_loggers
from .models import ModelInfo, check_model
from .weights import check_model_weights

VALIDATION_SETTINGS = ("check_val_every_n_epoch", "val_check_interval", "limit_val_batches",
                       "num_sanity_val_steps")


@dataclass
class Run:
    """A checked ``train`` block: everything the builder needs, resolved."""

    node: n.TrainDef
    settings: Bound
    model: ModelInfo | None = None
    data: DataInfo | None = None
    loss: Bound | None = None
    optimizer: Bound | None = None
    scheduler: Bound | None = None
    metrics: list[Bound] = field(default_factory=list)
    callbacks: list[Bound] = field(default_factory=list)
    logger: Bound | None = None
    """The first of ``loggers`` (None: no logger)."""
    loggers: list[Bound] = field(default_factory=list)
    lr_find: Bound | None = None
    compile: Bound | None = None
    """``compile(mode = ..., dynamic = ...)``; ``compile = true`` is a setting."""
    init: Bound | None = None  # init = weights(...): a warm start of the whole model
    unfreeze: list[Bound] = field(default_factory=list)  # unfreeze(part, at_epoch, lr)
    output_shape: Shape = None
    #: the shapes of this run's walk through its model, from its data's batch (a ModelShapes):
    #: what the graph and hover read; ``model.shapes`` is only the last walk of a model that
    #: several runs may share with other data
    shapes: Any = None

    @property
    def name(self) -> str:
        return self.node.run_name


class TrainChecker:
    def __init__(self, models: dict[str, ModelInfo], data: dict[str, DataInfo],
                 reporter: Reporter):
        # models: each checked once with its default hyperparameters, reused by every run
        # that does not override them
        self.models, self.data, self.reporter = models, data, reporter
        self.used_models: set[str] = set()
        self.used_data: set[str] = set()
        self.unresolved_models = self.unresolved_data = False

    def check(self, train: n.TrainDef) -> Run:
        entry = REGISTRY.get("settings", "train")
        settings = bind_settings(entry, train.settings, {}, self.reporter, "train", train.span)
        run = Run(train, settings)
        for key in ("model", "data", "loss"):
            if key not in settings.nodes:
                self.reporter.error("missing", train.keyword_span,
                                    f'this train block needs "{key} = ..."')
        run.model = self._model(settings)
        run.data = self._data(settings)
        self._vocabulary(run)
        self._statements(run)
        self._finetuning(run)
        self._validation_settings(run)
        self._device_stats(run)
        self._flow(run)
        return run

    # ---- references ----
    def _model(self, settings: Bound) -> ModelInfo | None:
        value, node = settings.values["model"], settings.nodes.get("model")
        if node is None or value is INVALID:
            return None
        name = value.name if isinstance(value, (Symbol, CallValue)) else None
        checked = self.models.get(name)
        if checked is None:
            self.reporter.error("unknown-name", node.span, f'unknown model "{name}"'
                                + did_you_mean(name, self.models))
            self.unresolved_models = True
            return None
        self.used_models.add(name)
        if not isinstance(value, CallValue) or not (value.node.args or value.node.keywords):
            return checked
        model = checked.node
        hypers = self._overrides(model, value.node, dict(checked.hypers))
        errors_before = self.reporter.error_count
        info = check_model(model, hypers, self.reporter, checked.table)
        if self.reporter.error_count > errors_before:
            self.reporter.error("hyperparameters", value.node.span, f"with these "
                                f"hyperparameters, model {name} does not check (see the errors "
                                "reported inside the model)")
        return info

    def _overrides(self, model: n.ModelDef, call: n.Call, hypers: dict) -> dict:
        """The run's hyperparameter values (``model = Net(width = 6)``); defaults written with
        other hyperparameters (``hidden = 2 * width``) follow the values given."""
        names = [h.name.id for h in model.hyper_params]
        result = dict(hypers)
        if len(call.args) > len(names):
            self.reporter.error("arity", call.args[len(names)].span, f"model {model.name.id} "
                                f"has {len(names)} hyperparameters, but {len(call.args)} "
                                "values were given")
            return result  # which value was meant for which name is a guess: keep defaults
        given = set(names[:len(call.args)])
        for name, arg in zip(names, call.args):
            result[name] = evaluate(arg, {}, self.reporter)
        for keyword in call.keywords:
            if given_twice(model.name.id, keyword, given, self.reporter):
                continue
            if keyword.name.id not in hypers:
                self.reporter.error("unknown-keyword", keyword.name.span,
                                    f'model {model.name.id} has no hyperparameter '
                                    f'"{keyword.name.id}"' + did_you_mean(keyword.name.id, names))
            else:
                result[keyword.name.id] = evaluate(keyword.value, {}, self.reporter)
                given.add(keyword.name.id)
        return rederive(model, result, given, self.reporter)

    def _data(self, settings: Bound) -> DataInfo | None:
        value, node = settings.values["data"], settings.nodes.get("data")
        if node is None or value is INVALID:
            return None
        if not isinstance(value, Symbol) or value.name not in self.data:
            name = getattr(value, "name", "")
            self.reporter.error("unknown-name", node.span, f'unknown data "{name}"'
                                + did_you_mean(name, self.data))
            self.unresolved_data = True
            return None
        self.used_data.add(value.name)
        return self.data[value.name]

    # ---- vocabulary-valued settings ----
    def _vocabulary(self, run: Run) -> None:
        settings = run.settings
        run.loss = self.resolve("loss", settings.values["loss"], settings.nodes.get("loss"))
        optimizer = settings.nodes.get("optimizer")
        run.optimizer = self.resolve("optimizer", settings.values["optimizer"], optimizer) \
            if optimizer else _default_optimizer(run.node)
        run.scheduler = self.resolve("scheduler", settings.values["scheduler"],
                                     settings.nodes.get("scheduler"))
        run.metrics = self._list("metric", settings, "metrics")
        run.callbacks = self._list("callback", settings, "callbacks")
        logger = settings.values["logger"]
        if isinstance(logger, (Symbol, CallValue)):
            found = self.resolve("logger", logger, settings.nodes.get("logger"))
            run.loggers = [found] if found is not None else []
        elif isinstance(logger, list):  # several at once
            run.loggers = self._list("logger", settings, "logger")
        run.logger = run.loggers[0] if run.loggers else None
        check_loggers(run.loggers, self.reporter)

    def resolve(self, kind: str, value: Any, node: n.Node | None) -> Bound | None:
        """A vocabulary entry named or called in a setting, bound to its arguments."""
        if node is None or not isinstance(value, (Symbol, CallValue)):
            return None
        call = value.node if isinstance(value, CallValue) else \
            n.Call(span=node.span, func=n.Name(span=node.span, id=value.name))
        entry = lookup(kind, call.func, self.reporter)
        return bind_call(entry, call, {}, self.reporter) if entry else None

    def _list(self, kind: str, settings: Bound, key: str) -> list[Bound]:
        node, values = settings.nodes.get(key), settings.values[key]
        if not isinstance(node, n.ListExpr) or values is INVALID:
            return []
        bound = [self.resolve(kind, v, item) for v, item in zip(values, node.items)]
        return [b for b in bound if b is not None]

    def _statements(self, run: Run) -> None:
        """Each statement (``lr_find(...)``, ``compile(...)``) into its field of the run."""
        for call in run.node.calls:
            entry = lookup("statement", call.func, self.reporter, "train statement")
            if entry is None:
                continue
            if entry.name == "unfreeze":
                bound = bind_unfreeze(call, self.reporter)
                run.unfreeze.extend([bound] if bound else [])
                continue
            bound = bind_call(entry, call, {}, self.reporter)  # its arguments checked too
            if getattr(run, entry.name) is not None:
                self.reporter.error("duplicate", call.span, f"{entry.name} is given twice")
            else:
                setattr(run, entry.name, bound)
        if run.compile is not None and "compile" in run.settings.nodes:
            written = run.settings.values.get("compile")
            self.reporter.error(
                "duplicate", run.compile.span, "compile is given twice: "
                f"`compile = {str(written).lower()}` and `compile(...)`",
                hint="keep one: compile(...) turns compiling on with its options")

    def _finetuning(self, run: Run) -> None:
        """``init = weights(...)`` bound and its file looked at; unfrozen parts checked."""
        node = run.settings.nodes.get("init")
        if node is not None and run.settings.values.get("init") is not INVALID:
            run.init = bind_weights(node, self.reporter)
            check_model_weights(run.init, run.model, self.reporter)
        check_unfreezes(run.unfreeze, run.model, self.reporter)

    # ---- consistency ----
    def _monitors(self, run: Run) -> set[int]:
        """A monitored name the run never logs is an error (with did-you-mean) here, not after
        an epoch of training. Returns the callbacks reported (by id)."""
        if run.data is None:
            return set()
        logged = logged_metrics(run, with_val=True)
        reported = set()
        for callback in run.callbacks:
            monitor = callback.values.get("monitor")
            if isinstance(monitor, str) and monitor not in logged:
                suggestion = did_you_mean(monitor, logged)
                self.reporter.error("unknown-metric", callback.span_of("monitor"),
                                    f'{callback.name} monitors "{monitor}", which this run never '
                                    f"logs{suggestion}", hint="this run logs: "
                                    + ", ".join(logged_metrics(run, with_val=run.data.has_val)))
                reported.add(id(callback))
        return reported

    def _validation_settings(self, run: Run) -> None:
        reported = self._monitors(run)
        if run.data is not None and run.data.has_val:
            self._val_schedule(run.settings)
        if run.data is None or run.data.has_val:
            return
        why = f"data {run.data.name} has no `val`"
        for key in VALIDATION_SETTINGS:
            if key in run.settings.nodes:
                self.reporter.error("no-validation", run.settings.nodes[key].span,
                                    f'"{key}" needs validation data, but {why}',
                                    hint="add `val = split(0.1)` or another source to the data "
                                    "block")
        for callback in run.callbacks:
            monitor = callback.values.get("monitor")
            if isinstance(monitor, str) and monitor.startswith("val_") \
                    and id(callback) not in reported:
                self.reporter.error("no-validation", callback.span_of("monitor"),
                                    f'{callback.name} monitors "{monitor}", but {why}')

    def _device_stats(self, run: Run) -> None:
        """``device_stats`` writes to the run's logger: with ``logger = none`` it has none (as
        Lightning's DeviceStatsMonitor refuses ``logger=False``)."""
        settings = run.settings
        if settings.values.get("device_stats") is True and "logger" in settings.nodes \
                and settings.values.get("logger") in (None, []):
            self.reporter.error("value", settings.span_of("device_stats"),
                                "device_stats = true logs to the run's logger, but logger = none",
                                hint="set logger = tensorboard or csv, or drop device_stats")

    def _val_schedule(self, settings: Bound) -> None:
        """``check_val_every_n_epoch = none`` counts batches across epochs, so (as in Lightning)
        ``val_check_interval`` must be a number of batches, not a fraction of an epoch (its
        default, 1.0, is one)."""
        if "check_val_every_n_epoch" not in settings.nodes \
                or settings.values.get("check_val_every_n_epoch") is not None:
            return
        interval = settings.values.get("val_check_interval", 1.0)
        if not isinstance(interval, float):
            return
        given = "val_check_interval" in settings.nodes
        what = f"val_check_interval = {interval:g}" if given else \
            "val_check_interval (1.0 by default)"
        self.reporter.error(
            "value", settings.span_of("val_check_interval" if given else
                                      "check_val_every_n_epoch"),
            f"check_val_every_n_epoch = none counts validation periods in training batches "
            f"across epochs, so {what} must be a whole number of batches, not a fraction of "
            "an epoch",
            hint="set val_check_interval to a number of batches, e.g. 100")

    def _flow(self, run: Run) -> None:
        if run.model is None:
            return
        input_shape = batched(run.data.sample_shape) if run.data else None
        input_dtype = run.data.input_dtype if run.data else None
        flow = FlowChecker(run.model, self.reporter)
        run.output_shape = flow.run(input_shape, input_dtype)
        run.shapes = flow.store(input_shape)
        if run.data is None:
            return
        if run.loss is not None and run.loss.entry.check is not None \
                and not self._label_indices(run.loss, run):
            self._labels_fit(run.loss, run)
        for metric in run.metrics:
            if metric.entry.check is not None:  # a python(...) metric has no rule
                self._metric_fits(metric, run)

    def _label_indices(self, bound: Bound, run: Run) -> bool:
        """Inline labels a class-index loss cannot index the output with: an error at each
        such label. Whether any was reported."""
        if bound.entry.labels != "index":
            return False
        output = run.output_shape
        width = output[-1] if output is not None and len(output) == 2 else None
        classes = run.data.settings.values.get("num_classes")
        known = classes if isinstance(classes, int) and not isinstance(classes, bool) else None
        reported = False
        for value, span in run.data.label_items:
            if known is not None and not 0 <= value < known:
                reported = True  # already reported by the data check
            elif value < 0 or (width is not None and value >= width):
                allowed = f"0..{width - 1}" if width is not None else "0 or more"
                scores = f" (the model returns {width} scores per sample)" if width else ""
                self.reporter.error("label-range", span, f"label {value} is not a class index "
                                    f"for {bound.name}: the labels must be in {allowed}{scores}")
                reported = True
        return reported

    def _labels_fit(self, bound: Bound, run: Run) -> None:
        try:
            bound.entry.check(run.output_shape, run.data.labels, bound.values)
        except ShapeError as error:
            self.reporter.error("loss-labels", bound.span, error.message)


    def _metric_fits(self, metric: Bound, run: Run) -> None:
        """A metric's rule checks it against the output, labels and loss, and fills in what
        it infers (a classification metric's task and number of classes)."""
        if any_invalid(metric.values.values()):
            return  # its arguments are reported already
        loss = builtin_loss(run)
        try:
            inferred = metric.entry.check(run.output_shape, run.data.labels, metric.values, loss)
        except ShapeError as error:
            self.reporter.error("metric-task", metric.span_of(error.arg), error.message)
            return
        metric.values.update(inferred)
        self._matrix_size(metric)

    def _matrix_size(self, metric: Bound) -> None:
        """A warning for a confusion matrix of very many classes: costly to count, and its
        picture and table show only some of them."""
        classes = metric.values.get("num_classes")
        if not metric.entry.matrix or not isinstance(classes, int) \
                or classes <= MATRIX_WARNING_CLASSES:
            return
        self.reporter.warning(
            "metric-size", metric.span, f"{metric.name} with {classes:,} classes counts "
            f"{classes**2:,} cells ({parameter_bytes(classes**2, 8)} per split) at every batch; "
            f"its picture and evaluate's table show only the {MATRIX_SHOWN_CLASSES} classes "
            "most often confused",
            hint=f"leave {metric.name} out of metrics unless every count is needed "
            "(evaluate --format json writes them all)")


def builtin_loss(run: Run) -> str | None:
    """The run's loss name if it is a vocabulary loss (a python(...) loss says nothing about
    what the model's outputs are, so metrics infer their task from the output alone)."""
    if run.loss is None or REGISTRY.get("loss", run.loss.name) is not run.loss.entry:
        return None
    return run.loss.name


def logged_metrics(run: Run, with_val: bool) -> list[str]:
    """The names callbacks can monitor in a run, Lightning's: ``train_<name>_step`` (the latest
    step's value), ``train_<name>_epoch`` (the epoch's mean), ``train_<name>`` (the step's
    value, the epoch's mean once the epoch ends) and ``val_<name>`` each validation, for the
    loss and each metric (see Trainer.log_step, log_epoch and run_validation;
    tests/check/test_semantic.py compares with a real run)."""
    names = ["loss", *[m.name for m in run.metrics if not m.entry.matrix]]
    logged = [f"train_{name}{end}" for name in names for end in ("", "_step", "_epoch")]
    return logged + ([f"val_{name}" for name in names] if with_val else [])


def _default_optimizer(train: n.TrainDef) -> Bound:
    entry = REGISTRY.get("optimizer", "adam")
    return Bound(entry, entry.defaults(), {}, train.keyword_span)
