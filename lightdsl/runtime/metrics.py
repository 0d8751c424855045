"""What a torchmetrics metric is given: the model's output and the labels in the form its task
wants (the builder and generated scripts both call :func:`metric_inputs`)."""

import numpy as np
import torch


def metric_inputs(output, labels, task=None, sigmoid=False):
    """``(preds, target)`` for a torchmetrics metric of ``task`` (None: a regression metric).

    Multiclass: class probabilities ``(N, C)`` (softmax of the scores) and class indices
    ``(N,)`` (one-hot labels become indices). Binary and multilabel: probabilities (``sigmoid`` turns logits into them, so that
    torchmetrics never guesses per batch) and 0/1 integer targets of the same shape. Regression:
    float outputs and targets of the output's dtype. Preds are float32 (autocast may give bf16).
    """
    preds = output.detach().float()
    if task is None:
        return preds, labels.to(preds.dtype)
    if task == "multiclass":
        if labels.is_floating_point() and labels.dim() == preds.dim():
            labels = labels.argmax(dim=-1)
        # probabilities (from logits or log-probabilities alike): torchmetrics would decide
        # per batch whether the scores are logits; the predicted class does not change
        # a sequence's scores (N, T, C) go class-first (N, C, T), as torchmetrics wants them
        preds = preds.softmax(dim=-1)
        return (preds.movedim(-1, 1) if preds.dim() > 2 else preds), labels.long()
    if sigmoid:
        preds = torch.sigmoid(preds)
    if task == "binary":
        return preds.reshape(-1), labels.reshape(-1).long()
    return preds, labels.reshape(preds.shape).long()


def top_confused(matrix, limit=20):
    """The classes a picture or table of a confusion matrix shows, in class order: all of them
    up to ``limit``, else the ``limit`` most involved in mistakes (the counts off the diagonal
    in their row and column; ties: the one with more samples, then the lower class)."""
    counts = np.asarray(matrix, dtype=np.float64)
    if len(counts) <= limit:
        return np.arange(len(counts))
    samples = counts.sum(axis=1)
    mistakes = counts.sum(axis=0) + samples - 2 * np.diagonal(counts)
    return np.sort(np.lexsort((np.arange(len(counts)), -samples, -mistakes))[:limit])


def matrix_image(matrix, limit=64):
    """An ``(H, W, 3)`` uint8 picture of a 2-D count matrix (rows: true class, columns:
    predicted class), drawn with numpy: one 24-pixel square per cell, shaded from white (0) to
    dark blue (the row's largest count, so that rare classes show as clearly as common ones),
    with a grey grid. Above ``limit`` classes only the ``limit`` most confused are drawn (see
    :func:`top_confused`): the picture never grows with the square of the class count."""
    cell, grid = 24, np.array([160.0, 160.0, 160.0])
    low, high = np.array([255.0, 255.0, 255.0]), np.array([8.0, 48.0, 107.0])
    counts = np.asarray(matrix, dtype=np.float64)
    if counts.ndim != 2:
        raise ValueError(f"matrix_image needs a 2-D matrix, not {counts.shape}")
    shown = top_confused(counts, limit)
    counts = counts[np.ix_(shown, shown)]
    peak = counts.max(axis=1, keepdims=True)
    share = np.divide(counts, peak, out=np.zeros_like(counts), where=peak > 0)
    colors = low + share[..., None] * (high - low)  # (rows, cols, 3)
    rows, cols = counts.shape
    image = np.empty((rows * cell + 1, cols * cell + 1, 3))
    image[:] = grid
    image[:-1, :-1] = np.repeat(np.repeat(colors, cell, axis=0), cell, axis=1)
    image[::cell, :] = grid
    image[:, ::cell] = grid
    return image.round().astype(np.uint8)


def metric_task(output, binary_loss=False):
    """``(task, num_classes)`` of classification metrics from the model's output, where the
    spec's data did not let ``lightdsl check`` infer them (its rule, for a known shape): one
    score per sample is binary; several are multiclass, or multilabel under a binary loss."""
    width = (
        output.shape[-1] if output.dim() >= 2 else 1
    )  # classes last, also per time step
    if width == 1:
        return "binary", None
    return ("multilabel" if binary_loss else "multiclass"), width
