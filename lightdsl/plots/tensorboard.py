"""What TensorBoard gets besides the trainer's scalars: the lr-finder curve and the model graph.

Both are best effort: without the tensorboard package, or for a model that cannot be traced,
nothing is written and training is not disturbed.
"""

from __future__ import annotations

import warnings


def _writer(directory):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(log_dir=str(directory), filename_suffix=".lightdsl")


def add_lr_curve(directory, result) -> bool:
    """Scalars ``lr_find/loss`` and ``lr_find/lr`` by search step, in ``directory``'s events."""
    writer = _writer(directory)
    if writer is None:
        return False
    with writer:
        for step, (lr, loss) in enumerate(zip(result.lrs, result.losses)):
            writer.add_scalar("lr_find/lr", lr, step)
            writer.add_scalar("lr_find/loss", loss, step)
        suggestion = result.suggestion()
        if suggestion is not None:
            writer.add_text("lr_find/suggestion", f"suggested learning rate: {suggestion:.6g}")
    return True


def add_model_graph(directory, module, example) -> bool:
    """The traced model graph (TensorBoard's Graphs tab); False if it could not be traced."""
    if example is None:
        return False
    writer = _writer(directory)
    if writer is None:
        return False
    try:
        with writer, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            was_training = module.training
            module.eval()
            try:
                writer.add_graph(module, example)
            finally:
                module.train(was_training)
    except Exception:  # noqa: BLE001 - tracing is best effort; training already succeeded
        return False
    return True
