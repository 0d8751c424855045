"""Fine-tuning in generated scripts, as lightdsl trains it.

Scripts freeze what the spec freezes (``requires_grad_(False)``; the model class's ``train()``
keeps a frozen part's batch norms in eval mode, see
:class:`~lightdsl.codegen.model.ModelWriter`). Here: the warm starts (``init = weights(...)``
after the model is built, ``part = ... init weights(...)`` in its class's ``__init__``, with the
runtime's :func:`~lightdsl.runtime.finetune.warm_start`), the optimizer's parameter groups
(``lr_mult`` and parts unfrozen later: :func:`~lightdsl.runtime.finetune.param_groups`, the
function lightdsl's compiled module calls) and ``unfreeze(part, at_epoch = N)`` at each
epoch's start, decided by the epoch alone, as lightdsl's Unfreeze callback does.
"""

from __future__ import annotations

import os

from ..checker.finetune import WeightsInit
from ..checker.models import ModelInfo, ModelUse, Repeated
from .printer import literal, str_literal
from .writer import CodeWriter, Doc, Group, concat


def warm_start_call(init: WeightsInit, target: str, script) -> Doc:
    """``warm_start(target, SPEC_DIR / "file", ...)``: the file as the spec names it (a
    relative path from the spec's folder), with its ``map`` and ``strict``."""
    script.use("warm_start")
    written = init.bound.values["path"]
    if os.path.isabs(os.path.expanduser(written)):
        path = str_literal(os.path.expanduser(written))
    else:
        path = f"{script.spec_dir()} / {str_literal(written)}"
    items = [target, path]
    if init.key_map:
        items.append(concat("key_map=", _dict(init.key_map)))
    if init.strict:
        items.append("strict=True")
    return concat("warm_start", Group("(", tuple(items), ")"))


def optimizer_params(run, script, model: str, lr: str) -> Doc | None:
    """The optimizer's parameter groups when parts have their own (``lr_mult``, a later
    unfreeze): ``param_groups(model, lr, mults={...}, later={...})``; None otherwise (every
    trainable parameter at the optimizer's lr)."""
    mults = {path: part.lr_mult for path, part in part_options(run.model)
             if part.lr_mult is not None}
    later = {b.values["part"]: b.values.get("lr") for b in run.unfreeze}
    if not mults and not later:
        return None
    script.use("param_groups")
    return concat("param_groups", Group("(", (model, lr, concat("mults=", _dict(mults)),
                                              concat("later=", _dict(later))), ")"))


def _dict(values: dict) -> Doc:
    return Group("{", tuple(concat(f"{str_literal(k)}: ", literal(v))
                            for k, v in values.items()), "}")


def write_unfreezes(w: CodeWriter, run, model: str, epoch: str) -> None:
    """At an epoch's start: each ``unfreeze`` part trains from its epoch on (the parts
    frozen inside it stay frozen)."""
    for bound in run.unfreeze:
        part, at_epoch = bound.values["part"], bound.values["at_epoch"]
        w.ref(bound.span, "unfreeze")
        w.line(f"{model}.{part}.requires_grad_({epoch} >= {at_epoch})  "
               f"# frozen before epoch {at_epoch}")
        for inner in _frozen_inside(run.model.layers.get(part)):
            w.line(f"{model}.{part}.{inner}.requires_grad_(False)  # frozen in its own model")


def part_options(info: ModelInfo | None, prefix: str = ""):
    """(module path from ``info``, options) of every part with options, in ``info`` and in
    the models it uses (``backbone.layers.1``), as the built model names its modules."""
    if info is None:
        return
    for path, part in info.options.items():
        yield prefix + path, part
    for name, layer in info.layers.items():
        yield from _inside(layer, f"{prefix}{name}.")
    for index, layer in enumerate(info.sequence):
        yield from _inside(layer, f"{prefix}layers.{index}.")


def _inside(layer, prefix: str):
    if isinstance(layer, ModelUse):
        yield from part_options(layer.model, prefix)
    elif isinstance(layer, Repeated):
        for copy in range(layer.count):
            if len(layer.items) == 1:
                yield from _inside(layer.items[0], f"{prefix}{copy}.")
                continue
            for index, item in enumerate(layer.items):
                yield from _inside(item, f"{prefix}{copy}.{index}.")


def _frozen_inside(layer) -> list[str]:
    """The frozen parts inside a used model (paths from it), which unfreezing it keeps."""
    if not isinstance(layer, ModelUse):
        return []
    return [path for path, part in part_options(layer.model) if part.frozen]
