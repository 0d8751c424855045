"""Weights files to start training from, seen without torch: what ``lightdsl check`` can tell.

- :func:`inspect_weights`: a file's format and every tensor's shape and dtype, read within a
  fixed number of bytes and without running anything in the file (safetensors headers; the
  pickle of a ``torch.save`` zip archive, read by a restricted unpickler);
- :func:`check_fit` / :func:`fit`: whether those tensors fit a model's by name and shape, with
  the same renaming rules (``key_map``, Lightning's ``model.``, ``torch.compile``'s
  ``_orig_mod.``) that :func:`lightdsl.compile.warmstart.load_weights` applies when it loads
  them with torch;
- :func:`find_state_dict`: where the weights are inside a checkpoint (lightdsl's, Lightning's,
  a plain state dict), one rule for both sides.

Torch-free: it sits beside the front end, whose bounded file reader it uses.
"""

from __future__ import annotations

from .fit import Fit, FitProblem, check_fit, fit
from .layout import LIGHTDSL_FORMAT, LIGHTNING_VERSION_KEY, Located, find_state_dict
from .reading import AT_TRAIN_TIME, READ_LIMIT, TensorInfo, WeightFile, inspect_weights

__all__ = [
    "AT_TRAIN_TIME", "LIGHTDSL_FORMAT", "LIGHTNING_VERSION_KEY", "READ_LIMIT", "Fit",
    "FitProblem", "Located", "TensorInfo", "WeightFile", "check_fit", "find_state_dict", "fit",
    "inspect_weights",
]
