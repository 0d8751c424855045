"""The learning-rate range test: its schedule, loss smoothing, divergence test and suggestion.

lightdsl's ``lr_find`` (:mod:`lightdsl.tuner.lr_find`, driven by its trainer) and the
``RangeTest`` a generated script carries compute each of these with the functions below.
"""

import torch


def range_lr(step, min_lr, max_lr, num_training, mode="exponential"):
    """The learning rate of optimizer step ``step`` (0-based), as Lightning's ``_ExponentialLR``
    / ``_LinearLR``: ``min_lr`` first, then ``r = (step + 1) / num_training`` of the way."""
    if step <= 0:
        return min_lr
    r = (step + 1) / num_training
    if mode == "linear":
        return min_lr + r * (max_lr - min_lr)
    return min_lr * (max_lr / min_lr) ** r


def smoothed_loss(average, loss, step, beta=0.98):
    """The running average after ``loss`` and its bias-corrected value after ``step`` steps."""
    average = beta * average + (1 - beta) * loss
    return average, average / (1 - beta ** (step + 1))


def divergence_check(smoothed, best, step, threshold):
    """Whether the smoothed loss diverged (above ``threshold`` times the best, after step 1;
    no test when ``threshold`` is None), and the best loss so far."""
    diverged = threshold is not None and step > 1 and smoothed > threshold * best
    return diverged, smoothed if smoothed < best or step == 1 else best


def steepest_index(lrs, losses, skip_begin=10, skip_end=1):
    """The index of the point where the smoothed loss falls fastest with respect to the lr
    (``torch.gradient``, float32, as Lightning 2.6), leaving out the first ``skip_begin`` and
    the last ``skip_end`` points and non-finite losses; None with fewer than 2 points left."""
    stop = len(losses) - skip_end
    values, rates = (
        torch.tensor(losses[skip_begin:stop]),
        torch.tensor(lrs[skip_begin:stop]),
    )
    finite = torch.isfinite(values)
    if int(finite.sum()) < 2:
        return None
    gradients = torch.gradient(values[finite], spacing=[rates[finite]])[0]
    kept = torch.arange(len(losses))[skip_begin:stop][finite]
    return int(kept[int(torch.argmin(gradients))])


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
        return range_lr(step, self.min_lr, self.max_lr, self.num_training, self.mode)

    def record(self, step, loss):
        """Record the loss after ``step`` steps; True when the loss diverged (stop)."""
        self.lrs.append(self.lr(step - 1))
        self.average, smoothed = smoothed_loss(self.average, float(loss.detach()), step)
        stop, self.best = divergence_check(smoothed, self.best, step, self.threshold)
        self.losses.append(smoothed)
        return stop or step >= self.num_training

    def suggestion(self):
        """The lr where the smoothed loss falls fastest (None if too few points)."""
        index = steepest_index(self.lrs, self.losses)
        return None if index is None else self.lrs[index]
