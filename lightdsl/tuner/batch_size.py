"""The batch-size finder, as PyTorch Lightning's ``Tuner.scale_batch_size(mode="power")``.

Starting at ``init_val``, run ``steps_per_trial`` optimizer steps (and as many validation
batches) at each batch size and double it, until a trial runs out of memory (the size is then
halved and the search ends, once some size has worked), the batch size reaches the dataset's
size, ``max_trials`` trials have run, or ``max_val`` is reached. Weights, buffers and random
generators are restored afterwards.

One difference: where Lightning reports the first power of two at or above the dataset size,
lightdsl reports the dataset size itself (the batches are the same).
"""

from __future__ import annotations

import copy
import gc

import torch

from ..errors import ConfigError
from ..trainer.checkpoint import capture_rng, restore_rng

_TRIAL_SETTINGS = {"logger": None, "enable_checkpointing": False, "enable_progress_bar": False,
                   "enable_model_summary": False, "num_sanity_val_steps": 0,
                   "limit_train_batches": 1.0, "fast_dev_run": False, "callbacks": [],
                   # every size would compile graphs of its own (seconds each); a size the eager
                   # model fits, the compiled one (fused, fewer intermediates) fits as a rule
                   "compile": False}

OOM_MESSAGES = ("CUDA out of memory", "out of memory", "DefaultCPUAllocator: can't allocate memory",
                "CUDNN_STATUS_NOT_SUPPORTED", "MPS backend out of memory")


def is_oom_error(error: BaseException) -> bool:
    """Whether ``error`` is torch running out of device or host memory."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and any(m in str(error) for m in OOM_MESSAGES)


def get_batch_size(module) -> int | str | None:
    """The module's batch size: ``module.batch_size``, else its spec data's setting."""
    if hasattr(module, "batch_size"):
        return module.batch_size
    return module.data.settings.get("batch_size")


def set_batch_size(module, value: int) -> None:
    """Give the module a new batch size; its cached loaders are dropped."""
    if hasattr(module, "batch_size"):
        module.batch_size = value
    else:
        module.data.settings["batch_size"] = value
        if isinstance(getattr(module, "hparams", None), dict):
            module.hparams["batch_size"] = value
    loaders = getattr(module, "_loaders", None)
    if isinstance(loaders, dict):
        loaders.clear()


def dataset_size(module) -> int | None:
    """How many training samples the module's train loader draws from (None if unknown)."""
    loader = module.train_dataloader()
    for holder in (loader, getattr(loader, "dataset", None)):
        size = getattr(holder, "num_samples", None)
        if isinstance(size, int):
            return size
    try:
        return len(loader.dataset)
    except (AttributeError, TypeError):
        return None


def scale_batch_size(module, trainer_kwargs: dict | None = None, *, steps_per_trial: int = 3,
                     init_val: int = 2, max_trials: int = 25, max_val: int = 8192,
                     log=print) -> int:
    """The largest power-of-two batch size that trains without running out of memory.

    The module is left with the found batch size set (and its weights as they were).
    """
    for name, value, low in (("steps_per_trial", steps_per_trial, 1), ("init_val", init_val, 1),
                             ("max_trials", max_trials, 1), ("max_val", max_val, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"scale_batch_size {name}={value!r} must be an integer >= {low}")
    kwargs = {**(trainer_kwargs or {}), **_TRIAL_SETTINGS, "max_steps": steps_per_trial,
              "limit_val_batches": steps_per_trial}
    saved_state, saved_rng = copy.deepcopy(module.state_dict()), capture_rng()
    try:
        set_batch_size(module, init_val)
        size = _power_scaling(module, kwargs, init_val, max_trials, max_val, log)
    finally:
        module.load_state_dict(saved_state)
        restore_rng(saved_rng)
        _free_memory()
    set_batch_size(module, size)
    return size


def _power_scaling(module, kwargs, size: int, max_trials: int, max_val: int, log) -> int:
    from ..trainer import Trainer

    any_success, total = False, dataset_size(module)
    for trial in range(max_trials):
        _free_memory()
        if size >= max_val:
            log(f"  batch size {size}: the limit max_val={max_val} is reached")
            break
        try:
            Trainer(**kwargs).fit(module)
        except Exception as error:  # only out-of-memory errors are expected
            if not is_oom_error(error):
                raise
            _free_memory()
            size = max(1, size // 2)
            set_batch_size(module, size)
            log(f"  batch size {size * 2}: out of memory; trying {size}" if not any_success
                else f"  batch size {size * 2}: out of memory; keeping {size}")
            if any_success:
                break
            continue
        if trial + 1 >= max_trials:
            break
        if total is not None and size >= total:
            log(f"  batch size {size}: fits; it covers the whole dataset ({total} samples)")
            size = total
            break
        log(f"  batch size {size}: fits")
        size, any_success = min(size * 2, max_val), True
        set_batch_size(module, size)
    return size


def _free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
