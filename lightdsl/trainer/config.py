"""Trainer settings: Lightning's argument names, each value checked once with a clear message.

Every check raises :class:`~lightdsl.errors.ConfigError` naming the argument, the value given and
what is allowed (with a did-you-mean for names), so a typo in a spec or on the command line never
surfaces later as a confusing failure deep inside the training loop.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, field
from typing import Any

from lightdsl.errors import ConfigError
from lightdsl.run_settings import PRECISION_ALIASES, PRECISIONS
from lightdsl.run_settings import max_epochs as default_max_epochs
from lightdsl.suggest import did_you_mean

ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
CLIP_ALGORITHMS = ("norm", "value")
LOGGER_NAMES = ("tensorboard", "csv", "none")
STRATEGIES = ("auto", "ddp")


def choice_error(name: str, value: Any, choices: tuple[str, ...] | list[str]) -> ConfigError:
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


def check_int(name: str, value: Any, minimum: int, *, extra: tuple[int, ...] = ()) -> int:
    """``value`` as an int >= ``minimum`` (or one of ``extra``, e.g. -1 for "unlimited")."""
    if _is_int(value) and (value >= minimum or value in extra):
        return int(value)
    allowed = f"an integer >= {minimum}" + "".join(f" or {e}" for e in extra)
    raise ConfigError(f"{name}={value!r} is not valid; expected {allowed}")


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a real bool (``"false"`` as a string is a mistake, not truthy)."""
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{name}={value!r} is not valid; expected true or false")


def check_limit(name: str, value: Any) -> int | float:
    """A batch limit: an int count >= 0, or a float fraction of the loader in [0.0, 1.0]."""
    if _is_int(value) and value >= 0:
        return int(value)
    if _is_number(value) and 0.0 <= value <= 1.0:
        return float(value)
    raise ConfigError(
        f"{name}={value!r} is not valid; expected a number of batches (int >= 0) "
        "or a fraction of the data (float between 0.0 and 1.0)"
    )


def check_precision(value: Any) -> str:
    """The canonical precision name for ``value`` (``16`` -> ``"16-mixed"``, ``32`` -> ...)."""
    text = str(value).strip().lower() if not isinstance(value, bool) else repr(value)
    text = PRECISION_ALIASES.get(text, text)
    if text in PRECISIONS:
        return text
    raise choice_error("precision", value, list(PRECISIONS) + list(PRECISION_ALIASES))


def check_devices(value: Any) -> str | int:
    """``"auto"`` or a device count >= 1 (``"1"`` from a command line is accepted)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if value == "auto" or (_is_int(value) and value >= 1):
        return value
    raise ConfigError(f"devices={value!r} is not valid; expected 'auto' or a count >= 1")


def check_fast_dev_run(value: Any) -> int:
    """fast_dev_run as a batch count: False -> 0, True -> 1, n -> n."""
    if isinstance(value, bool):
        return int(value)
    return check_int("fast_dev_run", value, 0)


def check_val_check_interval(value: Any) -> int | float:
    """An int number of training batches >= 1, or a float fraction of an epoch in (0, 1]."""
    if _is_int(value) and value >= 1:
        return int(value)
    if _is_number(value) and 0.0 < value <= 1.0:
        return float(value)
    raise ConfigError(
        f"val_check_interval={value!r} is not valid; expected a number of training batches "
        "(int >= 1) or a fraction of an epoch (float in (0.0, 1.0])"
    )


def check_clip_val(value: Any) -> float | None:
    """A gradient clipping threshold >= 0 (None or 0 switches clipping off)."""
    if value is None or (_is_number(value) and value >= 0):
        return None if not value else float(value)
    raise ConfigError(f"gradient_clip_val={value!r} is not valid; expected a number >= 0")


def check_logger(value: Any) -> Any:
    """``"tensorboard"``, ``"csv"``, None/``"none"``/False, True (= tensorboard) or an object."""
    if value is None or value is False:
        return None
    if value is True:
        return "tensorboard"
    if isinstance(value, str):
        name = value.strip().lower()
        if name not in LOGGER_NAMES:
            raise choice_error("logger", value, LOGGER_NAMES)
        return None if name == "none" else name
    if callable(getattr(value, "log_metrics", None)):
        return value
    raise ConfigError(
        f"logger={value!r} is not valid; expected 'tensorboard', 'csv', None, "
        "or an object with a log_metrics(metrics, step) method"
    )


def check_run_name(value: Any) -> str | None:
    """A run name usable as one directory name."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or os.sep in value or value in (".", ".."):
        raise ConfigError(
            f"run_name={value!r} is not valid; expected a non-empty name without {os.sep!r}"
        )
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` lower-cased if it is one of ``choices``."""
    text = value.strip().lower() if isinstance(value, str) else value
    if text in choices:
        return text
    raise choice_error(name, value, choices)


@dataclass
class TrainerConfig:
    """The trainer's settings after checking; see :class:`lightdsl.trainer.Trainer`."""

    max_epochs: int | None = None
    max_steps: int = -1
    fast_dev_run: Any = False
    limit_train_batches: Any = 1.0
    limit_val_batches: Any = 1.0
    num_sanity_val_steps: int = 2
    check_val_every_n_epoch: int | None = 1
    val_check_interval: Any = 1.0
    accumulate_grad_batches: int = 1
    gradient_clip_val: float | None = None
    gradient_clip_algorithm: str = "norm"
    deterministic: bool = False
    seed: int | None = None
    accelerator: str = "auto"
    devices: Any = "auto"
    strategy: str = "auto"
    num_nodes: int = 1
    precision: Any = "32-true"
    log_every_n_steps: int = 50
    enable_progress_bar: bool = True
    enable_model_summary: bool = True
    enable_checkpointing: bool = True
    callbacks: list = field(default_factory=list)
    logger: Any = "tensorboard"
    default_root_dir: Any = None
    run_name: str | None = None

    def __post_init__(self) -> None:
        self._check_loop_lengths()
        self._check_batches()
        self._check_optimization()
        self._check_hardware()
        self._check_output()

    def _check_loop_lengths(self) -> None:
        self.max_steps = check_int("max_steps", self.max_steps, 1, extra=(-1,))
        if self.max_epochs is None:
            # Lightning's default: 1000 epochs unless a step budget was given.
            self.max_epochs = default_max_epochs(None, self.max_steps)
        self.max_epochs = check_int("max_epochs", self.max_epochs, 0, extra=(-1,))
        self.fast_dev_run = check_fast_dev_run(self.fast_dev_run)

    def _check_batches(self) -> None:
        self.limit_train_batches = check_limit("limit_train_batches", self.limit_train_batches)
        self.limit_val_batches = check_limit("limit_val_batches", self.limit_val_batches)
        self.num_sanity_val_steps = check_int(
            "num_sanity_val_steps", self.num_sanity_val_steps, 0, extra=(-1,)
        )
        if self.check_val_every_n_epoch is not None:
            self.check_val_every_n_epoch = check_int(
                "check_val_every_n_epoch", self.check_val_every_n_epoch, 1
            )
        self.val_check_interval = check_val_check_interval(self.val_check_interval)
        if self.check_val_every_n_epoch is None and isinstance(self.val_check_interval, float):
            raise ConfigError(  # as in Lightning: without epochs, only a batch count is a period
                "check_val_every_n_epoch=None counts validation periods in training batches "
                "across epochs, so val_check_interval must be an int number of batches, not "
                f"{self.val_check_interval!r}",
                hint="set val_check_interval to a number of batches, e.g. 100",
            )
        self.log_every_n_steps = check_int("log_every_n_steps", self.log_every_n_steps, 1)

    def _check_optimization(self) -> None:
        self.accumulate_grad_batches = check_int(
            "accumulate_grad_batches", self.accumulate_grad_batches, 1
        )
        self.gradient_clip_val = check_clip_val(self.gradient_clip_val)
        self.gradient_clip_algorithm = check_choice(
            "gradient_clip_algorithm", self.gradient_clip_algorithm, CLIP_ALGORITHMS
        )
        self.deterministic = check_bool("deterministic", self.deterministic)
        if self.seed is not None:
            self.seed = check_int("seed", self.seed, 0)

    def _check_hardware(self) -> None:
        self.accelerator = check_choice("accelerator", self.accelerator, ACCELERATORS)
        self.devices = check_devices(self.devices)
        # devices > 1 or num_nodes > 1 train with DDP, whether strategy is "auto" or "ddp"
        self.strategy = check_choice("strategy", self.strategy, STRATEGIES)
        self.num_nodes = check_int("num_nodes", self.num_nodes, 1)
        if self.accelerator == "mps" and (self.devices not in ("auto", 1) or self.num_nodes > 1):
            raise ConfigError("accelerator='mps' trains on one device; DDP needs CPUs or GPUs")
        self.precision = check_precision(self.precision)

    def _check_output(self) -> None:
        for name in ("enable_progress_bar", "enable_model_summary", "enable_checkpointing"):
            setattr(self, name, check_bool(name, getattr(self, name)))
        if not isinstance(self.callbacks, (list, tuple)):
            raise ConfigError(f"callbacks={self.callbacks!r} is not valid; expected a list")
        self.callbacks = list(self.callbacks)
        self.logger = check_logger(self.logger)
        if self.default_root_dir is not None and not isinstance(
            self.default_root_dir, (str, os.PathLike)
        ):
            raise ConfigError(f"default_root_dir={self.default_root_dir!r} is not a path")
        self.run_name = check_run_name(self.run_name)
