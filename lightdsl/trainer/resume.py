"""Whether a checkpoint can be resumed by this run: the same model, optimizer and schedulers.

A resume restores state into objects the run built itself, so a checkpoint written by another
model or optimizer would fail deep inside torch (a KeyError at the first step, a size
mismatch). These checks name what differs and say how to start fresh instead.
"""

from __future__ import annotations

import torch

from lightdsl.errors import ConfigError

START_FRESH = (
    "start fresh: train without --resume (from Python: fit without ckpt_path); to start from "
    "the checkpoint's weights only, load them first: module.load_state_dict("
    "lightdsl.trainer.load_checkpoint(PATH)['state_dict'])"
)
SHOWN = 4  # differences listed in a message


def check_model_fits(module: torch.nn.Module, state_dict: dict) -> None:
    """A ConfigError naming the missing, extra and reshaped tensors if ``state_dict`` is not a
    state of ``module``'s architecture."""
    problems = model_differences(module, state_dict)
    if problems:
        raise ConfigError(
            f"the checkpoint was written by a different model: {listed(problems)}; a resume "
            "needs the same model",
            hint=START_FRESH,
        )


def model_differences(module: torch.nn.Module, state_dict: dict) -> list[str]:
    """What keeps ``module.load_state_dict(state_dict)`` from fitting, one phrase per tensor:
    missing from the checkpoint, extra in it, or of another shape."""
    ours = module.state_dict()
    missing = [k for k in ours if k not in state_dict]
    extra = [k for k in state_dict if k not in ours]
    reshaped = [
        f"{k} is {_shape(state_dict[k])} in the checkpoint, {_shape(ours[k])} here"
        for k in ours
        if k in state_dict and _shape(state_dict[k]) != _shape(ours[k])
    ]
    return [*(f"{k} is missing from the checkpoint" for k in missing),
            *(f"the checkpoint has {k}, this model does not" for k in extra), *reshaped]


def listed(problems: list[str], shown: int = SHOWN) -> str:
    """The first ``shown`` problems joined, and how many more there are."""
    more = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return f"{'; '.join(problems[:shown])}{more}"


def _shape(value) -> list[int] | None:
    return list(value.shape) if isinstance(value, torch.Tensor) else None


def check_optimizer_fits(optimizer: torch.optim.Optimizer, saved: dict,
                         saved_type: str | None) -> None:
    """A ConfigError if the checkpoint's optimizer state is not one of ``optimizer``'s type.

    Checkpoints record the optimizer's class; older ones are compared by their parameter-group
    settings (one optimizer's settings differing both ways from another's: a torch upgrade
    only adds settings)."""
    ours = type(optimizer).__name__
    if saved_type is not None and saved_type != ours:
        raise ConfigError(
            f"the checkpoint was written with {saved_type}; this run uses {ours}: a resume "
            "needs the same optimizer", hint=START_FRESH)
    groups = saved.get("param_groups") or [{}]
    theirs_keys = set(groups[0]) - {"params", "initial_lr"}
    ours_keys = set(optimizer.param_groups[0]) - {"params", "initial_lr"}
    if theirs_keys - ours_keys and ours_keys - theirs_keys:
        raise ConfigError(
            f"the checkpoint was written with another optimizer (settings "
            f"{', '.join(sorted(theirs_keys - ours_keys))}) than this run's {ours} (settings "
            f"{', '.join(sorted(ours_keys - theirs_keys))}): a resume needs the same optimizer",
            hint=START_FRESH)
    sizes = [len(g["params"]) for g in optimizer.param_groups]
    saved_sizes = [len(g.get("params", ())) for g in groups]
    if sizes != saved_sizes:
        raise ConfigError(
            f"the checkpoint's optimizer has parameter groups of {saved_sizes} tensors, this "
            f"run's has {sizes}: a resume needs the same trainable parameters", hint=START_FRESH)


def check_schedulers_fit(schedulers: list, saved: list, saved_types: list[str] | None) -> None:
    """A ConfigError if the checkpoint's learning-rate schedulers are not this run's."""
    ours = [type(s).__name__ for s in schedulers]
    if len(saved) != len(schedulers) or (saved_types is not None and saved_types != ours):
        theirs = (", ".join(saved_types) or "none") if saved_types is not None \
            else f"{len(saved)} scheduler(s)"
        raise ConfigError(
            f"the checkpoint was written with learning-rate scheduler(s) {theirs}; this run "
            f"uses {', '.join(ours) or 'none'}: a resume needs the same schedulers",
            hint=START_FRESH)
