"""The learning-rate range test."""

import torch


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
