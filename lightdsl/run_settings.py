"""The table of a run's trainer settings and precisions, read by the language (``lightdsl
check``), the trainer (its arguments and :class:`~lightdsl.trainer.config.TrainerConfig`) and
the code generator. A new setting or precision is one entry here.

This module imports neither torch nor the language: the checker must stay torch-free and the
trainer knows nothing of the language, so the one definition lives between them. A setting's
``rule`` says which values it takes: the trainer checks a value with ``rule.check(name,
value)`` (a :class:`~lightdsl.errors.ConfigError` naming the setting), and the vocabulary
turns the same rule into the type ``lightdsl check`` reports against (lightdsl.vocab.settings).
Dtypes are named as torch spells them (``"float16"``), so torch is not needed to read them.
"""

from __future__ import annotations

import numbers
import os
from typing import Any, NamedTuple

from .errors import ConfigError
from .suggest import did_you_mean

UNBOUNDED = -1  # max_epochs / max_steps: no limit
DEFAULT_MAX_EPOCHS = 1000  # Lightning's, when neither max_epochs nor max_steps is given


# ---- precisions ------------------------------------------------------------------------------

class Precision(NamedTuple):
    """One precision, as Lightning names it: the weights' dtype, the dtype autocast computes in
    (None: no autocast), and whether float16 gradients need a loss scaler (where one exists:
    CUDA). ``short`` is Lightning's short name a spec may write; ``words`` more names the
    Python API accepts; ``cpu`` the precision it trains as on the CPU (where it cannot)."""

    name: str
    param_dtype: str
    autocast_dtype: str | None
    grad_scaler: bool
    short: str | None = None
    words: tuple[str, ...] = ()
    cpu: str | None = None
    doc: str = ""


PRECISION_TABLE = (
    Precision("32-true", "float32", None, False, short="32", doc="full precision"),
    Precision("64-true", "float64", None, False, short="64", words=("double",),
              doc="float64 weights and inputs"),
    # the CPU has no gradient scaler for float16: bf16, as Lightning does (with a warning)
    Precision("16-mixed", "float32", "float16", True, short="16", cpu="bf16-mixed",
              doc="float32 weights, float16 autocast, loss scaling"),
    Precision("bf16-mixed", "float32", "bfloat16", False, short="bf16",
              doc="float32 weights, bfloat16 autocast"),
    Precision("16-true", "float16", None, False, words=("half",), doc="float16 weights"),
    Precision("bf16-true", "bfloat16", None, False, doc="bfloat16 weights"),
)
PRECISION = {p.name: p for p in PRECISION_TABLE}
#: Lightning's precision names, as the trainer resolves them (lightdsl.trainer.devices).
PRECISIONS = tuple(PRECISION)
#: Lightning's short names, which a spec may write too.
SHORT_PRECISIONS = {p.short: p.name for p in PRECISION_TABLE if p.short}
#: Every alias the trainer's Python API accepts (the short names and a few words).
PRECISION_ALIASES = {**SHORT_PRECISIONS,
                     **{w: p.name for p in PRECISION_TABLE for w in p.words}}


def canonical_precision(name: Any) -> str:
    """A precision as its full name (``"16"`` -> ``"16-mixed"``); other values unchanged."""
    text = str(name)
    return PRECISION_ALIASES.get(text, text)


def max_epochs(value: Any, max_steps: Any = UNBOUNDED) -> Any:
    """max_epochs as the trainer runs with it: a spec's ``-1`` (written as the word "-1") is
    -1, no limit; unset (None) is Lightning's default, 1000 epochs, or no limit when max_steps
    bounds the run. Other values are returned as they are (the trainer checks them)."""
    if value is None:
        return DEFAULT_MAX_EPOCHS if max_steps == UNBOUNDED else UNBOUNDED
    return UNBOUNDED if value == "-1" else value


# ---- rules: which values a setting takes ---------------------------------------------------

def choice_error(name: str, value: Any, choices) -> ConfigError:
    """The error for a value that is not one of ``choices``: lists them, suggests the closest."""
    listed = ", ".join(repr(c) for c in choices)
    return ConfigError(
        f"{name}={value!r} is not valid; choose one of {listed}",
        hint=did_you_mean(str(value), choices, lead="") or None,
    )


def _is_int(value: Any) -> bool:
    # bool is an int subclass, but max_epochs=True is a mistake, not 1.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name: str, value: Any, minimum: int, *, extra: tuple[int, ...] = (),
              maximum: int | None = None) -> int:
    """``value`` as an int >= ``minimum`` (or one of ``extra``, e.g. -1 for "unlimited")."""
    fits = _is_int(value) and (value >= minimum or value in extra)
    if fits and (maximum is None or value <= maximum):
        return int(value)
    allowed = f"an integer >= {minimum}" + "".join(f" or {e}" for e in extra)
    allowed += f" and <= {maximum}" if maximum is not None else ""
    raise ConfigError(f"{name}={value!r} is not valid; expected {allowed}")


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` lower-cased if it is one of ``choices``."""
    text = value.strip().lower() if isinstance(value, str) else value
    if text in choices:
        return text
    raise choice_error(name, value, choices)


class Rule:
    """Which values a setting takes; subclasses define :meth:`check`."""

    def check(self, name: str, value: Any) -> Any:
        """``value`` as the trainer runs with it, or a ConfigError naming ``name``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{v!r}' for v in vars(self).values())})"


class Count(Rule):
    """An integer >= ``minimum`` (and <= ``maximum``); ``unbounded``: -1 too ("no limit")."""

    def __init__(self, minimum: int, maximum: int | None = None, unbounded: bool = False):
        self.minimum, self.maximum, self.unbounded = minimum, maximum, unbounded

    def check(self, name, value):
        extra = (UNBOUNDED,) if self.unbounded else ()
        return check_int(name, value, self.minimum, extra=extra, maximum=self.maximum)


class Flag(Rule):
    """True or false (the string ``"false"`` is a mistake, not truthy)."""

    def check(self, name, value):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name}={value!r} is not valid; expected true or false")


class Choice(Rule):
    """One of a few names (compared ignoring case)."""

    def __init__(self, *options: str):
        self.options = options

    def check(self, name, value):
        return check_choice(name, value, self.options)


class PrecisionName(Rule):
    """A precision of :data:`PRECISION_TABLE`, by name, short name or word (``16``, ``half``)."""

    def check(self, name, value):
        text = str(value).strip().lower() if not isinstance(value, bool) else repr(value)
        text = PRECISION_ALIASES.get(text, text)
        if text in PRECISIONS:
            return text
        raise choice_error(name, value, list(PRECISIONS) + list(PRECISION_ALIASES))


class Batches(Rule):
    """A batch limit: an int count >= 0, or a float fraction of the loader in [0.0, 1.0]."""

    def check(self, name, value):
        if _is_int(value) and value >= 0:
            return int(value)
        if _is_number(value) and 0.0 <= value <= 1.0:
            return float(value)
        raise ConfigError(
            f"{name}={value!r} is not valid; expected a number of batches (int >= 0) "
            "or a fraction of the data (float between 0.0 and 1.0)")


class Interval(Rule):
    """An int number of training batches >= 1, or a float fraction of an epoch in (0, 1]."""

    def check(self, name, value):
        if _is_int(value) and value >= 1:
            return int(value)
        if _is_number(value) and 0.0 < value <= 1.0:
            return float(value)
        raise ConfigError(
            f"{name}={value!r} is not valid; expected a number of training batches "
            "(int >= 1) or a fraction of an epoch (float in (0.0, 1.0])")


class DevRun(Rule):
    """fast_dev_run as a batch count: False -> 0, True -> 1, n -> n."""

    def check(self, name, value):
        return int(value) if isinstance(value, bool) else check_int(name, value, 0)


class Devices(Rule):
    """``"auto"`` or a device count >= 1 (``"1"`` from a command line is accepted)."""

    def check(self, name, value):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if value == "auto" or (_is_int(value) and value >= 1):
            return value
        raise ConfigError(f"{name}={value!r} is not valid; expected 'auto' or a count >= 1")


class Threshold(Rule):
    """A number >= 0; 0 (or None) switches the feature off (None)."""

    def check(self, name, value):
        if value is None or (_is_number(value) and value >= 0):
            return None if not value else float(value)
        raise ConfigError(f"{name}={value!r} is not valid; expected a number >= 0")


class Folder(Rule):
    """A directory path."""

    def check(self, name, value):
        if isinstance(value, (str, os.PathLike)):
            return value
        raise ConfigError(f"{name}={value!r} is not a path")


class Maybe(Rule):
    """None, or a value ``rule`` takes."""

    def __init__(self, rule: Rule):
        self.rule = rule

    def check(self, name, value):
        return None if value is None else self.rule.check(name, value)


class Objects(Rule):
    """A list (of callback objects)."""

    def check(self, name, value):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name}={value!r} is not valid; expected a list")
        return list(value)


LOGGER_NAMES = ("tensorboard", "csv", "mlflow", "none")


class LoggerChoice(NamedTuple):
    """A logger the trainer builds once the run folder exists (what a spec's ``logger =
    mlflow(...)`` or ``python("mypkg:MyLogger")`` becomes): ``target``, a class or its dotted
    name, is called as ``target(log_dir=<run folder>, **options)`` where it takes ``log_dir``,
    else ``target(**options)``. ``path_dir``: a folder to import ``target`` from (the spec's);
    ``where``: the spec location its errors name."""

    target: Any
    options: dict | None = None
    path_dir: str | None = None
    where: str | None = None


class LoggerRule(Rule):
    """One logger or a list of them (several at once); each ``"tensorboard"``, ``"csv"``,
    ``"mlflow"``, a :class:`LoggerChoice` or an object with a ``log_metrics(metrics, step)``
    method. None/``"none"``/False/``[]``: no logger; True: tensorboard."""

    def check(self, name, value):
        if isinstance(value, (list, tuple)) and not isinstance(value, LoggerChoice):
            items = [self.one(f"{name}[{i}]", item) for i, item in enumerate(value)]
            if any(item is None for item in items):
                raise ConfigError(f"{name}={value!r} is not valid; a list of loggers holds "
                                  "no none (write logger=None, or [], for no logger)")
            return items or None
        return self.one(name, value)

    def one(self, name, value):
        """One logger, checked (None for none)."""
        if value is None or value is False:
            return None
        if value is True:
            return "tensorboard"
        if isinstance(value, str):
            text = value.strip().lower()
            if text not in LOGGER_NAMES:
                raise choice_error(name, value, LOGGER_NAMES)
            return None if text == "none" else text
        if isinstance(value, LoggerChoice) or callable(getattr(value, "log_metrics", None)):
            return value
        raise ConfigError(
            f"{name}={value!r} is not valid; expected 'tensorboard', 'csv', 'mlflow', None, "
            "an object with a log_metrics(metrics, step) method, or a list of these")


# ---- hooks: what the trainer calls on callbacks and loggers ---------------------------------
# (the trainer's names and arguments after ``self``; ``lightdsl check`` reads them to check a
# python(...) callback or logger without importing it; tests/trainer compare them with the
# trainer's classes)

CALLBACK_HOOKS = {
    "on_fit_start": ("trainer", "module"),
    "on_train_epoch_start": ("trainer", "module"),
    "on_train_batch_end": ("trainer", "module", "outputs", "batch", "batch_idx"),
    "on_validation_end": ("trainer", "module"),
    "on_train_epoch_end": ("trainer", "module"),
    "on_fit_end": ("trainer", "module"),
    "on_log_metrics": ("trainer", "metrics", "step"),
    "on_log_matrices": ("trainer", "matrices", "step"),
    "on_exception": ("trainer", "module", "exception"),
    "teardown": ("trainer", "module", "stage"),
    "state_dict": (),
    "load_state_dict": ("state",),
}
LOGGER_HOOKS = {
    "log_metrics": ("metrics", "step"),  # the one a logger must have
    "log_hyperparams": ("params",),
    "log_settings": ("settings",),
    "log_text": ("tag", "text"),
    "log_matrices": ("matrices", "step"),
    "set_class_names": ("names",),
    "log_checkpoint": ("path",),
    "save": (),
    "finalize": ("status",),  # finalize() without the status is accepted too
    "state_dict": (),
    "load_state_dict": ("state",),
}
#: hooks that may be written with fewer arguments than the trainer can pass (it checks)
OPTIONAL_HOOK_ARGS = {("logger", "finalize"): 0}


#: torch.compile's modes (``torch._inductor.list_mode_options()``, "default" included).
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


class CompileOptions(NamedTuple):
    """How ``compile`` compiles the model's forward: torch.compile's ``mode`` and ``dynamic``
    (None: torch decides, marking sizes dynamic once they change; True/False: always/never)."""

    mode: str = "default"
    dynamic: bool | None = None

    def describe(self) -> str:
        """``mode default, dynamic shapes auto``: how summaries name the options."""
        shapes = {None: "auto", True: "on", False: "off"}[self.dynamic]
        return f"mode {self.mode}, dynamic shapes {shapes}"


class CompileRule(Rule):
    """``compile``: False/None (off), True (torch.compile's defaults), a mode name, or a dict
    (or :class:`CompileOptions`) of ``mode`` and ``dynamic``. Returns None or the options."""

    def check(self, name, value):
        if value is None or value is False:
            return None
        if value is True:
            return CompileOptions()
        if isinstance(value, str):
            value = {"mode": value}
        if isinstance(value, CompileOptions):
            value = value._asdict()
        if not isinstance(value, dict):
            raise ConfigError(f"{name}={value!r} is not valid; expected true, false, a mode "
                              "name or a dict of mode and dynamic")
        unknown = [k for k in value if k not in CompileOptions._fields]
        if unknown:
            raise ConfigError(f"{name} has no option {unknown[0]!r}; it takes mode and dynamic",
                              hint=did_you_mean(unknown[0], CompileOptions._fields, lead="")
                              or None)
        mode = check_choice(f"{name} mode", value.get("mode", "default"), COMPILE_MODES)
        dynamic = value.get("dynamic")
        if dynamic is not None and not isinstance(dynamic, bool):
            raise ConfigError(f"{name} dynamic={dynamic!r} is not valid; expected true, false "
                              "or none")
        return CompileOptions(mode, dynamic)


class DirectoryName(Rule):
    """A name usable as one directory name."""

    def check(self, name, value):
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or os.sep in value \
                or value in (".", ".."):
            raise ConfigError(
                f"{name}={value!r} is not valid; expected a non-empty name without {os.sep!r}")
        return value


# ---- the settings ----------------------------------------------------------------------------

class Setting(NamedTuple):
    """One trainer setting, with Lightning's name. ``spec``: a ``train`` block may write it
    (its type in ``lightdsl check`` comes from ``rule``); ``trainer``: an argument of
    ``Trainer(...)`` (a field of TrainerConfig), which a spec's value is passed to;
    ``lightning``: an argument of pytorch-lightning's ``Trainer`` too, which a generated
    Lightning script passes it to (False: lightdsl's own; the script does it its own way or
    not at all)."""

    name: str
    default: Any
    rule: Rule
    doc: str = ""
    spec: bool = True
    trainer: bool = True
    lightning: bool = True


ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
#: An accelerator's torch device type (auto: decided at run time).
ACCELERATOR_DEVICE = {"cpu": "cpu", "gpu": "cuda", "cuda": "cuda", "mps": "mps"}
CLIP_ALGORITHMS = ("norm", "value")
STRATEGIES = ("auto", "ddp")
# Lightning's seed_everything takes seeds in [0, 2**32 - 1] (NumPy's seed range).
MAX_SEED = 2**32 - 1

SETTINGS_TABLE = (
    Setting("max_epochs", None, Maybe(Count(1, unbounded=True)),
            "default 1000 as in Lightning; -1 runs until max_steps"),
    Setting("max_steps", -1, Count(-1), "optimizer steps to stop at (-1: no limit)"),
    Setting("fast_dev_run", False, DevRun(), "run n (true: 1) train and val batches, no output"),
    Setting("limit_train_batches", 1.0, Batches(), "batches per epoch: a count or a fraction"),
    Setting("limit_val_batches", 1.0, Batches(), "validation batches: a count or a fraction"),
    Setting("num_sanity_val_steps", 2, Count(-1), "validation batches before training (-1: all)"),
    Setting("check_val_every_n_epoch", 1, Maybe(Count(1)),
            "validate every n epochs (none: count val_check_interval across epochs)"),
    Setting("val_check_interval", 1.0, Interval(),
            "validate every n batches, or a fraction of an epoch"),
    Setting("accumulate_grad_batches", 1, Count(1), "batches per optimizer step"),
    Setting("gradient_clip_val", None, Maybe(Threshold()), "clip gradients at this value"),
    Setting("gradient_clip_algorithm", "norm", Choice(*CLIP_ALGORITHMS), "clip by norm or value"),
    Setting("deterministic", False, Flag(), "torch.use_deterministic_algorithms"),
    Setting("seed", None, Maybe(Count(0, MAX_SEED)), "seed Python, NumPy and torch",
            lightning=False),
    Setting("accelerator", "auto", Choice(*ACCELERATORS), "where to train (auto: a GPU if any)"),
    Setting("devices", "auto", Devices(), "devices per node (> 1: DDP)"),
    Setting("strategy", "auto", Choice(*STRATEGIES), "auto or ddp"),
    Setting("num_nodes", 1, Count(1), "machines (DDP)"),
    Setting("precision", "32-true", PrecisionName(), "32-true, 16-mixed, bf16-mixed, ..."),
    Setting("log_every_n_steps", 50, Count(1), "log the step's metrics every n steps"),
    Setting("enable_progress_bar", True, Flag(), "show the progress bar"),
    Setting("enable_model_summary", True, Flag(), "print the model summary"),
    Setting("enable_checkpointing", True, Flag(), "save checkpoints (last.ckpt, best)"),
    Setting("default_root_dir", None, Maybe(Folder()), "the log root (default lightning_logs)"),
    Setting("compile", False, CompileRule(),
            "compile the model's forward with torch.compile for fit (training and validation; "
            "checkpoints keep the plain names); compile(mode = ..., dynamic = ...) chooses how",
            lightning=False),
    Setting("device_stats", False, Flag(),
            "log GPU memory (CUDA) or CPU and memory use (psutil) every log_every_n_steps steps, "
            "as Lightning's DeviceStatsMonitor", trainer=False, lightning=False),
    # the Trainer's own: a spec writes its callbacks and logger as vocabulary calls
    Setting("callbacks", [], Objects(), "callback objects", spec=False),
    Setting("logger", "tensorboard", LoggerRule(),
            "tensorboard, csv, mlflow, a list of them, or none", spec=False),
    Setting("run_name", None, DirectoryName(),
            "the log folder's name (default: the module's class name)", spec=False,
            lightning=False),
)
SETTING = {s.name: s for s in SETTINGS_TABLE}
#: The arguments of ``Trainer(...)``, in order.
TRAINER_SETTINGS = tuple(s for s in SETTINGS_TABLE if s.trainer)
#: The settings a ``train`` block passes on to the Trainer as they are.
SPEC_TRAINER_SETTINGS = frozenset(s.name for s in SETTINGS_TABLE if s.spec and s.trainer)
#: The settings a ``train`` block passes on to pytorch-lightning's ``pl.Trainer(...)`` as they
#: are, in a script of ``lightdsl codegen --target lightning`` (callbacks and loggers are
#: vocabulary calls, written by the script's own code).
SPEC_LIGHTNING_SETTINGS = frozenset(s.name for s in SETTINGS_TABLE if s.spec and s.lightning)
