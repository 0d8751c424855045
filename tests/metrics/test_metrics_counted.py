"""accuracy, mse and mae computed by lightdsl (compile/counted.py) equal torchmetrics to the bit:
states, epoch values and batch values, on uneven batches and synced over ranks; training logs
each metric's batch value at the logging steps only, and it is the batch's own value."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import torch
import torchmetrics
from sklearn import metrics as sk

import lightdsl
from lightdsl.compile import counted
from lightdsl.runtime.metrics import metric_inputs
from tests.helpers.runner import run_python

HERE = Path(__file__).parent
SIZES = (7, 7, 7, 3)  # uneven: the last batch is short


def _pairs(kind: str, seed: int = 0, sizes=SIZES):
    """(preds, target) batches as metric_inputs makes them for ``kind``."""
    g = torch.Generator().manual_seed(seed)
    for n in sizes:
        if kind == "multiclass":
            out, y = torch.randn(n, 4, generator=g), torch.randint(0, 4, (n,), generator=g)
            yield metric_inputs(out, y, "multiclass")
        elif kind == "sequence":  # (N, T, C) scores, (N, T) labels
            out, y = torch.randn(n, 5, 4, generator=g), torch.randint(0, 4, (n, 5), generator=g)
            yield metric_inputs(out, y, "multiclass")
        elif kind == "binary":
            out, y = torch.randn(n, 1, generator=g), torch.randint(0, 2, (n, 1), generator=g)
            yield metric_inputs(out, y.float(), "binary", sigmoid=True)
        elif kind == "multilabel":
            out, y = torch.randn(n, 3, generator=g), torch.randint(0, 2, (n, 3), generator=g)
            yield metric_inputs(out, y.float(), "multilabel", sigmoid=False)  # logits: normalized
        else:
            out, y = torch.randn(n, 1, generator=g), torch.randn(n, 1, generator=g)
            yield metric_inputs(out, y)


CASES = [
    ("multiclass", {"task": "multiclass", "num_classes": 4, "average": "micro"}),
    ("multiclass", {"task": "multiclass", "num_classes": 4, "average": "macro"}),
    ("sequence", {"task": "multiclass", "num_classes": 4, "average": "micro"}),
    ("sequence", {"task": "multiclass", "num_classes": 4, "average": "macro"}),
    ("binary", {"task": "binary"}),
    ("multilabel", {"task": "multilabel", "num_labels": 3, "average": "micro"}),
    ("multilabel", {"task": "multilabel", "num_labels": 3, "average": "macro"}),
]


def _both(name: str, kwargs: dict):
    ours = counted.COUNTED[name](**kwargs)
    theirs = {"accuracy": torchmetrics.Accuracy, "mse": torchmetrics.MeanSquaredError,
              "mae": torchmetrics.MeanAbsoluteError}[name](**kwargs)
    return ours, theirs


def _assert_same(ours, theirs, kind):
    for preds, target in _pairs(kind):
        batch = theirs(preds, target)  # forward: the per-step value torchmetrics gives
        assert torch.equal(ours.batch_value(preds, target), batch)
        ours.update(preds, target)
    assert ours.metric_state.keys() == theirs.metric_state.keys()
    for key, value in theirs.metric_state.items():
        assert ours.metric_state[key].dtype == value.dtype
        assert torch.equal(ours.metric_state[key], value), key
    assert torch.equal(ours.compute(), theirs.compute())


@pytest.mark.parametrize(("kind", "kwargs"), CASES)
def test_accuracy_equals_torchmetrics_on_uneven_batches(kind, kwargs):
    _assert_same(*_both("accuracy", kwargs), kind)


@pytest.mark.parametrize("name", ["mse", "mae"])
def test_regression_metrics_equal_torchmetrics_on_uneven_batches(name):
    _assert_same(*_both(name, {}), "regression")


def test_macro_accuracy_leaves_out_classes_never_seen_nor_predicted():
    ours, theirs = _both("accuracy", {"task": "multiclass", "num_classes": 5, "average": "macro"})
    preds = torch.tensor([[0.9, 0.1, 0, 0, 0], [0.2, 0.8, 0, 0, 0], [0.6, 0.4, 0, 0, 0]])
    target = torch.tensor([0, 1, 1])
    ours.update(preds, target)
    theirs.update(preds, target)
    assert torch.equal(ours.compute(), theirs.compute())
    assert ours.compute().item() == pytest.approx(0.75)  # classes 0 (1/1) and 1 (1/2) only


@pytest.mark.parametrize("average", ["micro", "macro"])
def test_states_read_between_updates_equal_torchmetrics_at_every_batch(average):
    """Micro accuracy adds up only the correct and the seen, and makes the states when they
    are read: read after every batch (as a mid-epoch checkpoint reads them), they are
    torchmetrics' states at that batch."""
    kind = "sequence" if average == "micro" else "multiclass"
    ours, theirs = _both("accuracy", {"task": "multiclass", "num_classes": 4,
                                      "average": average})
    for preds, target in _pairs(kind, seed=3, sizes=(5, 1, 9, 2)):
        ours.update(preds, target)
        theirs.update(preds, target)
        for key, value in theirs.metric_state.items():
            assert ours.metric_state[key].dtype == value.dtype
            assert torch.equal(ours.metric_state[key], value), key


def test_a_micro_accuracy_update_makes_four_tensor_operations():
    """argmax, ==, sum and one addition: what the per-step cost of metrics = [accuracy] is."""
    from torch.utils._python_dispatch import TorchDispatchMode

    ops = []

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.__name__ not in ("view.default", "_unsafe_view.default", "detach.default"):
                ops.append(func.__name__)
            return func(*args, **(kwargs or {}))

    metric = counted.Accuracy("multiclass", num_classes=4)
    batches = list(_pairs("multiclass"))
    metric.update(*batches[0])  # the first update also validates the inputs
    with Count():
        metric.update(*batches[1])
    assert sorted(ops) == ["add.Tensor", "argmax.default", "eq.Tensor", "sum.default"]


@pytest.mark.parametrize("average", ["micro", "macro"])
def test_reset_merge_and_a_torchmetrics_checkpoint_state(average):
    """A resumed epoch's saved states (torchmetrics' names) merge into the counted metric."""
    kwargs = {"task": "multiclass", "num_classes": 4, "average": average}
    ours, theirs = _both("accuracy", kwargs)
    batches = list(_pairs("multiclass"))
    for preds, target in batches[:2]:
        theirs.update(preds, target)
    saved = {k: v.clone() for k, v in theirs.metric_state.items()}
    for preds, target in batches[2:]:
        theirs.update(preds, target)
        ours.update(preds, target)
    ours.merge_state(saved)
    assert torch.equal(ours.compute(), theirs.compute())
    ours.reset()
    assert all(int(v.sum()) == 0 for v in ours.metric_state.values())


def test_bad_targets_are_caught_at_the_first_update():
    metric = counted.Accuracy("multiclass", num_classes=3)
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        metric.update(torch.rand(2, 3), torch.tensor([0, 3]))
    with pytest.raises(RuntimeError, match="same shape"):
        counted.MeanSquaredError().update(torch.zeros(3), torch.zeros(2))


@pytest.mark.slow
def test_counted_metrics_sync_over_ranks_as_torchmetrics_does(tmp_path):
    """Three gloo ranks, each with its own uneven batches: the synced values equal
    torchmetrics' to the bit (float sums included)."""
    done = run_python(str(HERE / "counted_ddp_script.py"), "3", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ok").read_text() == "3"


# ---------------------------------------------------------------------- logged step values

def _logged(spec: Path, monkeypatch, every: int, extra: str = ""):
    """Train ``spec`` with a CSV log every ``every`` steps, recording what each training step
    gave the metrics; the logged rows and the recorded (output, labels) per step."""
    from lightdsl.compile.metrics import SpecMetrics

    monkeypatch.chdir(spec.parent)
    seen, update = [], SpecMetrics.update

    def recording(self, stage, output, labels, batch_idx):
        if stage == "train":
            seen.append((output.detach().clone(), labels.clone()))
        return update(self, stage, output, labels, batch_idx)

    monkeypatch.setattr(SpecMetrics, "update", recording)
    spec.write_text(spec.read_text().replace("max_epochs = 1", f"max_epochs = 2{extra}"))
    lightdsl.load(str(spec)).fit(logger="csv", log_every_n_steps=every, enable_progress_bar=False,
                                 enable_model_summary=False, enable_checkpointing=False,
                                 default_root_dir=str(spec.parent / "logs"))
    rows = list(csv.DictReader(next((spec.parent / "logs").rglob("metrics.csv")).open()))
    return [r for r in rows if r.get("train_accuracy_step") or r.get("train_mse_step")], seen


def test_logged_step_values_are_each_logging_batchs_own_values(classifier_spec, monkeypatch):
    rows, seen = _logged(classifier_spec, monkeypatch, every=2)
    batches = len(seen)
    assert batches == 2 * 4 and [int(r["step"]) for r in rows] == [1, 3, 5, 7]
    for row in rows:
        output, labels = seen[int(row["step"])]  # logged at step global_step - 1: that batch
        predicted = output.softmax(-1).argmax(-1)
        assert float(row["train_accuracy_step"]) == (predicted == labels).float().mean().item()
        assert float(row["train_f1_step"]) == pytest.approx(sk.f1_score(
            labels.numpy(), predicted.numpy(), average="macro", zero_division=0), abs=1e-6)
        assert float(row["train_recall_step"]) == pytest.approx(
            sk.recall_score(labels.numpy(), predicted.numpy(), average="micro"), abs=1e-6)
        assert "train_confusion_matrix_step" not in row  # a matrix is not logged per step


def test_logged_regression_step_values(regressor_spec, monkeypatch):
    rows, seen = _logged(regressor_spec, monkeypatch, every=3)
    assert [int(r["step"]) for r in rows] == [2, 5]  # 2 epochs x 4 batches (6, 6, 6, 2)
    for row in rows:
        output, target = seen[int(row["step"])]
        diff = output.view(-1) - target.view(-1)
        assert float(row["train_mse_step"]) == (torch.sum(diff * diff) / diff.numel()).item()
        assert float(row["train_mae_step"]) == (diff.abs().sum() / diff.numel()).item()
        assert float(row["train_r2_step"]) == pytest.approx(
            sk.r2_score(target.numpy().ravel(), output.numpy().ravel()), abs=1e-5)


def test_training_with_accuracy_only_never_imports_torchmetrics(classifier_spec):
    """accuracy, mse and mae need no torchmetrics (about 100 MiB and a second of start-up)."""
    text = classifier_spec.read_text()
    start = text.index("metrics = [")
    classifier_spec.write_text(text[:start] + "metrics = [accuracy]\n" +
                               text[text.index("max_epochs"):])
    code = ("import sys, lightdsl; lightdsl.load(sys.argv[1]).fit(logger=None, "
            "enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False, "
            "default_root_dir=sys.argv[2]); print('torchmetrics' in sys.modules)")
    done = run_python("-c", code, str(classifier_spec), str(classifier_spec.parent),
                      cwd=classifier_spec.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
