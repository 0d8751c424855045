"""Generate ``digits_tasks.npz``: two tasks on scikit-learn's 8x8 digits, for fine-tuning.

- pre-training (``pre_x``, ``pre_y``): 1297 images and their digit (10 classes);
- fine-tuning (``ft_x``, ``ft_y``): 60 other images, labelled with their digit modulo 3
  (3 classes), validated on the remaining 440 (``val_x``, ``val_y``).

The images of the two tasks do not overlap. Inputs are uint8 (N, 1, 8, 8) in 0 .. 16 (the
loader turns uint8 images into floats in [0, 1]); labels int64. Only the order of
``load_digits()`` and the seed decide the arrays, so re-running this script reproduces the
shipped file::

    python specs/data/make_digits_tasks.py          # writes specs/data/digits_tasks.npz

specs/finetune_digits.lit pre-trains a body on the first task and fine-tunes it, frozen, on
the second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

SEED = 0
PRETRAIN, FINETUNE = 1297, 60


def make_tasks(seed: int = SEED) -> dict[str, np.ndarray]:
    """The six arrays, by key."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    x = digits.images[order].astype(np.uint8)[:, None]
    y = digits.target[order].astype(np.int64)
    pre, ft = slice(0, PRETRAIN), slice(PRETRAIN, PRETRAIN + FINETUNE)
    val = slice(PRETRAIN + FINETUNE, None)
    return {"pre_x": x[pre], "pre_y": y[pre], "ft_x": x[ft], "ft_y": y[ft] % 3,
            "val_x": x[val], "val_y": y[val] % 3}


if __name__ == "__main__":
    out = Path(__file__).resolve().parent / "digits_tasks.npz"
    np.savez_compressed(out, **make_tasks())
    print(f"wrote {out}")
