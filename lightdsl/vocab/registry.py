"""The one vocabulary registry: every layer, function, loss, optimizer, scheduler, metric, data
source, transform and setting is described here once.

An :class:`Entry` says its arguments (names follow torch.nn / torch.optim), its shape rule, the
torch object it builds and how it prints as Python. The checker reads the arguments and shape
rules, the builder the torch target, the code generator the printer; adding a layer is one entry.
Nothing in this package imports torch: targets are dotted names resolved when building.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..dotted import resolve  # noqa: F401 - re-exported: the one place names become objects
from ..suggest import did_you_mean
from .types import Type

REQUIRED: Any = object()  # marks an argument without default


@dataclass(frozen=True)
class Arg:
    """One argument: name, type, default (``REQUIRED`` if none) and a line of documentation."""

    name: str
    type: Type
    default: Any = REQUIRED
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


# What a layer or a data source consumes or produces: integer indices or floating-point numbers.
DTYPES = ("int", "float")
# How a loss or metric reads the labels: "index" (class indices the loss indexes the output with,
# so each must be in 0 .. width - 1) or "float" (targets of the output's shape, compared as
# floats; integer labels are cast to the output's dtype). A transform's "one_hot" turns class
# labels into float vectors.
LABEL_KINDS = ("index", "float", "one_hot")
OUTPUT_KINDS = ("class_logits", "class_log_probabilities", "probabilities", "logits", "values")
INTERVALS = ("epoch", "step")  # when a scheduler steps: after each epoch or each optimizer step


@dataclass(frozen=True)
class Entry:
    """One word of the language.

    ``shape(inputs, args)`` returns the output shape from input shapes and bound arguments, or
    raises :class:`~lightdsl.vocab.shapes.ShapeError`. ``target`` is the dotted torch (or
    lightdsl) callable the builder calls with the bound arguments as keywords. ``validate(args)``
    returns ``(argument, message)`` pairs for rules that involve several arguments.

    The remaining fields are facts of some kinds only (the default means "does not apply"); they
    are declared here, typed, so that the checker, builder and code generator read each fact from
    one place and a misspelt fact is a TypeError when the vocabulary loads.
    """

    kind: str
    name: str
    args: tuple[Arg, ...] = ()
    doc: str = ""
    target: str | None = None
    shape: Callable[..., Any] | None = None
    validate: Callable[[dict], list[tuple[str, str]]] | None = None
    tensor_inputs: int = 0
    #: other libraries' names for this word (Keras, PyTorch, scikit-learn: ``dense`` for
    #: ``linear``), compared ignoring case: a spec using one is told "did you mean", never
    #: silently accepted (lightdsl has one name for each word).
    aliases: tuple[str, ...] = ()

    # -- layers and functions --
    #: ``params(args)``: how many numbers the layer's trainable tensors hold (torch's count, for
    #: the check's memory estimate); None for a layer without parameters. A layer owns trainable
    #: tensors exactly when the count is positive (``affine = false`` makes a norm's count 0).
    params: Callable[[dict], int] | None = None
    #: ``tensors(args)``: the layer's own tensors, parameters and buffers, as torch's
    #: ``state_dict()`` names them: ``{local name: (shape, dtype)}`` (linear: ``weight``
    #: (out, in) and ``bias`` (out,)); what check compares a weights file with (see
    #: :mod:`lightdsl.vocab.tensors`). Every layer entry has one (``{}`` for relu).
    tensors: Callable[[dict], dict[str, tuple[tuple[int, ...], str]]] | None = None
    #: the dtype a layer wants as input ("int": embedding looks up indices); a data source's
    #: inputs' dtype. None: any, or unknown before loading.
    input_dtype: str | None = None
    #: arguments the code generator prints even when the spec leaves them out, because
    #: lightdsl's default is not torch's (softmax's dim; sum_squared_error's reduction).
    python_always: tuple[str, ...] = ()
    #: the dotted callable the builder calls instead of ``target``, with the same arguments,
    #: where lightdsl's module differs from the one scripts print (embedding: an nn.Embedding
    #: that takes integer-valued float indices, as lightdsl's loaders give them; mse and l1:
    #: torch's losses without the broadcast the checker makes needless).
    build: str | None = None
    #: functions: the result has the dtype of the first argument (``relu`` of indices is
    #: indices); otherwise a function's result is float.
    keeps_dtype: bool = False

    # -- losses and metrics --
    #: ``check(output_shape, labels, args)`` raises ShapeError where the model's output and the
    #: data's labels do not fit this loss or metric.
    check: Callable[..., None] | None = None
    #: losses: how the labels are read ("index" or "float", see LABEL_KINDS); transforms:
    #: "one_hot" where the transform turns class labels into float vectors.
    labels: str | None = None
    #: losses: what the model's output is under this loss (see OUTPUT_KINDS): "class_logits"
    #: (cross_entropy), "class_log_probabilities" (nll), "probabilities" (bce), "logits"
    #: (bce_with_logits) or "values" (a regression loss). Metrics infer their task from it.
    outputs: str | None = None
    #: metrics: the value is a matrix, not a scalar (confusion_matrix): logged as a picture,
    #: printed as a table, never monitored.
    matrix: bool = False

    # -- schedulers --
    #: when the scheduler steps: "epoch" or "step" (every optimizer step).
    interval: str = "epoch"
    #: the argument that, left unset (None), takes the run's number of optimizer steps
    #: (onecycle's total_steps; Lightning's estimated_stepping_batches).
    run_steps_arg: str | None = None

    # -- data sources --
    #: ``sample(args)``: the per-sample input shape and a Labels, without torch and without
    #: reading the data (file headers at most); None where only loading can tell.
    sample: Callable[[dict], Any] | None = None
    #: arguments holding file paths (resolved from the spec's folder; checked to exist).
    paths: tuple[str, ...] = ()
    #: ``files(args)``: a data set's folder and the files missing there (mnist, cifar10).
    files: Callable[[dict], tuple[str, list[str]]] | None = None
    #: whether loading needs torchvision (an optional extra) even when the files are present.
    needs_torchvision: bool = False
    #: (import name, pip name) of a package that is no extra of lightdsl but that loading
    #: needs (the digits source: scikit-learn); the check warns where it is not installed.
    needs_package: tuple[str, str] | None = None

    # -- transforms --
    #: "flatten" where the transform reshapes each sample to one dimension.
    reshape: str | None = None
    #: whether the transform is a random augmentation applied per training batch on the device.
    augment: bool = False
    #: whether the transform turns uint8 inputs into floats (to_float, normalize,
    #: standardize); without one, loading converts images to floats in [0, 1] itself.
    converts: bool = False
    #: ``fit``: the dotted ``fit(train, **args) -> args`` that fills a transform's statistics
    #: from the training split (``"auto"`` means and stds), so that every split and predict
    #: use the training split's numbers; None for a transform without statistics.
    fit: str | None = None

    def __post_init__(self):
        for key, value, allowed in (("input_dtype", self.input_dtype, DTYPES),
                                    ("labels", self.labels, LABEL_KINDS),
                                    ("outputs", self.outputs, OUTPUT_KINDS),
                                    ("interval", self.interval, INTERVALS)):
            if value is not None and value not in allowed:
                raise ValueError(f"{self.kind} {self.name!r}: {key}={value!r} is not one of "
                                 f"{allowed}")
        for name in (*self.python_always, *self.paths,
                     *([self.run_steps_arg] if self.run_steps_arg else [])):
            if self.arg(name) is None:
                raise ValueError(f"{self.kind} {self.name!r} names {name!r}, not one of its "
                                 "arguments")

    def trainable(self, args: dict) -> bool:
        """Whether this layer, with these arguments, owns trainable tensors."""
        return self.params is not None and self.params(args) > 0

    def run_steps_default(self, values: dict) -> str | None:
        """The argument to fill with the run's number of optimizer steps, where ``values``
        leave it unset (onecycle without total_steps); None otherwise."""
        arg = self.run_steps_arg
        return arg if arg is not None and values.get(arg) is None else None

    def arg(self, name: str) -> Arg | None:
        return next((a for a in self.args if a.name == name), None)

    @property
    def arg_names(self) -> list[str]:
        return [a.name for a in self.args]

    def defaults(self) -> dict[str, Any]:
        return {a.name: a.default for a in self.args if not a.required}


class Registry:
    """All entries, by kind and name, and other libraries' names for some of them."""

    def __init__(self):
        self._entries: dict[str, dict[str, Entry]] = {}
        self._aliases: dict[str, dict[str, str]] = {}

    def alias(self, kind: str, name: str, *others: str) -> None:
        """Record Keras/PyTorch spellings of entry ``name`` (``dense`` for ``linear``; what
        :attr:`Entry.aliases` lists): a spec using one is told "did you mean", never silently
        accepted (lightdsl has one name for each word)."""
        if self.get(kind, name) is None:
            raise ValueError(f"alias of an unknown {kind} {name!r}")
        table = self._aliases.setdefault(kind, {})
        for other in others:
            if self.get(kind, other) is not None or other.casefold() in table:
                raise ValueError(f"{kind} alias {other!r} is taken")
            table[other.casefold()] = name

    def suggest(self, kind: str, word: str, extra=()) -> str:
        """``'; did you mean "x"?'`` for an unknown ``word`` of ``kind``: the entry it is another
        library's name for, else the closest name ignoring case (``ReLU``: ``relu``) among
        the kind's names and ``extra``; ``''`` when nothing is close."""
        meant = self._aliases.get(kind, {}).get(word.casefold().replace("-", "_"))
        if meant is not None:
            return f'; did you mean "{meant}"?'
        return did_you_mean(word, [*self.names(kind), *extra])

    def add(self, entry: Entry) -> Entry:
        """Register ``entry`` and its aliases; a name or alias taken already is an error."""
        table = self._entries.setdefault(entry.kind, {})
        if entry.name in table or entry.name.casefold() in self._aliases.get(entry.kind, {}):
            raise ValueError(f"duplicate {entry.kind} {entry.name!r} in the vocabulary")
        table[entry.name] = entry
        if entry.aliases:
            self.alias(entry.kind, entry.name, *entry.aliases)
        return entry

    def get(self, kind: str, name: str) -> Entry | None:
        return self._entries.get(kind, {}).get(name)

    def names(self, kind: str) -> list[str]:
        return sorted(self._entries.get(kind, {}))

    def kind(self, kind: str) -> dict[str, Entry]:
        return dict(self._entries.get(kind, {}))


REGISTRY = Registry()


def entry(kind: str, name: str, *args: Arg, **fields: Any) -> Entry:
    """Describe and register one entry: ``entry("layer", "relu", target="torch.nn.ReLU")``."""
    return REGISTRY.add(Entry(kind=kind, name=name, args=tuple(args), **fields))
