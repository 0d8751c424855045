"""What the loop records: validation and its schedule, the logged metrics (through the
callback list, where the logger listens), checkpoints and the one Ctrl-C leaves.

Each function takes the run (:class:`~lightdsl.trainer.run.FitRun`) and the loop's state
(:class:`~lightdsl.trainer.state.LoopState`), as the loop's own do.
"""

from __future__ import annotations

from pathlib import Path

from .checkpoint import FORMAT, atomic_save, to_safe
from .evaluation import evaluate, materialized
from .lightning_layout import lightning_entries
from .loggers import as_floats
from .run import hparams


def validation_due(run, state, batches_done: int, epoch_end: bool) -> bool:
    """Whether to validate now (after ``batches_done`` batches of the current epoch).

    Lightning's schedule: after every ``val_interval``-th batch of an epoch (counted across
    epochs when ``check_val_every_n_epoch`` is None), in the epochs that
    ``check_val_every_n_epoch`` selects. A fraction that does not divide the epoch does not
    add a check at the epoch's end. The last batch's check waits for the epoch end (which
    applies a pending accumulated step first). An epoch cut short by ``max_steps`` or a
    stop request validates its final weights once, if they were not just validated.
    """
    every = run.config.check_val_every_n_epoch
    if not run.loaders.has_val_data or (every is not None and (state.epoch + 1) % every):
        return False
    total, interval = run.loaders.num_train_batches, state.val_interval
    if epoch_end and (not state.epoch_finished or state.should_stop):
        return state.validated_at != (state.epoch, batches_done)
    if interval is None:  # an epoch of unknown length: validate at its end
        return epoch_end
    if not epoch_end and batches_done == total:
        return False
    per_epoch = every is not None or total is None
    count = batches_done if per_epoch else state.epoch * total + batches_done
    return count % interval == 0


def run_validation(run, state) -> None:
    """Validate, record ``val_*`` metrics, call ``on_validation_end``."""
    loaders = run.loaders
    metrics = evaluate(run, loaders.val_loader, "validation_step", loaders.num_val_batches, "val")
    state.has_validated, state.validated_at = True, (state.epoch, state.batches_done)
    state.epoch_val_metrics = metrics
    state.callback_metrics.update(metrics)
    record_last_step(run, state)  # what a checkpoint or early stopping may monitor
    log(run, state, metrics)
    if metrics.matrices:
        run.callbacks.call("on_log_matrices", run.trainer, metrics.matrices, state.global_step)
    run.callbacks.call("on_validation_end", run.trainer, run.module)


def log_step(run, state, outputs: dict) -> None:
    """Log ``train_<name>_step`` for the loss and each metric at this optimizer step."""
    metrics = _step_metrics(run, state, outputs)
    log(run, state, {f"{k}_step": v for k, v in metrics.items()})


def _step_metrics(run, state, outputs: dict) -> dict[str, float]:
    """A step's ``train_<name>`` values (means over ranks), recorded in callback_metrics
    under Lightning's two names for them: ``train_<name>`` and ``train_<name>_step``."""
    outputs = materialized(outputs)  # the metrics' batch values are computed here
    metrics = as_floats({f"train_{k}": v for k, v in run.dist.mean(outputs).items()})
    state.callback_metrics.update(metrics)
    state.callback_metrics.update({f"{k}_step": v for k, v in metrics.items()})
    return metrics


def record_last_step(run, state) -> None:
    """Put the latest batch's values into callback_metrics (as Lightning has them after
    every batch) where log_every_n_steps skipped them, so that a callback can monitor
    ``train_loss`` or ``train_loss_step`` whatever the logging interval. Called at the
    same points on every rank (the values are means over ranks)."""
    if state.last_outputs:
        _step_metrics(run, state, state.last_outputs)


def log(run, state, metrics: dict[str, float]) -> None:
    """Send ``metrics`` to the logger (an ``on_log_metrics`` callback) as Lightning 2.6 does
    during fit, so that both trainers' dashboards line up: with the ``epoch``, at step
    ``global_step - 1`` (the number of batches that stepped before the current one,
    Lightning's logging step)."""
    metrics = {**metrics, "epoch": state.epoch}
    run.callbacks.call("on_log_metrics", run.trainer, metrics, max(state.global_step - 1, 0))


def log_epoch(run, state) -> None:
    """Log the epoch's weighted training means (``train_loss_epoch``, ...); afterwards
    ``train_loss`` in callback_metrics is the epoch's mean too, as in Lightning."""
    record_last_step(run, state)
    means = run.dist.reduce_means(state.train_means)
    values = {f"train_{k}": v for k, v in means.compute().items()}
    metrics = state.epoch_metrics = {f"{k}_epoch": v for k, v in values.items()}
    state.callback_metrics.update({**values, **metrics})
    log(run, state, metrics)
    if means.matrices:
        matrices = {f"train_{k}_epoch": v for k, v in means.matrices.items()}
        run.callbacks.call("on_log_matrices", run.trainer, matrices, state.global_step)
    state.history.append({"epoch": state.epoch, **metrics, **state.epoch_val_metrics})


def checkpoint_state(run, state) -> dict:
    """Everything a resume needs, in types ``torch.load(weights_only=True)`` accepts."""
    loop = state.checkpoint_entries(run.dist.reduce_means(state.train_means).state_dict())
    loop["loop"].update(data_seed=run.data_seed, world_size=run.dist.ranks.world_size)
    optimizer = run.opt.state_dict()
    return {
        "format": FORMAT,
        "state_dict": run.module.state_dict(),
        "optimizer": optimizer,
        "grad_scaler": run.scaler.state_dict() if run.scaler is not None else None,
        **loop,
        "callbacks": run.callbacks.state_dict(),
        "hparams": to_safe(hparams(run.module)),
        "spec_source": getattr(run.module, "spec_source", None),
        "precision": run.precision.name,
        # what Lightning's load_from_checkpoint and fit(ckpt_path=...) read
        **lightning_entries(loop["loop"], optimizer, to_safe(_init_hparams(run.module))),
    }


def save_checkpoint(run, state, path) -> Path:
    """Write a checkpoint of the run's current state to ``path`` atomically (under DDP every
    rank calls this, as the state includes metrics reduced over ranks; rank 0 writes)."""
    saved = checkpoint_state(run, state)
    if run.dist.is_main:
        atomic_save(saved, path)
    return Path(path)


def save_interrupt_checkpoint(run, state) -> None:
    """After Ctrl-C: save ``last.ckpt`` at the current (consistent) position and stop."""
    state.interrupted = True
    # the bar stays where Ctrl-C stopped it; the message goes below
    run.callbacks.call("on_exception", run.trainer, run.module, KeyboardInterrupt())
    saver = run.saver()
    if saver is None:
        if run.dist.is_main:
            print("Interrupted; checkpointing is off, so nothing was saved.", flush=True)
        return
    path = saver.directory(run.trainer) / "last.ckpt"
    saver.last_model_path = str(path)
    save_checkpoint(run, state, path)
    epoch, skip = state.next_position()
    how = run.resume_command or f"fit(module, ckpt_path={str(path)!r})"
    if run.dist.is_main:
        print(f"Interrupted: saved {path} (resumes at epoch {epoch}, batch {skip}); "
              f"continue with {how}", flush=True)


def _init_hparams(module) -> dict:
    """The module's constructor arguments (Lightning's ``hparams_initial``), else its hparams."""
    initial = getattr(module, "hparams_initial", None)
    return dict(initial) if initial is not None else hparams(module)
