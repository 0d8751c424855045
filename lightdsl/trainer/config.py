"""Trainer settings: Lightning's argument names, each value checked once with a clear message.

The settings, their defaults and the rule each value must follow are the table of
:mod:`lightdsl.run_settings` (which the language and the code generator read too);
:class:`TrainerConfig` has one field per entry. Every check raises
:class:`~lightdsl.errors.ConfigError` naming the argument, the value given and what is allowed
(with a did-you-mean for names), so a typo in a spec or on the command line never surfaces later
as a confusing failure deep inside the training loop.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from lightdsl.errors import ConfigError
from lightdsl.run_settings import (  # noqa: F401 - the trainer's names for the table's facts
    ACCELERATORS,
    CLIP_ALGORITHMS,
    LOGGER_NAMES,
    PRECISIONS,
    SETTING,
    STRATEGIES,
    TRAINER_SETTINGS,
    check_choice,
    check_int,
    choice_error,
)
from lightdsl.run_settings import max_epochs as default_max_epochs
from lightdsl.suggest import did_you_mean  # noqa: F401 - one did-you-mean everywhere


def check_precision(value: Any) -> str:
    """The canonical precision name for ``value`` (``16`` -> ``"16-mixed"``, ``32`` -> ...)."""
    return SETTING["precision"].rule.check("precision", value)


def _check(self) -> None:
    """Each value by its setting's rule, then the rules that relate two settings."""
    for setting in TRAINER_SETTINGS:
        setattr(self, setting.name, setting.rule.check(setting.name, getattr(self, setting.name)))
    if self.max_epochs is None:
        # Lightning's default: 1000 epochs unless a step budget was given.
        self.max_epochs = default_max_epochs(None, self.max_steps)
    if self.check_val_every_n_epoch is None and isinstance(self.val_check_interval, float):
        raise ConfigError(  # as in Lightning: without epochs, only a batch count is a period
            "check_val_every_n_epoch=None counts validation periods in training batches "
            "across epochs, so val_check_interval must be an int number of batches, not "
            f"{self.val_check_interval!r}",
            hint="set val_check_interval to a number of batches, e.g. 100",
        )
    # devices > 1 or num_nodes > 1 train with DDP, whether strategy is "auto" or "ddp"
    if self.accelerator == "mps" and (self.devices not in ("auto", 1) or self.num_nodes > 1):
        raise ConfigError("accelerator='mps' trains on one device; DDP needs CPUs or GPUs")


def _field(setting) -> tuple[str, Any, dataclasses.Field]:
    default = setting.default
    if isinstance(default, (list, dict)):  # a fresh copy per config
        return setting.name, Any, dataclasses.field(default_factory=lambda: copy.copy(default))
    return setting.name, Any, dataclasses.field(default=default)


TrainerConfig = dataclasses.make_dataclass(
    "TrainerConfig",
    [_field(s) for s in TRAINER_SETTINGS],
    namespace={"__post_init__": _check, "__module__": __name__,
               "__doc__": "The trainer's settings after checking: one field per entry of "
                          "lightdsl.run_settings.TRAINER_SETTINGS; see "
                          ":class:`lightdsl.trainer.Trainer`."},
)
