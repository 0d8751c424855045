"""lightdsl's metric values against sklearn and torchmetrics computed directly on the same
predictions: each epoch value is the whole set's value, not a mean of batch values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn import metrics as sk

import lightdsl
from lightdsl.trainer import Trainer

QUIET = {"logger": None, "enable_progress_bar": False, "enable_model_summary": False,
         "enable_checkpointing": False}


def _outputs(module, loader):
    """The model's outputs and the labels over a loader, batch by batch."""
    module.eval()
    with torch.no_grad():
        pairs = [(module(inputs), labels) for inputs, labels in loader]
    return pairs


def _evaluate(module):
    trainer = Trainer(accelerator="cpu", **QUIET)
    return trainer.evaluate(module, module.val_dataloader(), prefix="val")


def test_classification_metrics_equal_sklearn_on_the_whole_set(classifier_spec, monkeypatch):
    monkeypatch.chdir(classifier_spec.parent)
    module = lightdsl.load(str(classifier_spec)).module
    values = _evaluate(module)
    pairs = _outputs(module, module.val_dataloader())
    scores = torch.cat([o for o, _ in pairs]).softmax(-1).numpy()
    labels = torch.cat([y for _, y in pairs]).numpy()
    predicted = scores.argmax(1)
    assert len(pairs) > 1 and len(labels) % len(pairs[0][1])  # several, uneven batches
    assert values["val_accuracy"] == pytest.approx(sk.accuracy_score(labels, predicted))
    assert values["val_f1"] == pytest.approx(
        sk.f1_score(labels, predicted, average="macro", zero_division=0))
    assert values["val_precision"] == pytest.approx(
        sk.precision_score(labels, predicted, average="macro", zero_division=0))
    assert values["val_recall"] == pytest.approx(
        sk.recall_score(labels, predicted, average="micro", zero_division=0))
    assert values["val_auroc"] == pytest.approx(
        sk.roc_auc_score(labels, scores, multi_class="ovr", average="macro"), abs=1e-6)
    np.testing.assert_array_equal(values.matrices["val_confusion_matrix"].numpy(),
                                  sk.confusion_matrix(labels, predicted, labels=[0, 1, 2]))
    # the mean of the batches' macro F1 is another number: the epoch value is not that
    batch_f1 = [sk.f1_score(y.numpy(), o.argmax(1).numpy(), average="macro", zero_division=0,
                            labels=[0, 1, 2]) for o, y in pairs]
    assert abs(np.mean(batch_f1) - values["val_f1"]) > 1e-3


def test_training_epoch_values_cover_the_whole_epoch(classifier_spec, monkeypatch):
    """train_f1_epoch is the F1 of every training prediction of the epoch (a learning rate of
    1e-12 keeps the predictions after training those seen during it)."""
    monkeypatch.chdir(classifier_spec.parent)
    text = classifier_spec.read_text(encoding="utf-8")
    classifier_spec.write_text(text.replace("max_epochs = 1", "max_epochs = 1\n"
                                            "    optimizer = sgd(lr = 1e-12)"), encoding="utf-8")
    experiment = lightdsl.load(str(classifier_spec))
    result = experiment.fit(**QUIET)
    module = experiment.module
    pairs = _outputs(module, module.train_dataloader())
    labels = torch.cat([y for _, y in pairs]).numpy()
    predicted = torch.cat([o for o, _ in pairs]).argmax(1).numpy()
    assert result.last_metrics["train_f1_epoch"] == pytest.approx(
        sk.f1_score(labels, predicted, average="macro", zero_division=0))
    assert result.last_metrics["train_accuracy_epoch"] == pytest.approx(
        sk.accuracy_score(labels, predicted))


def test_regression_metrics_equal_sklearn(regressor_spec, monkeypatch):
    monkeypatch.chdir(regressor_spec.parent)
    module = lightdsl.load(str(regressor_spec)).module
    values = _evaluate(module)
    pairs = _outputs(module, module.val_dataloader())
    output = torch.cat([o for o, _ in pairs]).numpy().ravel()
    target = torch.cat([y for _, y in pairs]).numpy().ravel()
    assert values["val_mae"] == pytest.approx(sk.mean_absolute_error(target, output), rel=1e-5)
    assert values["val_mse"] == pytest.approx(sk.mean_squared_error(target, output), rel=1e-5)
    assert values["val_r2"] == pytest.approx(sk.r2_score(target, output), rel=1e-5)
    batch_r2 = np.mean([sk.r2_score(y.numpy().ravel(), o.numpy().ravel()) for o, y in pairs])
    assert abs(batch_r2 - values["val_r2"]) > 1e-3


@pytest.mark.parametrize("loss, sigmoid", [("bce_with_logits", True), ("bce", False)])
def test_binary_metrics_match_torchmetrics_functional(loss, sigmoid):
    """Binary: a (N, 1) output and 0/1 labels; logits go through a sigmoid first."""
    from torchmetrics.functional.classification import binary_auroc, binary_f1_score

    from lightdsl.runtime.metrics import metric_inputs

    torch.manual_seed(0)
    raw = torch.randn(20, 1)
    output = raw if sigmoid else torch.sigmoid(raw)
    labels = torch.randint(0, 2, (20, 1)).float()
    preds, target = metric_inputs(output, labels, "binary", sigmoid)
    probabilities = torch.sigmoid(raw).ravel()
    assert torch.allclose(preds, probabilities)
    assert binary_f1_score(preds, target) == binary_f1_score(probabilities, target.long())
    expected = sk.roc_auc_score(labels.ravel().numpy(), raw.ravel().numpy())
    assert float(binary_auroc(preds, target)) == pytest.approx(expected, abs=1e-6)
