"""Warm start: a built model's tensors taken from a weights file, by name, with a report.

Not a resume: only tensors are taken (no optimizer, no loop position, no random state). The file
may be a lightdsl checkpoint, a pytorch-lightning one, a plain ``state_dict`` saved with
``torch.save`` (zip or legacy format), or a ``.safetensors`` file. Pickled files are read with
``torch.load(weights_only=True)``: loading never runs code from the file. Names are matched
as :mod:`lightdsl.weightfiles.fit` says (``key_map`` renames, Lightning's ``model.`` and
``torch.compile``'s ``_orig_mod.`` dropped), the same rules ``lightdsl check`` applies without
torch; what is missing, unexpected or of another shape is reported by name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from ..errors import WeightsError
from ..install import extra_command
from ..weightfiles import FitProblem, TensorInfo, WeightFile, find_state_dict, fit, inspect_weights
from ..weightfiles.fit import listed as _listed
from ..weightfiles.layout import contents


@dataclass
class Weights:
    """A weights file read with torch: its tensors and what it is."""

    path: str
    format: str  # as :class:`~lightdsl.weightfiles.WeightFile` names it
    kind: str  # "a lightdsl checkpoint", "a safetensors file", ...
    tensors: dict[str, torch.Tensor]


@dataclass
class LoadReport:
    """What :func:`load_weights` did: the model tensors loaded, those left as they were
    (``missing`` from the file), the file's tensors not used (``unexpected``, or of another
    shape: ``mismatched``; by the file's names), and how names were changed on the way."""

    path: str
    format: str
    kind: str
    total: int = 0  # the model's tensors (state_dict entries: parameters and buffers)
    loaded: list[str] = field(default_factory=list)  # model names
    missing: list[str] = field(default_factory=list)  # model names
    unexpected: list[str] = field(default_factory=list)  # file names
    mismatched: list[str] = field(default_factory=list)  # file names
    renamed: dict[str, str] = field(default_factory=dict)  # file name -> model name, loaded
    stripped: dict[str, int] = field(default_factory=dict)  # segment dropped -> how many names
    problems: list[FitProblem] = field(default_factory=list)
    hint: str | None = None

    @property
    def complete(self) -> bool:
        """Whether every model tensor was loaded and every file tensor used."""
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self) -> str:
        """One paragraph: how many tensors were loaded from what, and every problem (the first
        :data:`SHOWN` by name)."""
        text = f"loaded {len(self.loaded)} of the model's {self.total} tensors from {self.path} " \
               f"({self.kind})"
        if self.stripped:
            text += "; dropped " + ", ".join(f"{s!r} from {n}" for s, n in self.stripped.items())
        return text + (f": {_listed(self.problems)}" if self.problems else "")


def load_weights(module: torch.nn.Module, path: str | os.PathLike, *, strict: bool = False,
                 key_map: Mapping[str, str] | None = None) -> LoadReport:
    """Copy the tensors of the weights file ``path`` into ``module`` (in place, keeping each
    tensor's device and dtype) and say what was loaded.

    ``key_map`` renames the file's names by prefix (``{"encoder.": "backbone."}``). With
    ``strict`` a tensor missing from the file, a file tensor the model lacks or one of another
    shape is a :class:`~lightdsl.errors.WeightsError` (nothing is loaded); without it the
    tensors that fit are loaded and the rest reported. Either way an error (nothing loaded)
    when no tensor fits, a ``key_map`` rule matches no name or two names become one."""
    weights = read_weights(path)
    target = getattr(module, "_orig_mod", module)  # torch.compile's wrapper: the model in it
    expected = _infos(target.state_dict())
    fitted = fit(expected, _infos(weights.tensors), key_map)
    report = LoadReport(weights.path, weights.format, weights.kind, len(expected),
                        loaded=list(fitted.pairs.values()), missing=fitted.missing,
                        unexpected=fitted.unexpected, mismatched=fitted.mismatched,
                        renamed={f: m for f, m in fitted.pairs.items() if f != m},
                        stripped=fitted.stripped, problems=fitted.problems, hint=fitted.hint)
    failures = fitted.failures(strict)
    if failures:
        raise WeightsError(f"{weights.path} ({weights.kind}) does not fit the model: "
                           f"{_listed(failures)}", hint=fitted.advice(strict))
    _copy(target, weights, fitted.pairs)
    return report


def _copy(module: torch.nn.Module, weights: Weights, pairs: dict[str, str]) -> None:
    state = {model: weights.tensors[name] for name, model in pairs.items()}
    try:
        with torch.no_grad():
            module.load_state_dict(state, strict=False)
    except RuntimeError as error:  # what names and shapes do not show (a complex into a float)
        lines = [line.strip() for line in str(error).splitlines()[1:] if line.strip()]
        raise WeightsError(f"{weights.path} does not fit the model: "
                           f"{' '.join(lines)[:400] or error}") from None




def _infos(tensors: Mapping[str, torch.Tensor]) -> dict[str, TensorInfo]:
    return {name: TensorInfo(tuple(t.shape), str(t.dtype).removeprefix("torch."))
            for name, t in tensors.items()}


# ---- reading ----

def read_weights(path: str | os.PathLike) -> Weights:
    """The tensors of a weights file (any format :func:`load_weights` takes), on the CPU; a
    :class:`~lightdsl.errors.WeightsError` saying why when it cannot be read."""
    path = os.fspath(path)
    seen = inspect_weights(path)  # torch-free and bounded: refuses FIFOs, names damage
    if seen.status in ("missing", "refused"):
        raise WeightsError(f"weights file {path}: {seen.reason}")
    if seen.format == "safetensors":
        if seen.status == "error":
            raise WeightsError(f"cannot read weights {path}: {seen.reason}")
        return Weights(path, seen.format, "a safetensors file", _safetensors(path))
    obj = _torch_load(path, seen)
    located = find_state_dict(obj, lambda value: isinstance(value, torch.Tensor))
    if located is None:
        raise WeightsError(f"{path} has no weights lightdsl can take: it {contents(obj)}",
                           hint="save the model's weights: torch.save(model.state_dict(), "
                           "path), or a checkpoint with a 'state_dict' entry")
    return Weights(path, seen.format, located.kind, dict(located.tensors))


def _torch_load(path: str, seen: WeightFile):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling or format problem: one message
        if seen.status == "error":  # what the file is says more than torch's message
            raise WeightsError(f"cannot read weights {path}: {seen.reason}") from None
        if "weights only load failed" in str(error).lower():
            raise WeightsError(f"cannot read weights {path}: it holds objects other than "
                               "tensors and plain values, and loading those would run code "
                               "from the file", hint="save only the weights: "
                               "torch.save(model.state_dict(), path)") from None
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        raise WeightsError(f"cannot read weights {path}: {first}") from None


def _safetensors(path: str) -> dict[str, torch.Tensor]:
    try:
        from safetensors.torch import load_file  # here: an optional extra
    except ImportError:
        raise WeightsError(f"{path} is a safetensors file; reading it needs the safetensors "
                           "package", hint=extra_command("safetensors")) from None
    try:
        return load_file(path, device="cpu")
    except Exception as error:  # noqa: BLE001 - SafetensorError, OSError: one message
        raise WeightsError(f"cannot read weights {path}: {str(error)[:300]}") from None
