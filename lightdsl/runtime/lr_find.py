"""The learning-rate range test: its schedule, loss smoothing, divergence test and suggestion.

lightdsl's ``lr_find`` (:mod:`lightdsl.tuner.lr_find`, driven by its trainer) and the
``RangeTest`` a generated script carries compute each of these with the functions below.
"""

import bisect
import math

import torch

# The suggestion rules: Lightning's steepest slope (the default), fastai's valley and fastai's
# minimum/10. ``suggest`` is the one place that tells them apart.
SUGGESTIONS = ("steepest", "valley", "minimum/10")


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


def fastai_window(losses, num_training):
    """The points fastai's rules read, as ``range(begin, stop)``: the first ``num_training //
    10`` and the last 5 are left out, and the window ends at the first NaN loss."""
    begin, stop = num_training // 10, max(num_training // 10, len(losses) - 5)
    for index in range(begin, stop):
        if math.isnan(losses[index]):
            return range(begin, index)
    return range(begin, stop)


def valley_offset(losses):
    """fastai's valley rule on ``losses`` (a window): find the longest strictly falling run of
    points (a subsequence; the first longest wins), and take the point about 1/3 + 1/6 of the
    way along it (its start counted one point early, and -1 meaning the last point, as fastai
    does); None for an empty window. O(n log n), where fastai's loop is O(n^2)."""
    if not losses:
        return None
    # tails[k]: minus the highest last loss of a falling run k + 1 points long
    tails, lengths = [], []
    for loss in losses:
        # the longest run ending above this loss, plus this point
        position = bisect.bisect_left(tails, -loss)
        tails[position : position + 1] = [-loss]
        lengths.append(position + 1)
    end = lengths.index(max(lengths))
    start = end - lengths[end] if end > 0 else 0  # fastai starts from (0, 0)
    third = (end - start) / 3
    return (start + int(third) + int(third / 2)) % len(losses)


def suggest(rule, lrs, losses, num_training, skip_begin=10, skip_end=1):
    """``(lr, index, begin)``: the lr ``rule`` suggests, the index of the recorded point it
    sits at, and the first index the rule read; None when the rule finds too few points.

    "steepest" (Lightning's, the default) reads all but the first ``skip_begin`` and the last
    ``skip_end`` points; "valley" and "minimum/10" read fastai's window (:func:`fastai_window`).
    "minimum/10" is a tenth of the lr with the lowest loss; it sits at the recorded lr nearest
    to that (on a log scale)."""
    if rule == "steepest":
        index = steepest_index(lrs, losses, skip_begin, skip_end)
        return None if index is None else (lrs[index], index, skip_begin)
    window = fastai_window(losses, num_training)
    values = [losses[i] for i in window]
    if not values:
        return None
    if rule == "valley":
        index = window.start + valley_offset(values)
        return lrs[index], index, window.start
    lr = lrs[window.start + values.index(min(values))] / 10
    index = min(range(len(lrs)), key=lambda i: abs(math.log(lrs[i] / lr)))
    return lr, index, window.start


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
        suggestion="steepest",
    ):
        self.min_lr, self.max_lr, self.num_training = min_lr, max_lr, num_training
        self.rule = suggestion
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
        """The lr the suggestion rule picks (None if too few points)."""
        found = suggest(self.rule, self.lrs, self.losses, self.num_training)
        return None if found is None else found[0]
