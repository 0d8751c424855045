"""Tuning before training: the learning-rate finder and the batch-size finder.

    from lightdsl.tuner import lr_find, scale_batch_size
    result = lr_find(module, min_lr=1e-3, max_lr=1.0, early_stop_threshold=None)
    result.suggestion()            # as Lightning's lr_finder.suggestion()
    result.plot("lr_find.png")     # the curve, suggestion marked

For a spec, :func:`apply_lr_find` runs the spec's ``lr_find(...)`` and sets the module's
learning rate; :func:`apply_batch_size` resolves ``batch_size = auto``.
"""

from .batch_size import scale_batch_size
from .experiment import apply_batch_size, apply_lr_find, needs_batch_size, save_lr_find
from .lr_find import LRFinderResult, lr_find

__all__ = ["LRFinderResult", "apply_batch_size", "apply_lr_find", "lr_find", "needs_batch_size",
           "save_lr_find", "scale_batch_size"]
