"""Fine-tuning at build time: warm starts (``init weights(...)``), frozen parts and the
optimizer's parameter groups (``lr_mult``, parts a run unfreezes later).

A warm start is not a resume: only tensors are copied, the optimizer is new and trains with
the spec's learning rate. The groups are fixed for the whole run, a part that is unfrozen at
some epoch has its own group from the start (its tensors get no gradient, so the optimizer
leaves them alone until then): a checkpoint written before or after the unfreeze therefore
restores into the same groups.
"""

from __future__ import annotations

import sys

from torch import nn

from ..checker.finetune import WeightsInit
from ..errors import LightdslError
from ..runtime.finetune import param_groups as runtime_param_groups
from .warmstart import load_weights


def warm_start(module: nn.Module, init: WeightsInit, what: str = "the model"):
    """Load ``init``'s file into ``module`` (the whole model or one part): a located error if
    it does not fit (``strict``: any missing, unexpected or reshaped tensor), else a located
    warning naming what was left out, and a line saying what was loaded."""
    try:
        report = load_weights(module, init.path, strict=init.strict, key_map=init.key_map)
    except LightdslError as error:
        raise LightdslError(f"init weights for {what}: {error.message}", hint=error.hint,
                            location=init.location) from None
    severity = "note" if report.complete else "warning"
    print(f"{init.location}: {severity}: {what}: {report.summary()}", file=sys.stderr,
          flush=True)
    return report


def set_batchnorm_eval(module: nn.Module) -> None:
    """Put ``module``'s batch norms in eval mode: their running statistics stay as loaded."""
    for inner in module.modules():
        if isinstance(inner, nn.modules.batchnorm._BatchNorm):
            inner.eval()


def part_settings(root: nn.Module) -> tuple[dict[str, float], dict[str, str]]:
    """Every part's ``lr_mult`` and every frozen part's batch-norm mode, by full module path
    (used models carry their own parts, read here with their prefix)."""
    mults, frozen = {}, {}
    for prefix, inner in root.named_modules():
        for path, mult in getattr(inner, "part_lr_mults", {}).items():
            mults[_join(prefix, path)] = mult
        for path, bn in getattr(inner, "frozen_parts", {}).items():
            frozen[_join(prefix, path)] = bn
    return mults, frozen


def _join(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def param_groups(root: nn.Module, lr: float | None, unfreezes: list[tuple[str, float | None]]
                 ) -> list[dict]:
    """The optimizer's parameter groups (:func:`lightdsl.runtime.finetune.param_groups`, as
    generated scripts build them): the parts' ``lr_mult`` read from the built model, and a
    group for each part that ``unfreezes`` (part path, lr) trains later."""
    mults, _ = part_settings(root)
    return runtime_param_groups(root, lr, mults, dict(unfreezes))


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """``(trainable, frozen)`` numbers in ``module``'s parameters."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in module.parameters()) - trainable


def refreeze_inner(module: nn.Module) -> None:
    """The parts the spec freezes inside ``module`` (its own, and those of the models it
    uses) stay frozen when it is unfrozen, as their batch norms do."""
    for _, inner in module.named_modules():
        for path in getattr(inner, "part_bn", {}):
            inner.get_submodule(path).requires_grad_(False)


