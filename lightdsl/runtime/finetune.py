"""Fine-tuning that lightdsl and generated scripts share: the optimizer's parameter groups
(``lr_mult``, parts a run unfreezes later), and, for scripts, a warm start's tensors taken
from a weights file by name and shape.

lightdsl's own warm start (:func:`lightdsl.compile.warmstart.load_weights`) reads more file
formats and reports every problem by name; a script's :func:`warm_start` reads what
``torch.save`` wrote (a checkpoint with a ``state_dict`` entry, lightdsl's and Lightning's, or
a plain state dict) and matches names by the same three steps: ``torch.compile``'s
``_orig_mod.`` dropped, the spec's ``map`` renaming prefixes, and a name the model lacks
losing up to three leading segments (Lightning's ``model.``, DDP's ``module.``) where that
makes one of the model's names.
"""

import sys

import torch


def param_groups(model, lr, mults, later):
    """The optimizer's parameter groups: first everything trainable now at the optimizer's
    ``lr``, then a group per ``lr_mult`` part (``mults``: part path -> multiplier; a part
    inside another takes the nearest one's) and per part a later ``unfreeze`` trains
    (``later``: part path -> its own lr, or None for the optimizer's times its multiplier).
    Frozen tensors that no unfreeze names are left out; empty groups are dropped."""
    owners = sorted(
        [*later, *mults], key=lambda path: -path.count(".")
    )  # deepest first
    groups = {"": []}
    for name, param in model.named_parameters():
        owner = next((p for p in owners if name.startswith(p + ".")), "")
        if owner in later or param.requires_grad:
            groups.setdefault(owner, []).append(param)
    result = [{"params": groups.pop("")}]
    for owner, params in groups.items():
        group = {"params": params, "part": owner}
        rate = later.get(owner)
        if rate is None and lr is not None:
            rate = lr * part_lr_mult(owner, mults)
        if rate is not None:
            group["lr"] = rate
        result.append(group)
    return [group for group in result if group["params"]]


def part_lr_mult(path, mults):
    """The multiplier of the part at ``path``: its own, else its nearest enclosing part's."""
    while path:
        if path in mults:
            return mults[path]
        path = path.rpartition(".")[0]
    return 1.0


def warm_start(model, path, key_map=None, strict=False):
    """Copy into ``model`` the tensors of the weights file ``path`` (a checkpoint with a
    ``state_dict`` entry, or a state dict) whose names, as :func:`weights_names` matches
    them, and shapes are the model's, and say how many on stderr. With
    ``strict`` a model tensor the file lacks, or a file tensor that does not fit, ends the
    script with one line (exit code 2) and loads nothing."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        print(f"error: weights file not found: {path}", file=sys.stderr)
        raise SystemExit(2) from None
    if isinstance(saved, dict) and isinstance(saved.get("state_dict"), dict):
        saved = saved["state_dict"]  # a checkpoint: lightdsl's, Lightning's
    tensors = {k: v for k, v in saved.items() if isinstance(v, torch.Tensor)}
    own = model.state_dict()
    names = weights_names(list(tensors), own, key_map or {})
    taken = {
        names[f]: t
        for f, t in tensors.items()
        if names[f] in own and tuple(t.shape) == tuple(own[names[f]].shape)
    }
    left = [f for f in tensors if taken.get(names[f]) is not tensors[f]]
    missing = [name for name in own if name not in taken]
    if strict and (left or missing):
        print(
            f"error: {path} does not fit the model: missing {missing or 'none'}, "
            f"not fitting {left or 'none'}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    with torch.no_grad():
        model.load_state_dict(taken, strict=False)
    print(
        f"warm start: loaded {len(taken)} of the model's {len(own)} tensors from {path}"
        + (f"; left out {', '.join(left)}" if left else ""),
        file=sys.stderr,
    )


def weights_names(names, own, key_map):
    """File name -> model name: ``_orig_mod.`` dropped (unless the model's names have it),
    ``key_map``'s longest matching prefix renamed, else leading segments dropped where only
    that gives a name of the model (at most three)."""
    compiled = any("_orig_mod." in name for name in own)
    rules = sorted(key_map, key=len, reverse=True)
    result = {}
    for name in names:
        bare = name if compiled else name.replace("_orig_mod.", "")
        rule = next(
            (r for r in rules if name.startswith(r) or bare.startswith(r)), None
        )
        if rule is not None:
            form = name if name.startswith(rule) else bare
            result[name] = key_map[rule] + form[len(rule) :]
            continue
        parts = bare.split(".")
        tails = [".".join(parts[i:]) for i in range(min(3, len(parts) - 1) + 1)]
        result[name] = next((tail for tail in tails if tail in own), bare)
    return result
