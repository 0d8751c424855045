"""A stand-in for ``lightdsl.compile.warmstart`` (branch i17/weights) until it is merged.

Only tests use it: :func:`install` puts a minimal ``load_weights`` under that module name when
the real one cannot be imported, so the fine-tuning code (which imports the real name) runs
here. It reads lightdsl/Lightning checkpoints and plain state_dicts saved with torch.save,
renames by prefix, and reports missing, unexpected and mismatched names. Remove this file
once i17/weights is merged.
"""

from __future__ import annotations

import importlib
import sys
import types
from dataclasses import dataclass, field

import torch

from lightdsl.errors import LightdslError


@dataclass
class LoadReport:
    path: str
    total: int = 0
    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self) -> str:
        text = f"loaded {len(self.loaded)} of the model's {self.total} tensors from {self.path}"
        problems = [*(f"{k} missing" for k in self.missing),
                    *(f"{k} unexpected" for k in self.unexpected),
                    *(f"{k} of another shape" for k in self.mismatched)]
        return text + (": " + "; ".join(problems) if problems else "")


def load_weights(module, path, *, strict=False, key_map=None):
    saved = torch.load(path, map_location="cpu", weights_only=True)
    tensors = saved.get("state_dict", saved)
    renamed = {}
    for name, tensor in tensors.items():
        for old, new in (key_map or {}).items():
            if name.startswith(old):
                name = new + name[len(old):]
                break
        renamed[name] = tensor
    ours = module.state_dict()
    report = LoadReport(str(path), len(ours))
    report.missing = [k for k in ours if k not in renamed]
    report.unexpected = [k for k in renamed if k not in ours]
    report.mismatched = [k for k in renamed if k in ours and renamed[k].shape != ours[k].shape]
    if strict and not report.complete:
        raise LightdslError(f"{path} does not fit the model: {report.summary()}")
    fits = {k: v for k, v in renamed.items() if k in ours and v.shape == ours[k].shape}
    if not fits:
        raise LightdslError(f"{path}: no tensor of the file fits the model")
    module.load_state_dict(fits, strict=False)
    report.loaded = list(fits)
    return report


def install() -> None:
    """Make ``lightdsl.compile.warmstart`` importable (the real one if it exists)."""
    try:
        importlib.import_module("lightdsl.compile.warmstart")
    except ImportError:
        shim = types.ModuleType("lightdsl.compile.warmstart")
        shim.load_weights, shim.LoadReport = load_weights, LoadReport
        sys.modules["lightdsl.compile.warmstart"] = shim
