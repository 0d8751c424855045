"""``predict``: a trained model's outputs for new inputs, as a CSV table or an .npz archive.

Classifiers (cross-entropy or NLL loss) give the predicted class, by name when the training
labels were names, and one probability column per class; other models give their raw outputs.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lightdsl.errors import DataError, UsageError
from lightdsl.outputs import prepare_file, writing
from lightdsl.vocab.metrics import loss_outputs

from .inputs import read_inputs

BATCH = 1024
OUTPUT_TYPES = (".csv", ".npz")


@dataclass
class Predictions:
    """Model outputs for ``len(outputs)`` samples; for classifiers, classes and probabilities."""

    outputs: torch.Tensor
    labels: list | None = None  # predicted class per sample (name, or index)
    probabilities: torch.Tensor | None = None
    class_names: list[str] | None = None

    def columns(self) -> dict[str, list]:
        """The table: one column per name, one row per sample."""
        if self.labels is not None:
            table = {"prediction": self.labels}
            for j, name in enumerate(self.class_names):
                table[f"prob_{name}"] = self.probabilities[:, j].tolist()
            return table
        flat = self.outputs.reshape(len(self.outputs), -1)
        if flat.shape[1] == 1:
            return {"prediction": flat[:, 0].tolist()}
        return {f"output_{j}": flat[:, j].tolist() for j in range(flat.shape[1])}


def predict(trained, inputs: torch.Tensor) -> Predictions:
    """Run the trained module on ``inputs`` (already model-ready) in eval mode."""
    module = trained.module.eval()
    param = next(module.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    with torch.no_grad():
        parts = [module(inputs[i : i + BATCH].to(device)).float().cpu()
                 for i in range(0, len(inputs), BATCH)]
    outputs = torch.cat(parts) if parts else torch.empty(0)
    if not (trained.is_classifier and outputs.dim() == 2):
        return Predictions(outputs)
    loss = trained.module.loss_name
    log_probabilities = loss_outputs(loss) == "class_log_probabilities"  # nll
    probabilities = outputs.exp() if log_probabilities else outputs.softmax(dim=1)
    names = trained.classes or [str(j) for j in range(outputs.shape[1])]
    index = outputs.argmax(dim=1).tolist()
    labels = [names[j] if trained.classes else j for j in index]
    return Predictions(outputs, labels, probabilities, names)


def predict_file(trained, input_path: str, key: str = "x") -> Predictions:
    """:func:`predict` on the inputs stored in ``input_path`` (.csv, .npz or .pt)."""
    inputs = read_inputs(input_path, trained, key)
    if len(inputs) == 0:
        raise DataError("no input samples to predict (0 rows)", path=input_path,
                        hint="give at least one sample")
    return predict(trained, inputs)


def write_predictions(predictions: Predictions, output: str | None) -> None:
    """CSV to ``output`` (or stdout when None or ``-``), or an .npz archive."""
    if output is None or output == "-":
        _write_csv(predictions, sys.stdout)
        return
    suffix = Path(output).suffix.lower()
    if suffix not in OUTPUT_TYPES:
        raise UsageError(f"--output {output}: unknown file type {suffix or '(none)'!r}",
                         hint="use .csv or .npz")
    with writing(prepare_file(output, "--output"), "--output"):
        if suffix == ".npz":
            np.savez(output, **_arrays(predictions))
        else:
            with open(output, "w", newline="") as stream:
                _write_csv(predictions, stream)


def _write_csv(predictions: Predictions, stream: io.TextIOBase) -> None:
    table = predictions.columns()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(table)
    for row in zip(*table.values()):
        writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row])
    stream.flush()


def _arrays(predictions: Predictions) -> dict[str, np.ndarray]:
    arrays = {"outputs": predictions.outputs.numpy()}
    if predictions.labels is not None:
        arrays["prediction"] = np.array(predictions.labels)
        arrays["probabilities"] = predictions.probabilities.numpy()
        arrays["classes"] = np.array(predictions.class_names)
    else:
        arrays["prediction"] = predictions.outputs.numpy()
    return arrays
