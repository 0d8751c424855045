"""Helpers that generated scripts carry with them: plain torch/numpy, no lightdsl.

The code generator never imports this module (it would import torch): it reads the text, and
copies the functions and classes a script needs, with the imports they use, into the script.
Names follow the vocabulary: an entry whose target is ``lightdsl.<...>.load_npz`` is printed as
a call of ``load_npz`` here. Each function reproduces what lightdsl does, number for number.
"""

import csv
import gzip
import math
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def seed_everything(seed):
    """Seed Python's random and torch (as lightdsl's trainer does at the start of a run)."""
    random.seed(seed)
    torch.manual_seed(seed)


def batches(tensors, batch_size, shuffle=False, seed=0, drop_last=False):
    """Yield batches of in-memory tensors; shuffled with a generator seeded with ``seed``."""
    size = len(tensors[0])
    count = num_batches(size, batch_size, drop_last)
    order = None
    if shuffle:
        generator = torch.Generator().manual_seed(seed)
        order = torch.randperm(size, generator=generator).to(tensors[0].device)
    for start in range(0, count * batch_size, batch_size):
        if order is None:
            yield tuple(t[start : start + batch_size] for t in tensors)
        else:
            index = order[start : start + batch_size]
            yield tuple(t[index] for t in tensors)


def num_batches(size, batch_size, drop_last=False):
    """How many batches ``size`` samples make."""
    full, rest = divmod(size, batch_size)
    return full if drop_last or not rest else full + 1


def to_device(tensors, device, dtype):
    """Tensors on the device; floating-point ones in ``dtype`` (the run's precision)."""
    return tuple(
        t.to(device, dtype) if t.is_floating_point() else t.to(device) for t in tensors
    )


def limit_batches(limit, count):
    """How many of ``count`` batches a limit allows: an int is a count, a float a fraction."""
    if isinstance(limit, int):
        return min(limit, count)
    return int(count * limit)


def val_interval(interval, train_batches):
    """Validate every this many training batches (an int, or a fraction of the epoch)."""
    if isinstance(interval, int):
        return interval
    return max(1, int(train_batches * interval))


def optimizer_steps(train_batches, max_epochs, accumulate=1, max_steps=-1):
    """How many optimizer steps a run makes (Lightning's estimated_stepping_batches)."""
    if max_epochs == -1:
        return max_steps
    steps = math.ceil(train_batches / accumulate) * max(max_epochs, 1)
    return steps if max_steps == -1 else min(steps, max_steps)


class SeededSampler(torch.utils.data.Sampler):
    """Sample indices in a new order each epoch, drawn with ``seed + epoch``."""

    def __init__(self, size, seed):
        self.size, self.seed, self.epoch = size, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return self.size

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())


class EarlyStopping:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``."""

    def __init__(self, monitor="val_loss", patience=3, mode="min", min_delta=0.0):
        self.monitor, self.patience, self.mode = monitor, patience, mode
        self.min_delta, self.best, self.wait = min_delta, None, 0

    def should_stop(self, metrics):
        value = metrics.get(self.monitor)
        if value is None:
            return False
        if math.isnan(value):
            better = False
        elif self.best is None:
            better = True
        elif self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best, self.wait = value, 0
            return False
        self.wait += 1
        return self.wait >= self.patience or not math.isfinite(value)


class ModelCheckpoint:
    """Save the weights as last.pt, and as best.pt when ``monitor`` improves."""

    def __init__(self, monitor=None, mode="min", save_top_k=1, save_last=True):
        self.monitor, self.mode, self.save_last = monitor, mode, save_last
        self.save_best, self.best = save_top_k != 0, None
        self.directory = Path("checkpoints")

    def save(self, model, metrics):
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.save_last:
            torch.save(model.state_dict(), self.directory / "last.pt")
        value = metrics.get(self.monitor) if self.monitor else None
        if value is None or not self.save_best:
            return
        if self.best is not None:
            improved = value < self.best if self.mode == "min" else value > self.best
            if not improved:
                return
        self.best = value
        torch.save(model.state_dict(), self.directory / "best.pt")


def as_inputs(array):
    """Inputs as a float32 tensor (uint8 images stay uint8 until normalized)."""
    tensor = torch.as_tensor(np.asarray(array))
    return tensor if tensor.dtype == torch.uint8 else tensor.to(torch.float32)


def as_labels(array):
    """Labels: int64 class indices, float32 targets; strings become sorted class indices."""
    array = np.asarray(array)
    if array.dtype.kind in "US":
        _, index = np.unique(array, return_inverse=True)
        return torch.from_numpy(index.reshape(array.shape).astype(np.int64))
    tensor = torch.as_tensor(array)
    return tensor.to(torch.float32 if tensor.is_floating_point() else torch.int64)


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


def load_idx(images, labels):
    """IDX images (N, H, W) as (N, 1, H, W) and their labels as int64."""
    inputs = torch.from_numpy(read_idx(images).copy())
    if inputs.dim() == 3:
        inputs = inputs.unsqueeze(1)
    inputs = inputs if inputs.dtype == torch.uint8 else inputs.to(torch.float32)
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
    return found


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
    images = torch.from_numpy(np.ascontiguousarray(data.data)).permute(0, 3, 1, 2)
    return images.contiguous(), torch.as_tensor(data.targets, dtype=torch.int64)


def load_digits():
    """scikit-learn's 8x8 digits: (1797, 1, 8, 8) float32 in 0..16, int64 labels."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    inputs = torch.from_numpy(bunch.images.astype(np.float32)).unsqueeze(1)
    return inputs, torch.from_numpy(bunch.target.astype(np.int64))


def split(data, fraction, seed=0, stratify=True):
    """Split (inputs, labels) into train and validation parts, stratified for classes."""
    inputs, labels = data
    size = len(inputs)
    n_val = min(max(round(fraction * size), 1), size - 1)
    generator = torch.Generator().manual_seed(int(seed))
    shuffled = torch.randperm(size, generator=generator)
    in_val = torch.zeros(size, dtype=torch.bool)
    if stratify and labels.dtype == torch.int64 and labels.dim() == 1:
        unique = torch.unique(labels, return_inverse=True, return_counts=True)
        inverse, counts = unique[1], unique[2]
        exact = counts.double() * n_val / counts.sum()
        quota = exact.floor().long()
        short = n_val - int(quota.sum())
        if short > 0:
            quota[torch.argsort(quota.double() - exact, stable=True)[:short]] += 1
        grouped = shuffled[torch.argsort(inverse[shuffled], stable=True)]
        group = inverse[grouped]
        rank = torch.arange(size) - (torch.cumsum(counts, 0) - counts)[group]
        in_val[grouped[rank < quota[group]]] = True
    else:
        in_val[shuffled[:n_val]] = True
    train, val = torch.nonzero(~in_val).squeeze(1), torch.nonzero(in_val).squeeze(1)
    return (inputs[train], labels[train]), (inputs[val], labels[val])


def to_float(inputs):
    """uint8 images to float32 in [0, 1]; floats as they are."""
    return inputs.to(torch.float32).div_(255) if inputs.dtype == torch.uint8 else inputs


def normalize_stats(inputs):
    """Mean and std of the inputs: per channel (dim 1) for images, else one number."""
    x = to_float(inputs)
    if x.dim() >= 3:
        std, mean = torch.std_mean(x, dim=[0, *range(2, x.dim())], correction=0)
        return mean.tolist(), torch.where(std > 0, std, torch.ones_like(std)).tolist()
    std, mean = torch.std_mean(x, correction=0)
    return float(mean), float(std) if std > 0 else 1.0


def normalize(inputs, mean, std):
    """(x - mean) / std, one number or one per channel (dim 1)."""
    x = to_float(inputs)
    shape = (1, -1, *[1] * (x.dim() - 2))
    m = torch.as_tensor(mean, dtype=torch.float32)
    s = torch.as_tensor(std, dtype=torch.float32)
    m = m.reshape(()) if m.numel() == 1 else m.reshape(shape)
    s = s.reshape(()) if s.numel() == 1 else s.reshape(shape)
    out = x.clone() if x is inputs else x
    return out.sub_(m).div_(s)


def standardize_stats(inputs):
    """Per-feature mean and std over the samples (a constant feature gets std 1)."""
    std, mean = torch.std_mean(to_float(inputs), dim=0, correction=0)
    return mean.tolist(), torch.where(std > 0, std, torch.ones_like(std)).tolist()


def standardize(inputs, mean, std):
    """Each feature to mean 0 and std 1."""
    m = torch.as_tensor(mean, dtype=torch.float32)
    return (to_float(inputs) - m) / torch.as_tensor(std, dtype=torch.float32)


def flatten(inputs):
    """Each sample to one dimension."""
    return inputs.reshape(len(inputs), -1)


def one_hot(labels, num_classes):
    """Class indices to float32 one-hot rows."""
    return F.one_hot(labels, num_classes).to(torch.float32)


def random_crop(batch, size, padding=0):
    """A random ``size`` crop of each sample after zero padding (training batches only)."""
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    if padding:
        batch = F.pad(batch, (padding, padding, padding, padding))
    b, big_h, big_w = batch.shape[0], batch.shape[-2], batch.shape[-1]
    x = batch.reshape(b, -1, big_h, big_w)
    top = torch.randint(big_h - h + 1, (b,), device=batch.device)
    left = torch.randint(big_w - w + 1, (b,), device=batch.device)
    rows = (top[:, None] + torch.arange(h, device=batch.device))[:, None, :, None]
    x = x.gather(2, rows.expand(b, x.shape[1], h, big_w))
    cols = (left[:, None] + torch.arange(w, device=batch.device))[:, None, None, :]
    x = x.gather(3, cols.expand(b, x.shape[1], h, w))
    return x.reshape(*batch.shape[:-2], h, w)


def random_flip(batch, p=0.5):
    """Flip each sample left-right with probability ``p`` (training batches only)."""
    flip = torch.rand(batch.shape[0], device=batch.device) < p
    return torch.where(flip.view(-1, *[1] * (batch.dim() - 1)), batch.flip(-1), batch)


def auto_device():
    """The first of CUDA, Apple's MPS and the CPU that this machine has."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def data_loader(data, batch_size, shuffle=False, seed=0, drop_last=False):
    """A DataLoader over in-memory tensors; shuffled with ``seed + epoch`` each epoch.

    Its own generator: a DataLoader draws a base seed for each pass, from torch's global random
    state unless it has one, which would change dropout's masks (lightdsl's loader draws none).
    """
    dataset = torch.utils.data.TensorDataset(*data)
    sampler = SeededSampler(len(dataset), seed) if shuffle else None
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=drop_last,
        generator=torch.Generator(),
    )


class RangeTest:
    """The learning-rate range test of lightdsl's (and Lightning's) lr_find: step k trains
    with lr(k), from min_lr to max_lr; the loss after each step is smoothed (beta 0.98)."""

    def __init__(
        self,
        min_lr=1e-8,
        max_lr=1.0,
        num_training=100,
        mode="exponential",
        early_stop_threshold=4.0,
    ):
        self.min_lr, self.max_lr, self.num_training = min_lr, max_lr, num_training
        self.mode, self.threshold = mode, early_stop_threshold
        self.lrs, self.losses, self.average, self.best = [], [], 0.0, 0.0

    def lr(self, step):
        """The learning rate of optimizer step ``step`` (0-based)."""
        if step == 0:
            return self.min_lr
        r = (step + 1) / self.num_training
        if self.mode == "linear":
            return self.min_lr + r * (self.max_lr - self.min_lr)
        return self.min_lr * (self.max_lr / self.min_lr) ** r

    def record(self, step, loss):
        """Record the loss after ``step`` steps; True when the loss diverged (stop)."""
        self.lrs.append(self.lr(step - 1))
        beta = 0.98
        self.average = beta * self.average + (1 - beta) * float(loss.detach())
        smoothed = self.average / (1 - beta ** (step + 1))
        stop = self.threshold is not None and step > 1
        stop = stop and smoothed > self.threshold * self.best
        if smoothed < self.best or step == 1:
            self.best = smoothed
        self.losses.append(smoothed)
        return stop or step >= self.num_training

    def suggestion(self):
        """The lr where the smoothed loss falls fastest (None if too few points)."""
        losses, lrs = torch.tensor(self.losses[10:-1]), torch.tensor(self.lrs[10:-1])
        finite = torch.isfinite(losses)
        if int(finite.sum()) < 2:
            return None
        gradients = torch.gradient(losses[finite], spacing=[lrs[finite]])[0]
        kept = torch.arange(len(self.losses))[10:-1][finite]
        return self.lrs[int(kept[int(torch.argmin(gradients))])]
