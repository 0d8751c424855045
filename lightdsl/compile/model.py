"""Build stage for models: a checked model -> a ``torch.nn.Module``.

Params become ``nn.Parameter`` (``frozen`` -> ``requires_grad=False``), named layers become
submodules with the spec's names, ``layers { }`` becomes an ``nn.Sequential`` called ``layers``
and ``forward`` is compiled once into one generated Python function (:mod:`.forward`), so a
step runs no AST walking and no call per statement.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import torch
from torch import nn

from ..checker.models import ModelInfo, ModelUse, Repeated
from ..checker.python import PythonBound
from ..errors import LightdslError
from ..sizes import parameter_bytes
from ..vocab.reserved import argument_names
from .finetune import refreeze_inner, set_batchnorm_eval, warm_start
from .forward import ForwardCompiler
from .python import build_layer
from .resolve import instantiate


class SpecModel(nn.Module):
    """A model described by a spec; ``forward`` follows its layers or dataflow."""

    def __init__(self, info: ModelInfo, used: bool = False):
        super().__init__()
        if not used:  # a used model's memory is counted in the model using it
            check_memory(info)
        with _allocating(info):
            self._build(info)

    def _build(self, info: ModelInfo) -> None:
        self.spec_name = info.name
        self.hparams = dict(info.hypers)
        # the constructor's arguments, as Lightning's save_hyperparameters() records them in
        # the generated LightningModule, by their names there (a keyword is "lambda_"): what a
        # checkpoint's hyper_parameters hold (SpecModule adds run settings to hparams)
        names = argument_names(info.hypers)
        self.hparams_initial = {names[k]: v for k, v in info.hypers.items()}
        for name, param in info.params.items():
            tensor = torch.tensor(param.value, dtype=torch.get_default_dtype())
            self.register_parameter(name, nn.Parameter(tensor, requires_grad=not param.node.frozen))
        for name, bound in info.layers.items():
            self.add_module(name, _layer(bound))
        if info.node.layers_blocks:
            named = {id(b): name for name, b in info.layers.items()}
            self.layers = nn.Sequential(*[getattr(self, named[id(b)]) if id(b) in named
                                          else _layer(b) for b in info.sequence])
            self._dataflow = None
        else:
            self._compiled_from = _Shared(info)
            self._dataflow = ForwardCompiler(self, info).compile(info.node.forwards[0])
        self._finetuning(info)

    # ---- fine-tuning: options after layers (frozen, lr_mult, init weights) ----
    def _finetuning(self, info: ModelInfo) -> None:
        """Warm-start, then freeze, the parts written with options. ``part_bn``: every part
        the spec freezes, with its batch norms' mode; ``frozen_parts``: those frozen now."""
        self.part_lr_mults = {p: o.lr_mult for p, o in info.options.items() if o.lr_mult}
        self.part_bn = {p: o.bn for p, o in info.options.items() if o.frozen}
        self.frozen_parts = dict(self.part_bn)
        for path, part in info.options.items():
            module = self.get_submodule(path)
            if part.init is not None:
                warm_start(module, part.init, f"{info.name}.{path}")
            if part.frozen:
                module.requires_grad_(False)

    def set_part_frozen(self, path: str, frozen: bool) -> None:
        """Freeze or unfreeze the part at ``path`` (``unfreeze(part, at_epoch = N)``); the
        parts frozen inside it stay frozen, and its batch norms follow its ``frozen(bn)``."""
        module = self.get_submodule(path)
        module.requires_grad_(not frozen)
        if frozen:
            self.frozen_parts[path] = self.part_bn.get(path, "eval")
        else:
            self.frozen_parts.pop(path, None)
            refreeze_inner(module)
        self.train(self.training)

    def train(self, mode: bool = True):
        """As nn.Module's; a frozen part's batch norms stay in eval mode (``frozen(bn =
        train)``: trained as usual), so that their running statistics keep what was loaded."""
        super().train(mode)
        if mode:
            for path, bn in self.frozen_parts.items():
                if bn == "eval":
                    set_batchnorm_eval(self.get_submodule(path))
        return self

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A copy (``copy.deepcopy``, as EMA and SWA make) compiles its forward again: the
        compiled function holds the modules and parameters they were compiled over, so a copy
        that kept them would train and run the original's weights."""
        super().__setstate__(state)
        shared = state.get("_compiled_from")
        if shared is not None:
            self._dataflow = ForwardCompiler(self, shared.info).compile(
                shared.info.node.forwards[0])

    def forward(self, x: torch.Tensor, *more: torch.Tensor):
        """The output for the input ``x`` (a model used as a layer may take ``more`` inputs
        and return a tuple)."""
        if self._dataflow is None:
            return self.layers(x)
        return self._dataflow(x, *more)


class _Shared:
    """The checker's facts a module compiled its forward from: read-only, so copies of the
    module share them rather than copying the whole checked model."""

    __slots__ = ("info",)

    def __init__(self, info: ModelInfo):
        self.info = info

    def __deepcopy__(self, memo: dict) -> _Shared:
        return self


def _layer(bound) -> nn.Module:
    if isinstance(bound, ModelUse):
        return SpecModel(bound.model, used=True)
    if isinstance(bound, Repeated):  # N copies, each with its own weights
        return nn.Sequential(*[_copy(bound) for _ in range(bound.count)])
    if isinstance(bound, PythonBound):
        return build_layer(bound)
    return instantiate(bound)


def _copy(repeated: Repeated) -> nn.Module:
    """One copy of a repeat's body: its one layer, or a Sequential of its layers."""
    items = [_layer(item) for item in repeated.items]
    return items[0] if len(items) == 1 else nn.Sequential(*items)


def available_memory(device: torch.device | str = "cpu") -> int | None:
    """Bytes free for new tensors on ``device``: the GPU's free memory, or the system's
    MemAvailable (its physical memory where /proc/meminfo is absent); None if unknown."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(info: ModelInfo, device: torch.device | str = "cpu") -> None:
    """Refuse, before allocating, a model whose parameters alone do not fit in ``device``'s
    free memory (a LightdslError saying what to do, not an allocator crash or swapping)."""
    count = info.parameter_count()
    available = available_memory(device)
    itemsize = torch.empty((), dtype=torch.get_default_dtype()).element_size()
    if count is None or available is None or count * itemsize <= available:
        return
    where = "the GPU" if torch.device(device).type == "cuda" else "this machine"
    raise LightdslError(
        f"model {info.name} has {count:,} parameters, about {parameter_bytes(count, itemsize)}, "
        f"but {where} has only {parameter_bytes(available, 1)} of memory available",
        hint="make the model's layers smaller (`lightdsl check` shows the estimate)")


@contextlib.contextmanager
def _allocating(info: ModelInfo):
    """torch's allocation failures while building become a clear error."""
    try:
        yield
    except MemoryError:
        raise _allocation_error(info, "out of memory") from None
    except RuntimeError as error:
        text = str(error)
        if not any(s in text for s in ("can't allocate", "out of memory", "not enough memory")):
            raise
        raise _allocation_error(info, text.splitlines()[0]) from None


def _allocation_error(info: ModelInfo, why: str) -> LightdslError:
    count = info.parameter_count()
    size = f" ({count:,} parameters)" if count is not None else ""
    return LightdslError(f"could not allocate model {info.name}{size}: {why}",
                         hint="make the model's layers smaller (`lightdsl check` shows the "
                         "estimate)")
