"""Where and in which number format training runs: accelerator, devices and precision.

``accelerator="auto"`` falls back quietly to the CPU; asking by name for a GPU that is absent is a
:class:`~lightdsl.errors.DeviceError` that says what was found instead. Precision names follow
Lightning: ``*-mixed`` keeps float32 weights and runs the forward pass under ``torch.autocast``;
``*-true`` converts the weights (and floating inputs) to that dtype. As in Lightning, ``16-mixed``
on the CPU trains as ``bf16-mixed``, with a warning.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch

from lightdsl.errors import DeviceError
from lightdsl.run_settings import PRECISION
from lightdsl.runtime.schedule import seed_everything as runtime_seed


@dataclass(frozen=True)
class Precision:
    """A resolved precision: the dtype of the weights and the dtype autocast computes in."""

    name: str
    param_dtype: torch.dtype
    autocast_dtype: torch.dtype | None
    device_type: str

    @property
    def needs_grad_scaler(self) -> bool:
        """Whether the loss is scaled: the table says so for float16 gradients, which underflow
        (bf16 does not need it); only CUDA has a scaler (CPU autocast has none)."""
        return PRECISION[self.name].grad_scaler and self.device_type == "cuda"

    @property
    def input_dtype(self) -> torch.dtype | None:
        """The dtype floating inputs must be cast to (only ``*-true`` changes the weights' dtype)."""
        return None if self.param_dtype is torch.float32 else self.param_dtype

    def autocast(self) -> contextlib.AbstractContextManager:
        """The context a forward pass runs in: autocast for ``*-mixed``, nothing otherwise."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.autocast_dtype)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def _no_gpu_reason() -> str:
    if torch.version.cuda is None:
        return f"this torch ({torch.__version__}) is a CPU-only build"
    return "torch.cuda.is_available() is False (no CUDA device or driver found)"


def resolve_device(accelerator: str) -> torch.device:
    """The torch device for ``accelerator`` ("auto", "cpu", "gpu", "cuda" or "mps")."""
    cuda, mps = torch.cuda.is_available(), _mps_available()
    if accelerator == "auto":
        return torch.device("cuda:0" if cuda else "mps" if mps else "cpu")
    if accelerator == "cpu":
        return torch.device("cpu")
    if accelerator in ("gpu", "cuda") and cuda:
        return torch.device("cuda:0")
    if accelerator in ("gpu", "mps") and mps:
        return torch.device("mps")
    reason = "MPS is not available on this machine" if accelerator == "mps" else _no_gpu_reason()
    raise DeviceError(
        f"accelerator={accelerator!r} was asked for, but {reason}",
        hint="use accelerator='auto' to fall back to the CPU quietly, or accelerator='cpu'",
    )


def cpu_precision_note(asked: str, used: str) -> str:
    """Why ``asked`` trains as ``used`` on the CPU (its autocast dtype has no scaler there)."""
    dtype = PRECISION[asked].autocast_dtype
    return (f"precision={asked!r} on the CPU: {dtype} autocast there has no gradient scaler, so "
            f"small gradients would underflow to zero; training with {used!r} instead, as "
            f"Lightning does (write precision = \"{used}\" to say so, or \"32-true\" for full "
            "precision)")


CPU_FP16_NOTE = cpu_precision_note("16-mixed", "bf16-mixed")


def resolve_precision(name: str, device: torch.device) -> Precision:
    """The :class:`Precision` for a canonical precision name on ``device``; checks support.

    ``16-mixed`` on the CPU becomes ``bf16-mixed``, as in Lightning (the trainer prints
    :data:`CPU_FP16_NOTE`): CPU autocast has no gradient scaler for float16."""
    if device.type == "cpu" and PRECISION[name].cpu:
        name = PRECISION[name].cpu
    entry = PRECISION[name]
    param_dtype = getattr(torch, entry.param_dtype)
    autocast_dtype = getattr(torch, entry.autocast_dtype) if entry.autocast_dtype else None
    uses_bf16 = torch.bfloat16 in (param_dtype, autocast_dtype)
    if device.type == "cuda" and uses_bf16 and not torch.cuda.is_bf16_supported():
        raise DeviceError(
            f"precision={name!r} needs bfloat16, which this GPU does not support",
            hint="use precision='16-mixed' or '32-true'",
        )
    if device.type == "mps" and param_dtype is torch.float64:
        raise DeviceError("precision='64-true' is not supported on MPS (no float64 there)")
    return Precision(name, param_dtype, autocast_dtype, device.type)


def check_fits(module: torch.nn.Module, device: torch.device, dtype: torch.dtype) -> None:
    """Refuse, before moving ``module`` to a GPU, weights and buffers that alone do not fit in
    its free memory: a DeviceError saying what to do, not CUDA's out-of-memory traceback half
    way through the copy. Floating tensors count at ``dtype`` (the run's precision); tensors
    already on ``device`` count nothing. Other devices need no check: the module was built in
    this machine's memory (where the builder checks its size), and MPS shares that memory."""
    if device.type != "cuda":
        return
    tensors = [*module.parameters(), *module.buffers()]
    needed = sum(t.numel() * (torch.empty((), dtype=dtype).element_size()
                              if t.is_floating_point() else t.element_size())
                 for t in tensors if t.device != device)
    free = torch.cuda.mem_get_info(device)[0]
    if needed <= free:
        return
    from lightdsl.sizes import parameter_bytes  # a pure formatter (torch-free)

    name = getattr(module, "spec_name", None) or type(module).__name__
    count = sum(t.numel() for t in module.parameters())
    raise DeviceError(
        f"model {name} has {count:,} parameters, about {parameter_bytes(needed, 1)} with its "
        f"buffers, but the GPU ({device}) has only {parameter_bytes(free, 1)} of memory free",
        hint="make the model's layers smaller, use a smaller precision (e.g. "
        "precision = \"bf16-true\"), free the GPU, or train on the CPU (accelerator = \"cpu\")")


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy (when installed) and torch (CPU and all GPUs)."""
    runtime_seed(seed)  # random and torch, as a generated script seeds them
    try:
        import numpy as np
    except ImportError:  # numpy is optional for the trainer itself
        return
    np.random.seed(seed % 2**32)


@contextlib.contextmanager
def deterministic_mode(enabled: bool):
    """``torch.use_deterministic_algorithms`` for the duration of a run, restored afterwards."""
    if not enabled:
        yield
        return
    before = torch.are_deterministic_algorithms_enabled()
    # cuBLAS needs a fixed workspace to be deterministic; torch raises without it.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)
