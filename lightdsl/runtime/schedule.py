"""The training schedule: seeding, batching, devices and step counts.

lightdsl's trainer calls ``seed_everything``, ``shuffled_order``, ``slice_batches``,
``num_batches``, ``tensor_to``, ``limit_batches``, ``val_interval`` and ``optimizer_steps``
(:mod:`lightdsl.trainer.data`, ``setup``, ``devices``), after checking its arguments.
``auto_device`` is the script's short form of the trainer's ``resolve_device("auto")``, which
also explains a missing accelerator (a DeviceError) and names the device ``cuda:0``.
"""

import math
import random

import torch


def seed_everything(seed):
    """Seed Python's random and torch (as lightdsl's trainer does at the start of a run)."""
    random.seed(seed)
    torch.manual_seed(seed)


def shuffled_order(size, seed):
    """A permutation of ``size`` indices drawn with its own generator seeded with ``seed`` (the
    trainer and scripts use ``seed + epoch``: the order depends on nothing else)."""
    return torch.randperm(size, generator=torch.Generator().manual_seed(seed))


def slice_batches(tensors, order, batch_size, count):
    """Yield ``count`` batches of ``tensors``: slices (views, no copy) when ``order`` is None,
    else the rows ``order`` lists, ``batch_size`` at a time."""
    for start in range(0, count * batch_size, batch_size):
        stop = start + batch_size
        rows = slice(start, stop) if order is None else order[start:stop]
        yield tuple([t[rows] for t in tensors])  # a list: one call per batch, not a generator's


def batches(tensors, batch_size, shuffle=False, seed=0, drop_last=False):
    """Yield batches of in-memory tensors; shuffled with a generator seeded with ``seed``."""
    size = len(tensors[0])
    order = shuffled_order(size, seed).to(tensors[0].device) if shuffle else None
    return slice_batches(
        tensors, order, batch_size, num_batches(size, batch_size, drop_last)
    )


def num_batches(size, batch_size, drop_last=False):
    """How many batches ``size`` samples make."""
    full, rest = divmod(size, batch_size)
    return full if drop_last or not rest else full + 1


def tensor_to(tensor, device, float_dtype=None, non_blocking=False):
    """``tensor`` on ``device``; a floating-point one in ``float_dtype`` (the run's precision)
    when given, integer ones (labels) keep their dtype."""
    dtype = (
        float_dtype if float_dtype is not None and tensor.is_floating_point() else None
    )
    return tensor.to(device=device, dtype=dtype, non_blocking=non_blocking)


def to_device(tensors, device, dtype):
    """Tensors on the device; floating-point ones in ``dtype`` (the run's precision)."""
    return tuple(tensor_to(t, device, dtype) for t in tensors)


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
        return iter(shuffled_order(self.size, self.seed + self.epoch).tolist())


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


def auto_device():
    """The first of CUDA, Apple's MPS and the CPU that this machine has."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
