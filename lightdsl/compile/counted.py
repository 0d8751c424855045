"""accuracy, mse and mae computed here, without importing torchmetrics.

``import torchmetrics`` costs every run about 100 MiB and a second or two of CPU (it imports
scipy.signal and matplotlib.pyplot whenever they are installed), and its ``update`` some 90-140
us per batch. These three metrics are sums of counts: each class below does exactly what the
torchmetrics class of the same name does (``MulticlassAccuracy``, ``BinaryAccuracy``,
``MultilabelAccuracy``, ``MeanSquaredError``, ``MeanAbsoluteError`` with lightdsl's arguments),
op for op, so that its values are the same to the bit; the states have torchmetrics' names,
shapes and dtypes, so that a checkpoint's metric states load into either. Under
torch.distributed, ``compute`` sums the states over the ranks as torchmetrics does (all_gather,
stack, sum over the ranks).
"""

from __future__ import annotations

import torch
import torch.distributed as dist


class CountedMetric:
    """A metric whose state is a few tensors summed over batches (and over ranks).

    An update adds the batch's :meth:`counts` to the states. A subclass whose states are
    integer counts that follow from fewer of them (micro accuracy: from the correct and the
    seen) returns those from :meth:`running`: an update then only adds them up, and reading
    :attr:`metric_state` turns the sums into states (:meth:`states`, linear in them) and adds
    those. Integers add exactly in any order, so the states are the same to the bit, from
    fewer tensor operations per step. (Float sums, mse's, are added batch by batch: their
    rounding depends on the order.)"""

    def __init__(self, defaults: dict[str, torch.Tensor]) -> None:
        self._zeros = defaults
        self.validated = False  # the inputs are checked at the first update only
        self.step_value = None  # set by the step that updates it (a LazyValue)
        self.reset()

    @property
    def metric_state(self) -> dict[str, torch.Tensor]:
        """The states, torchmetrics' names, shapes and dtypes, with every update added."""
        if self._pending is not None:
            states, self._pending = self.states(**self._pending), None
            self._state = {k: v + states[k] for k, v in self._state.items()}
        return self._state

    @metric_state.setter
    def metric_state(self, state: dict[str, torch.Tensor]) -> None:
        self._state, self._pending = state, None

    @property
    def device(self) -> torch.device:
        return next(iter(self._zeros.values())).device

    def to(self, device) -> CountedMetric:
        """Move the state (and the zeros it starts from) to ``device``."""
        self._zeros = {k: v.to(device) for k, v in self._zeros.items()}
        self.metric_state = {k: v.to(device) for k, v in self.metric_state.items()}
        return self

    def reset(self) -> None:
        self.metric_state = dict(self._zeros)  # updates replace the tensors, never change them

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch's counts (the inputs are validated the first time)."""
        if not self.validated:
            self.validate(preds, target)
            self.validated = True
        running = self.running(preds, target)
        if running is None:
            for name, value in self.counts(preds, target).items():
                self.metric_state[name] = self.metric_state[name] + value
            return
        pending = self._pending
        self._pending = running if pending is None else {
            name: pending[name] + value for name, value in running.items()}

    def compute(self) -> torch.Tensor:
        """The value over everything seen since the last reset, on every rank."""
        return _squeezed(self.reduce(**_summed_over_ranks(self.metric_state)))

    def batch_value(self, preds: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The value on this batch alone, never synced: what torchmetrics' ``forward`` gives."""
        counts = self.counts(preds, target)
        return _squeezed(self.reduce(**{k: zero + counts[k] for k, zero in self._zeros.items()}))

    def merge_state(self, incoming: dict) -> None:
        """Add saved states (a resumed epoch's) to this one, as torchmetrics merges them."""
        self.metric_state = {k: incoming[k] + v for k, v in self.metric_state.items()}

    def validate(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        """Raise ValueError if the inputs cannot be counted (as torchmetrics checks them)."""

    def counts(self, preds: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """One batch's states (what torchmetrics' update adds)."""
        raise NotImplementedError

    def running(self, preds: torch.Tensor, target: torch.Tensor) -> dict | None:
        """Integer counts the states follow from, where fewer than the states (None: add the
        states themselves)."""
        return None

    def states(self, **running) -> dict[str, torch.Tensor]:
        """The states that summed :meth:`running` counts come to (linear in them)."""
        raise NotImplementedError

    def reduce(self, **state: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


def _squeezed(value: torch.Tensor) -> torch.Tensor:
    """One number as a 0-d tensor, as torchmetrics returns it."""
    return value.squeeze() if value.numel() == 1 else value


def _summed_over_ranks(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each state summed over the ranks, as torchmetrics' sync does (gathered, stacked, summed
    over dim 0: the same float additions in the same order)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return state
    summed = {}
    for name, tensor in state.items():
        parts = [torch.zeros_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        summed[name] = torch.stack(parts).sum(dim=0)
    return summed


def _safe_divide(num: torch.Tensor, denom: torch.Tensor) -> torch.Tensor:
    """torchmetrics' ``_safe_divide``: floats, and 0 where the denominator is 0."""
    num = num if num.is_floating_point() else num.float()
    denom = denom if denom.is_floating_point() else denom.float()
    zero = torch.full((), 0.0, dtype=num.dtype, device=num.device)
    return torch.where(denom != 0, num / denom, zero)


def _probabilities(preds: torch.Tensor) -> torch.Tensor:
    """torchmetrics' ``normalize_logits_if_needed(preds, "sigmoid")``: scores outside [0, 1]
    are logits (on an accelerator without waiting for the device)."""
    if preds.device.type == "cpu":
        return preds if torch.all((preds >= 0) * (preds <= 1)) else preds.sigmoid()
    return torch.where(((preds < 0) | (preds > 1)).any(), preds.sigmoid(), preds)


def _bincount(x: torch.Tensor, minlength: int) -> torch.Tensor:
    """torchmetrics' ``_bincount``: torch.bincount has no deterministic CUDA kernel or MPS one."""
    if torch.are_deterministic_algorithms_enabled() or x.is_mps:
        mesh = torch.arange(minlength, device=x.device).repeat(len(x), 1)
        return torch.eq(x.reshape(-1, 1), mesh).sum(dim=0)
    return torch.bincount(x, minlength=minlength)


def _check_same_shape(preds: torch.Tensor, target: torch.Tensor) -> None:
    if preds.shape != target.shape:
        raise RuntimeError(f"Predictions and targets are expected to have the same shape, but "
                           f"got {preds.shape} and {target.shape}.")


class Accuracy(CountedMetric):
    """torchmetrics' Binary/Multiclass/MultilabelAccuracy (threshold 0.5, top_k 1, global)."""

    def __init__(self, task: str, num_classes: int | None = None, num_labels: int | None = None,
                 average: str = "micro") -> None:
        self.task, self.average = task, average
        self.classes = num_classes or num_labels or 1
        size = 1 if task == "binary" or (task == "multiclass" and average == "micro") \
            else self.classes
        super().__init__({k: torch.zeros(size, dtype=torch.long) for k in ("tp", "fp", "tn", "fn")})

    def validate(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        if self.task == "multiclass":
            if preds.ndim not in (target.ndim, target.ndim + 1):
                raise ValueError("Either `preds` and `target` both should have the (same) shape "
                                 "(N, ...), or `target` should be (N, ...) and `preds` should "
                                 "be (N, C, ...).")
            bad = (target < 0) | (target >= self.classes)
            allowed = f"[0, {self.classes})"
        else:
            _check_same_shape(preds, target)
            bad = (target != 0) & (target != 1)
            allowed = "{0, 1}"
        if bool(bad.any()):
            raise ValueError(f"Detected target values outside {allowed}: "
                             f"{sorted(set(target[bad].tolist()))[:10]}")

    def counts(self, preds, target):
        if self.task == "multiclass":
            return self._multiclass(preds, target)
        if preds.is_floating_point():
            preds = _probabilities(preds) > 0.5
        if self.task == "binary":
            preds, target, dims = preds.reshape(preds.shape[0], -1), \
                target.reshape(target.shape[0], -1), [0, 1]
        else:
            preds, target, dims = preds.reshape(*preds.shape[:2], -1), \
                target.reshape(*target.shape[:2], -1), [0, -1]
        return {"tp": ((target == preds) & (target == 1)).sum(dims).squeeze(),
                "fp": ((target != preds) & (target == 0)).sum(dims).squeeze(),
                "tn": ((target == preds) & (target == 0)).sum(dims).squeeze(),
                "fn": ((target != preds) & (target == 1)).sum(dims).squeeze()}

    def running(self, preds, target):
        if self.task == "multiclass" and self.average == "micro":
            return self._correct_and_seen(preds, target)  # 4 tensor ops a batch, not 15
        return None

    def _correct_and_seen(self, preds, target) -> dict:
        """How many predictions are right (a tensor, not read: no device sync) and made."""
        if preds.ndim == target.ndim + 1:
            preds = preds.argmax(dim=1)
        return {"correct": (preds.reshape(-1) == target.reshape(-1)).sum(), "seen": preds.numel()}

    def states(self, correct, seen) -> dict[str, torch.Tensor]:
        """torchmetrics' micro states: it counts (preds != target) as fp and as fn alike."""
        fp = fn = seen - correct
        return {"tp": correct, "fp": fp, "tn": self.classes * seen - (fp + fn + correct), "fn": fn}

    def _multiclass(self, preds, target):
        if self.average == "micro":
            return self.states(**self._correct_and_seen(preds, target))
        if preds.ndim == target.ndim + 1:
            preds = preds.argmax(dim=1)
        preds, target = preds.reshape(-1), target.reshape(-1)
        mapping = target.to(torch.long) * self.classes + preds.to(torch.long)
        matrix = _bincount(mapping, minlength=self.classes**2).reshape(self.classes, self.classes)
        tp = matrix.diag()
        fp, fn = matrix.sum(0) - tp, matrix.sum(1) - tp
        return {"tp": tp, "fp": fp, "tn": matrix.sum() - (fp + fn + tp), "fn": fn}

    def reduce(self, tp, fp, tn, fn):
        multilabel = self.task == "multilabel"
        if self.task == "binary":
            return _safe_divide(tp + tn, tp + tn + fp + fn)
        if self.average == "micro":
            tp, fn = tp.sum(dim=0), fn.sum(dim=0)
            if multilabel:
                fp, tn = fp.sum(dim=0), tn.sum(dim=0)
                return _safe_divide(tp + tn, tp + tn + fp + fn)
            return _safe_divide(tp, tp + fn)
        score = _safe_divide(tp + tn, tp + tn + fp + fn) if multilabel else _safe_divide(tp, tp + fn)
        weights = torch.ones_like(score)
        if not multilabel:
            weights[tp + fp + fn == 0] = 0.0  # macro: classes never seen nor predicted do not count
        return _safe_divide(weights * score, weights.sum(-1, keepdim=True)).sum(-1)


class MeanSquaredError(CountedMetric):
    """torchmetrics' MeanSquaredError (one output, squared)."""

    def __init__(self) -> None:
        super().__init__({"sum_squared_error": torch.zeros(1), "total": torch.tensor(0)})

    def counts(self, preds, target):
        _check_same_shape(preds, target)
        diff = preds.view(-1) - target.view(-1)
        return {"sum_squared_error": torch.sum(diff * diff, dim=0), "total": target.numel()}

    def reduce(self, sum_squared_error, total):
        return sum_squared_error / total


class MeanAbsoluteError(CountedMetric):
    """torchmetrics' MeanAbsoluteError (one output)."""

    def __init__(self) -> None:
        super().__init__({"sum_abs_error": torch.zeros(1), "total": torch.tensor(0)})

    def counts(self, preds, target):
        _check_same_shape(preds, target)
        return {"sum_abs_error": torch.sum(torch.abs(preds.view(-1) - target.view(-1)), dim=0),
                "total": target.numel()}

    def reduce(self, sum_abs_error, total):
        return sum_abs_error / total


# the vocabulary's metric name -> the class computing it here (the others use torchmetrics)
COUNTED = {"accuracy": Accuracy, "mse": MeanSquaredError, "mae": MeanAbsoluteError}
