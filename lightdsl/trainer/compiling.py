"""torch.compile for a fit: the model's forward compiled in place, its parameter names kept.

``Trainer(compile=True)`` (a spec's ``compile = true``, or ``compile(mode = ..., dynamic =
...)``) compiles the module's forward with torch's in-place ``module.compile(...)`` for the
fit, training and validation, and puts the module back as it came afterwards. The module stays
the object the trainer was given, so its ``state_dict()`` -- checkpoints, resume, export,
``evaluate`` -- has the plain names. ``torch.compile(module)`` instead returns a wrapper whose
keys start with ``_orig_mod.`` (Lightning#17415, #20233), and whose ``training_step`` (looked
up on the module inside) would call the uncompiled forward: a wrapper given to ``fit`` is
unwrapped and its module compiled in place with the wrapper's own options. Checkpoints that
others wrote from such a wrapper load with the prefix stripped (:func:`strip_compiled_prefix`).

What compiling needs is checked before the run starts, so that a missing compiler is one
message, not a traceback at the first batch after the run folder was made: on the CPU,
inductor builds C++ kernels (a C++ compiler, ``g++`` or ``$CXX``, and Python's headers); on
CUDA it writes Triton kernels (the ``triton`` package, and a C compiler for its launcher).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import sysconfig
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

import torch

from lightdsl.errors import ConfigError
from lightdsl.run_settings import CompileOptions

COMPILED_PREFIX = "_orig_mod"  # the attribute torch.compile's wrapper keeps the module in
OFF_HINT = "or set compile = false (Trainer(compile=False)) to train without compiling"


# ---- names ---------------------------------------------------------------------------------

def _plain(key: str) -> str:
    return ".".join(part for part in key.split(".") if part != COMPILED_PREFIX)


def strip_compiled_prefix(state_dict: dict) -> dict:
    """``state_dict`` without torch.compile's ``_orig_mod.`` in its keys, at any depth
    (``_orig_mod.fc.weight`` -> ``fc.weight``, ``model._orig_mod.fc.bias`` ->
    ``model.fc.bias``); the same dict when no key has it."""
    if not any(COMPILED_PREFIX in key.split(".") for key in state_dict):
        return state_dict
    plain = OrderedDict((_plain(key), value) for key, value in state_dict.items())
    metadata = getattr(state_dict, "_metadata", None)  # per-module versions (load_state_dict)
    if metadata is not None:
        plain._metadata = OrderedDict((_plain(key), value) for key, value in metadata.items())
    return plain


def unwrap_compiled(module: torch.nn.Module):
    """``(module, wrapper)``: the module inside ``torch.compile(module)`` and the wrapper (for
    its options), or ``(module, None)`` for a module that is not such a wrapper."""
    from torch._dynamo.eval_frame import OptimizedModule

    if isinstance(module, OptimizedModule):
        return module._orig_mod, module
    return module, None


# ---- is it possible here ------------------------------------------------------------------

def compile_problem(device: torch.device) -> str | None:
    """Why torch.compile cannot compile for ``device`` on this machine (None: it can)."""
    from torch._dynamo.eval_frame import check_if_dynamo_supported

    try:
        check_if_dynamo_supported()
    except Exception as error:  # noqa: BLE001 - torch says why (e.g. a Python it lacks)
        return f"torch.compile is not available with torch {torch.__version__}: {error}"
    if device.type == "cpu":
        return _cpu_problem()
    if device.type == "cuda":
        return _cuda_problem()
    return None


def _cpu_problem() -> str | None:
    """Inductor's CPU kernels are C++, built by the first compiler of its search that runs
    (``$CXX`` else ``g++``, clang++ on macOS), with Python's headers."""
    from torch._inductor import config, cpp_builder

    try:
        cpp_builder.get_cpp_compiler()
    except Exception:  # noqa: BLE001 - InvalidCxxCompiler, or MSVC missing on Windows
        tried = [c for c in config.cpp.cxx if c] if isinstance(config.cpp.cxx, (list, tuple)) \
            else [config.cpp.cxx]
        chosen = f" (CXX={os.environ['CXX']})" if os.environ.get("CXX") else ""
        return (f"torch.compile on the CPU builds C++ kernels, but no working C++ compiler "
                f"was found: tried {', '.join(map(str, tried))}{chosen}. Install one "
                f"({_install_hint()}) or point CXX at one, {OFF_HINT}")
    headers = Path(sysconfig.get_path("include"))
    if not (headers / "Python.h").is_file():
        return (f"torch.compile on the CPU builds C++ kernels against Python's headers, and "
                f"Python.h is not in {headers}. Install them (Debian/Ubuntu: apt install "
                f"python3-dev; Fedora: dnf install python3-devel), {OFF_HINT}")
    return None


def _cuda_problem() -> str | None:
    """Inductor's CUDA kernels are Triton's; Triton builds its launcher with a C compiler."""
    from torch.utils._triton import has_triton, has_triton_package

    if not has_triton_package():
        return ("torch.compile on CUDA writes Triton kernels, and the triton package is not "
                f"installed. Install it (pip install triton), {OFF_HINT}")
    if not has_triton():
        name = torch.cuda.get_device_name()
        return (f"torch.compile on CUDA writes Triton kernels, which this GPU ({name}) cannot "
                f"run (Triton needs compute capability 7.0 or newer); {OFF_HINT}")
    if not (os.environ.get("CC") or any(shutil.which(c) for c in ("gcc", "clang", "cc"))):
        return ("torch.compile on CUDA needs a C compiler for Triton's launcher, and none was "
                f"found (CC, gcc, clang, cc). Install one ({_install_hint()}), {OFF_HINT}")
    return None


def _install_hint() -> str:
    if sys.platform == "darwin":
        return "xcode-select --install"
    if sys.platform == "win32":
        return "Visual Studio's C++ build tools, then a Developer Command Prompt"
    return "Debian/Ubuntu: apt install g++; Fedora: dnf install gcc-c++"


# ---- compiling for a fit -------------------------------------------------------------------

class Compiled(NamedTuple):
    """A forward compiled for a fit: ``how`` (for the summary) and the module's own
    compiled forward before (None: it had none), which :func:`release_compiled` restores."""

    how: str
    previous: Any = None


def compile_for_fit(module: torch.nn.Module, options: CompileOptions | None, wrapper,
                    device: torch.device) -> Compiled | None:
    """Compile ``module``'s forward in place with ``options`` (else with the options of
    ``wrapper``, the ``torch.compile(module)`` fit was given); a ConfigError if this machine
    cannot. None: nothing to compile."""
    if options is None and wrapper is None:
        return None
    problem = compile_problem(device)
    if problem is not None:
        raise ConfigError(problem)
    previous = module.__dict__.get("_compiled_call_impl")
    if options is not None:
        module.compile(mode=options.mode, dynamic=options.dynamic)
        return Compiled(f"torch.compile, {options.describe()}", previous)
    module._compiled_call_impl = wrapper.dynamo_ctx(module._call_impl)
    return Compiled("torch.compile, with the options of the torch.compile(module) fit was "
                    "given", previous)


def release_compiled(module: torch.nn.Module, compiled: Compiled | None) -> None:
    """Put ``module``'s forward back as it was before :func:`compile_for_fit`."""
    if compiled is not None:
        module._compiled_call_impl = compiled.previous


@contextlib.contextmanager
def uncompiled(module: torch.nn.Module):
    """Run ``module``'s plain forward inside (the summary's example passes must neither
    compile a graph of their own nor meet one compiled without their hooks)."""
    compiled = module.__dict__.get("_compiled_call_impl")
    if compiled is None:
        yield
        return
    module._compiled_call_impl = None
    try:
        yield
    finally:
        module._compiled_call_impl = compiled
