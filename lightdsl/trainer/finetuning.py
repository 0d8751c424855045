"""Unfreezing a frozen part of a model at an epoch, as Lightning's ``BackboneFinetuning``.

The part is a submodule path (``backbone``). Before ``at_epoch`` it gets no gradient and, by
default, its batch norms stay in eval mode; from ``at_epoch`` on it trains. The optimizer
must already hold the part's parameters in a group of their own (lightdsl's compiled modules
build one from the start, see :func:`lightdsl.compile.finetune.param_groups`): the group has
nothing to update while the part is frozen, and a checkpoint written on either side of the
unfreeze restores into the same groups. The state follows from the epoch alone, so a resumed
run freezes or unfreezes the part exactly as the uninterrupted one did at that epoch.
"""

from __future__ import annotations

from torch import nn

from .callbacks import Callback
from .config import check_int


class Unfreeze(Callback):
    """Train ``module``'s submodule ``part`` from epoch ``at_epoch`` (0-based) on."""

    def __init__(self, part: str, at_epoch: int, lr: float | None = None) -> None:
        check_int("at_epoch", at_epoch, minimum=0)
        self.part, self.at_epoch, self.lr = part, at_epoch, lr

    @property
    def state_key(self) -> str:
        return f"Unfreeze[{self.part}]"

    def on_fit_start(self, trainer, module) -> None:
        self._apply(trainer, module)

    def on_train_epoch_start(self, trainer, module) -> None:
        self._apply(trainer, module)

    def _apply(self, trainer, module) -> None:
        frozen = trainer.current_epoch < self.at_epoch
        setter = getattr(module, "set_part_frozen", None)
        if setter is not None:  # a lightdsl module: it knows the part's batch-norm mode
            setter(self.part, frozen)
            return
        part = module.get_submodule(self.part)
        part.requires_grad_(not frozen)
        if frozen and module.training:
            for inner in part.modules():
                if isinstance(inner, nn.modules.batchnorm._BatchNorm):
                    inner.eval()
