"""A spec's module with a checkpoint's weights: what predict, evaluate and export start from."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from lightdsl.api import Experiment, load
from lightdsl.errors import UsageError
from lightdsl.trainer import load_weights_checkpoint
from lightdsl.trainer.resume import listed, model_differences

SHOWN = 8  # tensors named in a message


@dataclass
class Trained:
    """A built spec (``experiment``) whose module holds the weights of ``checkpoint``."""

    experiment: Experiment
    checkpoint: Path

    @property
    def module(self) -> torch.nn.Module:
        return self.experiment.module

    @property
    def data(self):
        return self.experiment.data

    @property
    def classes(self) -> list[str] | None:
        """Class names for classifiers whose labels were strings (label i is ``classes[i]``)."""
        return self.data.classes

    @property
    def is_classifier(self) -> bool:
        """Whether outputs are class scores (a loss that reads class indices: cross-entropy,
        NLL)."""
        return self.experiment.run.loss.entry.labels == "index"


def load_trained(spec: str, ckpt: str, run: str | None = None,
                 overrides: list[str] | None = None) -> Trained:
    """Check and build ``spec``, then load the weights of ``ckpt`` (a path, ``last`` or
    ``best``: see :meth:`Experiment.checkpoint_path`, which also prints the file used)."""
    return trained_from(load(spec, run, overrides), ckpt)


def trained_from(experiment: Experiment, ckpt: str) -> Trained:
    """``experiment`` with the weights of ``ckpt`` (as :func:`load_trained`)."""
    spec = experiment.analysis.source.path
    path = Path(experiment.checkpoint_path(ckpt))
    state = load_weights(experiment, path)
    experiment.module.eval()
    if state.get("spec_source") and state["spec_source"] != experiment.analysis.source.text:
        print(f"note: {spec} changed since {path} was written; using the spec as it is now",
              file=sys.stderr)
    return Trained(experiment, path)


def load_weights(experiment: Experiment, path) -> dict:
    """Put the checkpoint's weights into ``experiment.module``; returns the checkpoint.

    A pytorch-lightning checkpoint of the same architecture (the Lightning script of ``lightdsl
    codegen --target lightning`` trained it) gives its weights too; any other is refused with
    the tensors that are missing, unexpected or of another shape."""
    state = load_weights_checkpoint(path)
    problems = model_differences(experiment.module, state["state_dict"])
    try:
        if not problems:
            experiment.module.load_state_dict(state["state_dict"])
    except RuntimeError as error:  # what the names and shapes do not show (e.g. a value)
        problems = [_summary(error)]
    if problems:
        raise UsageError(
            f"{path} does not fit the model of {experiment.analysis.source.path}: "
            f"{listed(problems, SHOWN)}",
            hint="was it written by another spec (or before the model changed)?",
        )
    return state


def _summary(error: Exception) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines()[1:] if line.strip()]
    text = " ".join(lines) or str(error)
    return text if len(text) <= 400 else text[:400] + " ..."
