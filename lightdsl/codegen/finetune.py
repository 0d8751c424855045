"""What generated scripts leave out of fine-tuning, said as codegen's notes (warnings).

Scripts freeze what the spec freezes (``requires_grad_(False)``, batch norms kept in eval
mode by the model class's ``train()``, see :class:`~lightdsl.codegen.model.ModelWriter`).
They do not load ``init weights(...)`` files, build ``lr_mult`` parameter groups or unfreeze
parts at an epoch: each of these is named here, so that ``lightdsl codegen`` warns about it.
"""

from __future__ import annotations

from ..checker.models import ModelInfo, ModelUse, Repeated


def finetune_notes(run) -> list[str]:
    """One note per fine-tuning feature of ``run`` a generated script does not reproduce."""
    notes = []
    inits, mults = [], []
    for model, path, part in _parts(run.model):
        where = f"{model}.{path}"
        if part.init is not None:
            inits.append(where)
        if part.lr_mult is not None:
            mults.append(where)
    if run.init is not None or inits:
        notes.append("init weights(...) (warm starts of " + ", ".join(
            (["the model"] if run.init is not None else []) + inits) + "): the script starts "
            "from fresh weights; load them yourself (model.load_state_dict) before training")
    if mults:
        notes.append(f"lr_mult of {', '.join(mults)}: the script trains every part at the "
                     "optimizer's lr")
    if run.unfreeze:
        parts = ", ".join(f"{b.values['part']} at epoch {b.values['at_epoch']}"
                          for b in run.unfreeze)
        notes.append(f"unfreeze ({parts}): the script keeps these parts frozen")
    return notes


def _parts(info: ModelInfo | None, seen: set | None = None):
    """(model name, part path, options) of ``info`` and of every model it uses."""
    if info is None:
        return
    seen = set() if seen is None else seen
    if id(info) in seen:
        return
    seen.add(id(info))
    for path, part in info.options.items():
        yield info.name, path, part
    for layer in [*info.layers.values(), *info.sequence]:
        yield from _used(layer, seen)


def _used(layer, seen: set):
    if isinstance(layer, ModelUse):
        yield from _parts(layer.model, seen)
    elif isinstance(layer, Repeated):
        for item in layer.items:
            yield from _used(item, seen)
