"""Data for lightdsl: sources that load whole datasets into memory, splits and transforms.

The spec compiler calls these functions with keyword arguments taken from a ``data`` block::

    train = load_mnist(root="data", split="train")
    train, val = split(train, 0.1, seed=0)
    train, others, fitted = fit_transforms(train, {"val": val}, [("normalize", {"mean": "auto"})])

Everything here is plain torch/numpy; torchvision and scikit-learn are imported lazily, only by
the sources that need them.
"""

from lightdsl.data.dataset import Dataset, check_labels, check_shape
from lightdsl.data.idx import read_idx, write_idx
from lightdsl.data.sources import (
    SOURCES,
    load_cifar10,
    load_csv,
    load_digits,
    load_fashion_mnist,
    load_idx,
    load_inline,
    load_kmnist,
    load_mnist,
    load_npy,
    load_npz,
    load_pt,
)
from lightdsl.data.split import split
from lightdsl.data.transforms import (
    apply_transforms,
    augmentation,
    fit_transforms,
    flatten,
    normalize,
    normalize_stats,
    one_hot,
    random_crop,
    random_flip,
    standardize,
    standardize_stats,
    to_float,
)

__all__ = [
    "SOURCES",
    "Dataset",
    "apply_transforms",
    "augmentation",
    "check_labels",
    "check_shape",
    "fit_transforms",
    "flatten",
    "load_cifar10",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_idx",
    "load_inline",
    "load_kmnist",
    "load_mnist",
    "load_npy",
    "load_npz",
    "load_pt",
    "normalize",
    "normalize_stats",
    "one_hot",
    "random_crop",
    "random_flip",
    "read_idx",
    "split",
    "standardize",
    "standardize_stats",
    "to_float",
    "write_idx",
]
