"""Reading what ``configure_optimizers()`` returns, and stepping learning-rate schedulers.

Accepted, as in Lightning: an optimizer; ``[optimizer]``; ``([optimizer], [scheduler, ...])``;
or ``{"optimizer": opt, "lr_scheduler": sched | {"scheduler": s, "interval": "epoch"|"step",
"frequency": n, "monitor": "val_loss"}}``. One optimizer only (automatic optimization).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from lightdsl.errors import ConfigError

from .callbacks import monitored_value
from .config import check_choice, check_int
from .resume import START_FRESH, check_optimizer_fits, check_schedulers_fit

Plateau = torch.optim.lr_scheduler.ReduceLROnPlateau


@dataclass
class SchedulerConfig:
    """A scheduler and when it steps: every ``frequency`` epochs or optimizer steps."""

    scheduler: Any
    interval: str = "epoch"
    frequency: int = 1
    monitor: str | None = None


@dataclass
class OptimizerSetup:
    """The optimizer and its schedulers, as the training loop uses them."""

    optimizer: torch.optim.Optimizer
    schedulers: list[SchedulerConfig] = field(default_factory=list)

    def step_schedulers(self, interval: str, count: int, trainer) -> None:
        """Step the schedulers of ``interval`` whose frequency divides ``count``."""
        for config in self.schedulers:
            if config.interval != interval or count % config.frequency:
                continue
            if isinstance(config.scheduler, Plateau):
                value = monitored_value(trainer, config.monitor, "ReduceLROnPlateau")
                if value is not None:
                    config.scheduler.step(value)
            else:
                config.scheduler.step()

    def state_dict(self) -> dict:
        """Optimizer and scheduler states (and their classes), for a checkpoint."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "schedulers": [c.scheduler.state_dict() for c in self.schedulers],
            "types": {
                "optimizer": type(self.optimizer).__name__,
                "schedulers": [type(c.scheduler).__name__ for c in self.schedulers],
            },
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned; a ConfigError naming the difference if
        the checkpoint's optimizer or schedulers are not this run's."""
        types = state.get("types", {})  # absent in checkpoints of earlier versions
        check_optimizer_fits(self.optimizer, state["optimizer"], types.get("optimizer"))
        check_schedulers_fit([c.scheduler for c in self.schedulers], state["schedulers"],
                             types.get("schedulers"))
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            for config, saved in zip(self.schedulers, state["schedulers"]):
                config.scheduler.load_state_dict(saved)
        except (KeyError, ValueError, TypeError) as exc:  # torch's own consistency checks
            raise ConfigError(f"the checkpoint's optimizer state does not fit this run's "
                              f"{type(self.optimizer).__name__}: {exc}",
                              hint=START_FRESH) from exc


def _scheduler_config(value: Any, monitor: str | None) -> SchedulerConfig:
    if not isinstance(value, dict):
        value = {"scheduler": value}
    unknown = set(value) - {"scheduler", "interval", "frequency", "monitor", "name", "strict"}
    if unknown or "scheduler" not in value:
        raise ConfigError(
            "an lr_scheduler dict needs 'scheduler' and may have 'interval', 'frequency', "
            f"'monitor'; got keys {sorted(value)}"
        )
    config = SchedulerConfig(
        scheduler=value["scheduler"],
        interval=check_choice(
            "lr_scheduler interval", value.get("interval", "epoch"), ("epoch", "step")
        ),
        frequency=check_int("lr_scheduler frequency", value.get("frequency", 1), 1),
        monitor=value.get("monitor", monitor),
    )
    if isinstance(config.scheduler, Plateau) and config.monitor is None:
        config.monitor = "val_loss"
    return config


def _check_optimizer(value: Any) -> torch.optim.Optimizer:
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, torch.optim.Optimizer):
        raise ConfigError(
            "configure_optimizers() must return one torch optimizer (or a dict/tuple holding "
            f"one); got {type(value).__name__}"
        )
    return value


def parse_optimizers(value: Any) -> OptimizerSetup:
    """An :class:`OptimizerSetup` from whatever ``configure_optimizers()`` returned."""
    if isinstance(value, dict):
        unknown = set(value) - {"optimizer", "lr_scheduler", "monitor"}
        if unknown:
            raise ConfigError(f"configure_optimizers() returned unknown keys {sorted(unknown)}")
        scheds = value.get("lr_scheduler")
        scheds = [] if scheds is None else [scheds]
        return OptimizerSetup(
            _check_optimizer(value.get("optimizer")),
            [_scheduler_config(s, value.get("monitor")) for s in scheds],
        )
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], (list, tuple)):
        return OptimizerSetup(
            _check_optimizer(value[0]), [_scheduler_config(s, None) for s in value[1]]
        )
    return OptimizerSetup(_check_optimizer(value))
