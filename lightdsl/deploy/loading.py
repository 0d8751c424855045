"""A spec's module with a checkpoint's weights: what predict, evaluate and export start from."""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from lightdsl.api import Experiment, load
from lightdsl.errors import UsageError
from lightdsl.trainer import load_checkpoint


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
        """Whether outputs are class scores (a cross-entropy or NLL loss)."""
        return getattr(self.module, "loss_name", None) in ("cross_entropy", "nll")


def load_trained(spec: str, ckpt: str, run: str | None = None,
                 overrides: list[str] | None = None) -> Trained:
    """Check and build ``spec``, then load the weights of ``ckpt`` (a path, or ``last``: the
    newest ``last.ckpt`` this run wrote)."""
    experiment = load(spec, run, overrides)
    path = Path(find_checkpoint(experiment, ckpt))
    state = load_checkpoint(path)
    module = experiment.module
    try:
        module.load_state_dict(state["state_dict"])
    except RuntimeError as error:
        raise UsageError(
            f"{path} does not fit the model of {spec}: {_summary(error)}",
            hint="was it written by another spec (or before the model changed)?",
        ) from None
    module.eval()
    if state.get("spec_source") and state["spec_source"] != experiment.analysis.source.text:
        print(f"note: {spec} changed since {path} was written; using the spec as it is now",
              file=sys.stderr)
    return Trained(experiment, path)


def find_checkpoint(experiment: Experiment, ckpt: str) -> str:
    """``ckpt`` itself, or for ``last`` the newest ``last.ckpt`` under the run's log folder."""
    if ckpt != "last":
        if not os.path.isfile(ckpt):
            raise UsageError(f"--ckpt {ckpt}: no such checkpoint file",
                             hint="give a .ckpt path, or `last` for the run's newest last.ckpt")
        return ckpt
    kwargs = experiment.trainer_kwargs()
    root = kwargs.get("default_root_dir") or "lightning_logs"
    pattern = os.path.join(root, kwargs["run_name"], "version_*", "checkpoints", "last.ckpt")
    found = sorted(glob.glob(pattern), key=os.path.getmtime)
    if not found:
        raise UsageError(f"--ckpt last: no checkpoint matches {pattern}",
                         hint="train the spec first (lightdsl train), or give the checkpoint path")
    return found[-1]


def _summary(error: Exception) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines()[1:] if line.strip()]
    text = " ".join(lines) or str(error)
    return text if len(text) <= 400 else text[:400] + " ..."
