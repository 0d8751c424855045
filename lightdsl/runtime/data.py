"""Data sources and the train/validation split, on plain (inputs, labels) tensors.

lightdsl's sources (:mod:`lightdsl.data`) convert arrays with ``as_inputs``, ``as_labels``,
``class_indices``, ``idx_inputs`` and ``cifar_tensors`` and split with ``validation_mask``.
The file readers here (``read_idx``, ``load_csv``, ``mnist_files``) are not shared: lightdsl's
own stream large files and check every header, row and label, naming the file and line in a
DataError (lightdsl.errors, which this package cannot import), while a script reads the files
its spec was checked against in a few lines. Both give the same tensors for a valid file.
"""

import csv
import errno
import gzip
import sys
from pathlib import Path

import numpy as np
import torch


def as_inputs(array):
    """Inputs as a float32 tensor (uint8 images stay uint8 until normalized)."""
    tensor = (
        array if isinstance(array, torch.Tensor) else torch.as_tensor(np.asarray(array))
    )
    return tensor if tensor.dtype == torch.uint8 else tensor.to(torch.float32)


def class_indices(names):
    """String labels as int64 indices into their sorted unique names, and those names."""
    classes, index = np.unique(np.asarray(names).astype(str), return_inverse=True)
    indices = torch.from_numpy(index.reshape(np.shape(names)).astype(np.int64))
    return indices, [str(c) for c in classes]


def as_labels(array):
    """Labels: int64 class indices (integers, booleans), float32 targets; strings become
    indices into their sorted names."""
    if not isinstance(array, torch.Tensor):
        array = np.asarray(array)
        if array.dtype.kind in "US":
            return class_indices(array)[0]
        array = torch.as_tensor(array)
    return array.to(torch.float32 if array.is_floating_point() else torch.int64)


def load_npz(path, inputs="x", labels="y"):
    """Arrays from a NumPy .npz archive, by key."""
    with np.load(path, allow_pickle=False) as data:
        return as_inputs(data[inputs]), as_labels(data[labels])


def load_npy(path, labels_path=None):
    """Inputs from one .npy file and labels from another."""
    inputs = as_inputs(np.load(path, allow_pickle=False))
    return inputs, as_labels(np.load(labels_path, allow_pickle=False))


def load_pt(path, inputs="x", labels="y"):
    """Tensors saved with torch.save: a dict by key, or an (inputs, labels) pair."""
    data = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(data, dict):
        data = (data[inputs], data[labels])
    return as_inputs(data[0]), as_labels(data[1])


def load_csv(path, label=None, features=None, delimiter=",", header=True):
    """A CSV file: feature columns as float32 inputs, the label column as labels."""
    with open(path, newline="", encoding="utf-8-sig") as file:
        rows = [r for r in csv.reader(file, delimiter=delimiter) if "".join(r).strip()]
    width = len(rows[0])
    names = [n.strip() for n in rows[0]] if header else [str(i) for i in range(width)]
    table = np.array(rows[1:] if header else rows, dtype=str)

    def column(key):
        return key % len(names) if isinstance(key, int) else names.index(key)

    label_col = None if label is None else column(label)
    columns = [column(f) for f in features] if features is not None else None
    if columns is None:
        columns = [i for i in range(len(names)) if i != label_col]
    inputs = torch.from_numpy(table[:, columns].astype(np.float64).astype(np.float32))
    values = np.char.strip(table[:, label_col])
    for dtype in (np.int64, np.float64):
        try:
            return inputs, as_labels(values.astype(dtype))
        except (ValueError, OverflowError):
            continue
    return inputs, as_labels(values)


def read_idx(path):
    """One MNIST-format IDX file (gzipped or not) as a numpy array."""
    codes = {8: ">u1", 9: ">i1", 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}
    with open(path, "rb") as file:
        data = file.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    code, ndim = data[2], data[3]
    dims = tuple(int(d) for d in np.frombuffer(data[4 : 4 + 4 * ndim], dtype=">i4"))
    dtype = np.dtype(codes[code])
    array = np.frombuffer(data[4 + 4 * ndim :], dtype=dtype).reshape(dims)
    return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))


def idx_inputs(array):
    """An IDX images array as inputs: (N, H, W) becomes (N, 1, H, W); uint8 stays uint8."""
    inputs = torch.from_numpy(array)
    return as_inputs(inputs.unsqueeze(1) if inputs.dim() == 3 else inputs)


def load_idx(images, labels):
    """IDX images (N, H, W) as (N, 1, H, W) and their labels as int64."""
    inputs = idx_inputs(read_idx(images).copy())
    return inputs, torch.from_numpy(read_idx(labels).astype(np.int64))


def mnist_files(root, folder, split, download):
    """The raw IDX files of an MNIST-style data set in torchvision's layout."""
    prefix = "train" if split == "train" else "t10k"
    raw = Path(root) / folder / "raw"
    names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
    candidates = [(raw / n, raw / f"{n}.gz") for n in names]
    found = [next((p for p in pair if p.is_file()), None) for pair in candidates]
    if None in found and download:
        from torchvision import datasets

        getattr(datasets, folder)(root=str(root), train=split == "train", download=True)
        found = [raw / n for n in names]
    for path, name in zip(found, names):
        if path is None:
            message = "no such file (nor its .gz); download = true fetches the data set"
            raise FileNotFoundError(errno.ENOENT, message, str(raw / name))
    return found


def read_data(load_data, data_root):
    """``load_data(data_root)``; a missing data file ends the script with one line naming it
    (exit code 2), not a traceback."""
    try:
        return load_data(data_root)
    except FileNotFoundError as error:
        missing = error.filename or error
        print(
            f"error: {missing}: {error.strerror or 'no such file'} (the data's relative "
            f"paths start at {data_root}; --data-root DIR reads them from DIR)",
            file=sys.stderr,
        )
        raise SystemExit(2) from None


def load_mnist(root="data", split="train", download=False):
    """MNIST: (N, 1, 28, 28) uint8 images and int64 labels."""
    return load_idx(*mnist_files(root, "MNIST", split, download))


def load_fashion_mnist(root="data", split="train", download=False):
    """Fashion-MNIST, like MNIST."""
    return load_idx(*mnist_files(root, "FashionMNIST", split, download))


def load_kmnist(root="data", split="train", download=False):
    """Kuzushiji-MNIST, like MNIST."""
    return load_idx(*mnist_files(root, "KMNIST", split, download))


def load_cifar10(root="data", split="train", download=False):
    """CIFAR-10 through torchvision: (N, 3, 32, 32) uint8 images and int64 labels."""
    from torchvision import datasets

    data = datasets.CIFAR10(root=str(root), train=split == "train", download=download)
    return cifar_tensors(data)


def cifar_tensors(data):
    """A torchvision CIFAR data set's (N, 32, 32, 3) images as (N, 3, 32, 32) uint8 and its
    labels as int64."""
    images = torch.from_numpy(np.ascontiguousarray(data.data)).permute(0, 3, 1, 2)
    return images.contiguous(), torch.as_tensor(data.targets, dtype=torch.int64)


def load_digits():
    """scikit-learn's 8x8 digits: (1797, 1, 8, 8) float32 in 0..16, int64 labels."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    inputs = torch.from_numpy(bunch.images.astype(np.float32)).unsqueeze(1)
    return inputs, torch.from_numpy(bunch.target.astype(np.int64))


def validation_count(size, fraction):
    """How many of ``size`` samples a split of ``fraction`` puts in validation (1 to size-1)."""
    return min(max(round(fraction * size), 1), size - 1)


def class_quotas(counts, n_val):
    """How many samples of each class go to validation: proportional, summing to ``n_val``."""
    exact = counts.double() * n_val / counts.sum()
    quota = exact.floor().long()
    short = n_val - int(quota.sum())
    if short > 0:  # largest remainders first; ties go to the lower class index
        quota[torch.argsort(quota.double() - exact, stable=True)[:short]] += 1
    return quota


def validation_mask(size, n_val, labels=None, seed=0, stratify=True):
    """A boolean mask of the ``n_val`` validation samples, drawn with ``seed``; with int64
    class labels and ``stratify`` every class is split in the same proportion. Vectorised."""
    shuffled = torch.randperm(size, generator=torch.Generator().manual_seed(int(seed)))
    in_val = torch.zeros(size, dtype=torch.bool)
    if (
        stratify
        and labels is not None
        and labels.dtype == torch.int64
        and labels.dim() == 1
    ):
        _, inverse, counts = torch.unique(
            labels, return_inverse=True, return_counts=True
        )
        quota = class_quotas(counts, n_val)
        # by class, in random order within each class
        grouped = shuffled[torch.argsort(inverse[shuffled], stable=True)]
        group = inverse[grouped]
        rank = torch.arange(size) - (torch.cumsum(counts, 0) - counts)[group]
        in_val[grouped[rank < quota[group]]] = True
    else:
        in_val[shuffled[:n_val]] = True
    return in_val


def split(data, fraction, seed=0, stratify=True):
    """Split (inputs, labels) into train and validation parts, stratified for classes."""
    inputs, labels = data
    n_val = validation_count(len(inputs), fraction)
    in_val = validation_mask(len(inputs), n_val, labels, seed, stratify)
    train, val = torch.nonzero(~in_val).squeeze(1), torch.nonzero(in_val).squeeze(1)
    return (inputs[train], labels[train]), (inputs[val], labels[val])
