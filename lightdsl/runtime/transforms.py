"""Transforms on whole tensors and random augmentations of training batches."""

import torch
import torch.nn.functional as F


def to_float(inputs):
    """uint8 images to float32 in [0, 1] (``x / 255``, as torchvision's ToTensor); floats as
    they are."""
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


def random_crop(batch, size, padding=0, generator=None):
    """A random ``size`` crop of each sample (last two dims) after zero ``padding``; one offset
    per sample, drawn on the batch's device (training batches only). Two gathers, no loop."""
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    if padding:
        batch = F.pad(batch, (padding, padding, padding, padding))
    b, big_h, big_w = batch.shape[0], batch.shape[-2], batch.shape[-1]
    x = batch.reshape(b, -1, big_h, big_w)
    top = torch.randint(big_h - h + 1, (b,), generator=generator, device=batch.device)
    left = torch.randint(big_w - w + 1, (b,), generator=generator, device=batch.device)
    rows = (top[:, None] + torch.arange(h, device=batch.device))[:, None, :, None]
    x = x.gather(2, rows.expand(b, x.shape[1], h, big_w))
    cols = (left[:, None] + torch.arange(w, device=batch.device))[:, None, None, :]
    x = x.gather(3, cols.expand(b, x.shape[1], h, w))
    return x.reshape(*batch.shape[:-2], h, w)


def random_flip(batch, p=0.5, generator=None):
    """Flip each sample left-right with probability ``p`` (training batches only)."""
    flip = torch.rand(batch.shape[0], generator=generator, device=batch.device) < p
    return torch.where(flip.view(-1, *[1] * (batch.dim() - 1)), batch.flip(-1), batch)
