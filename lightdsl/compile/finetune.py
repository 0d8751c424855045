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
    """The optimizer's parameter groups: first everything trainable now at the optimizer's
    lr, then a group per ``lr_mult`` part (lr times the multiplier) and per unfrozen part
    (its ``lr``, else the optimizer's times the part's multiplier). Frozen tensors that no
    ``unfreeze`` names are left out; empty groups are dropped."""
    mults, _ = part_settings(root)
    later = {path: rate for path, rate in unfreezes}
    owners = sorted([*later, *mults], key=lambda p: -p.count("."))  # deepest part first
    groups: dict[str, list] = {"": []}
    for name, param in root.named_parameters():
        owner = next((p for p in owners if name.startswith(p + ".")), "")
        if owner in later or param.requires_grad:
            groups.setdefault(owner, []).append(param)
    result = [{"params": groups.pop("")}]
    for owner, params in groups.items():
        group = {"params": params, "part": owner}
        rate = later.get(owner)
        if rate is None and lr is not None:
            rate = lr * _mult_of(owner, mults)
        if rate is not None:
            group["lr"] = rate
        result.append(group)
    return [g for g in result if g["params"]]


def _mult_of(path: str, mults: dict[str, float]) -> float:
    """The multiplier of the part at ``path``: its own, else its nearest enclosing part's."""
    while path:
        if path in mults:
            return mults[path]
        path = path.rpartition(".")[0]
    return 1.0


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """``(trainable, frozen)`` numbers in ``module``'s parameters."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in module.parameters()) - trainable


def refreeze_inner(module: nn.Module) -> None:
    """The parts frozen inside ``module``'s used models stay frozen when it is unfrozen."""
    for prefix, inner in module.named_modules():
        for path in getattr(inner, "part_bn", {}):
            if prefix:  # ``module`` itself: the caller decides
                inner.get_submodule(path).requires_grad_(False)


