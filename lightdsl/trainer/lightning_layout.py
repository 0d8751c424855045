"""The keys pytorch-lightning reads from a checkpoint, written beside lightdsl's own.

A lightdsl checkpoint keeps its own layout (``lightdsl-checkpoint/1``: the exact loop position,
random states, running epoch sums) and also carries what Lightning 2.x looks for, so that the
Lightning script ``lightdsl codegen --target lightning`` writes can use it:

- ``Model.load_from_checkpoint(path)`` reads ``pytorch-lightning_version``, ``state_dict`` (the
  same keys: the generated LightningModule has lightdsl's module names) and
  ``hyper_parameters`` (the model's constructor arguments);
- ``trainer.fit(model, ckpt_path=path)`` also reads ``epoch``, ``global_step``, ``loops``
  (the fit loop's progress counters), ``optimizer_states`` and ``lr_schedulers``.

Resuming in Lightning from a checkpoint written at an epoch's end continues with the next epoch,
the same global step and the optimizer's and schedulers' state: the same weights, bit for bit,
as an uninterrupted run of the script. From a checkpoint written in the middle of an epoch
(Ctrl-C, max_steps, mid-epoch validation) Lightning continues at the same epoch, batch index and
step, but its loader starts the epoch's data again from the first batch (Lightning warns that
the loader is not resumable), so that epoch does not repeat lightdsl's. lightdsl's random states,
running epoch sums and callback states are not in Lightning's layout and are not restored there.

Nothing here imports Lightning: the layout is plain dicts and numbers.
"""

from __future__ import annotations

LAYOUT_VERSION = "2.0.0"
"""``pytorch-lightning_version`` of what is written: the fit-loop layout of Lightning 2.0, the
last release whose checkpoint layout changed (newer 2.x releases read it with no migration)."""
VERSION_KEY = "pytorch-lightning_version"


def lightning_entries(loop: dict, optimizer: dict, hparams: dict) -> dict:
    """Lightning's keys for a checkpoint whose lightdsl ``loop`` state (epoch, global_step,
    batches_done, epoch_finished, total_batches), optimizer state (``optimizer`` and
    ``schedulers``, as :meth:`OptimizerSetup.state_dict` gives it) and model ``hparams`` (the
    constructor's arguments) are given."""
    entries = {
        "epoch": loop["epoch"],
        "global_step": loop["global_step"],
        VERSION_KEY: LAYOUT_VERSION,
        "loops": {"fit_loop": fit_loop_state(loop)},
        # the same objects as lightdsl's own keys: torch.save stores them once
        "optimizer_states": [optimizer["optimizer"]],
        "lr_schedulers": list(optimizer["schedulers"]),
    }
    if hparams:  # as Lightning: no key for a model without hyperparameters
        entries["hyper_parameters"] = hparams
    return entries


def fit_loop_state(loop: dict) -> dict:
    """The counters Lightning's fit loop saves at the same position: after an epoch's end
    (epochs processed but not yet completed, the last batch seen) or after a training batch in
    the middle of one (that batch processed but not completed: Lightning completes it when it
    resumes). Lightning reads ``current_epoch`` and ``global_step`` from these counters."""
    epoch, step, done = loop["epoch"], loop["global_step"], loop["batches_done"]
    total = loop.get("total_batches", done)
    if loop["epoch_finished"]:
        epochs = _counter(epoch + 1, completed=epoch)
        batches = _batch_progress(total, done, last=True, completed_lag=0)
        stepped = step
    else:
        epochs = _counter(epoch + 1, processed=epoch, completed=epoch)
        batches = _batch_progress(total, done, last=False, completed_lag=1)
        # Lightning counts the batch's step when it completes it, at the resume
        stepped = max(step - 1, 0)
    # Lightning reads only the totals of the optimizer counters (global_step is
    # step.total.completed) and resets the per-epoch ones when an epoch starts
    steps = {"ready": step, "completed": step}
    zero_grads = {"ready": step, "completed": step, "started": step}
    return {
        "state_dict": {},
        "epoch_loop.state_dict": {"_batches_that_stepped": stepped},
        "epoch_loop.batch_progress": batches,
        "epoch_loop.automatic_optimization.state_dict": {},
        "epoch_loop.automatic_optimization.optim_progress": {"optimizer": {
            "step": {"total": steps, "current": dict(steps)},
            "zero_grad": {"total": zero_grads, "current": dict(zero_grads)},
        }},
        "epoch_progress": {"total": epochs, "current": dict(epochs)},
    }


def _counter(n: int, processed: int | None = None, completed: int | None = None) -> dict:
    """A Lightning progress counter: ``n`` ready and started, and so many processed, completed."""
    return {"ready": n, "completed": n if completed is None else completed, "started": n,
            "processed": n if processed is None else processed}


def _batch_progress(total: int, current: int, last: bool, completed_lag: int) -> dict:
    return {"total": _counter(total, completed=max(total - completed_lag, 0)),
            "current": _counter(current, completed=max(current - completed_lag, 0)),
            "is_last_batch": last}


def lightning_version(ckpt: dict) -> str | None:
    """The Lightning version a checkpoint names (lightdsl's name :data:`LAYOUT_VERSION`)."""
    version = ckpt.get(VERSION_KEY)
    return version if isinstance(version, str) else None
