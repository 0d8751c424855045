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
    # a wrapper exists only once torch._dynamo is imported: no import (seconds) for every fit
    eval_frame = sys.modules.get("torch._dynamo.eval_frame")
    if eval_frame is not None and isinstance(module, eval_frame.OptimizedModule):
        return module._orig_mod, module
    return module, None


# ---- when it fails mid-fit ------------------------------------------------------------------

def compile_failure(error: BaseException, compiled) -> ConfigError | None:
    """A clear error for torch.compile's backend failing during a fit (a C++ compiler that
    breaks on the kernels it is given, a header missing): torch's own trace is long and says
    nothing a user can act on. None for any other error, or when nothing was compiled."""
    dynamo = sys.modules.get("torch._dynamo.exc")
    if compiled is None or dynamo is None or not isinstance(error, dynamo.BackendCompilerFailed):
        return None
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    what = lines[0] if lines else type(error).__name__
    said = _line_after(lines, "Output:")  # a compile error: what the compiler printed
    return ConfigError(f"compile: torch.compile failed while building the model's kernels "
                       f"({what}" + (f"; the compiler said: {said})" if said else ")"),
                       hint="TORCHDYNAMO_VERBOSE=1 shows torch's own trace, " + OFF_HINT)


def _line_after(lines: list[str], heading: str) -> str | None:
    if heading in lines and lines.index(heading) + 1 < len(lines):
        return lines[lines.index(heading) + 1]
    return None


# ---- is it possible here ------------------------------------------------------------------

def compile_problem(device: torch.device) -> ConfigError | None:
    """Why torch.compile cannot compile for ``device`` on this machine (None: it can)."""
    from torch._dynamo.eval_frame import check_if_dynamo_supported

    try:
        check_if_dynamo_supported()
    except Exception as error:  # noqa: BLE001 - torch says why (e.g. a Python it lacks)
        return ConfigError(f"torch.compile is not available here (torch {torch.__version__}): "
                           f"{error}", hint=OFF_HINT)
    if device.type == "cpu":
        return _cpu_problem()
    if device.type == "cuda":
        return _cuda_problem()
    return None


def _cpu_problem() -> ConfigError | None:
    """Inductor's CPU kernels are C++, built by the first compiler of its search that runs
    (``$CXX`` else ``g++``, clang++ on macOS), with Python's headers."""
    from torch._inductor import config, cpp_builder

    try:
        cpp_builder.get_cpp_compiler()
    except Exception:  # noqa: BLE001 - InvalidCxxCompiler, or MSVC missing on Windows
        search = config.cpp.cxx if isinstance(config.cpp.cxx, (list, tuple)) \
            else (config.cpp.cxx,)
        cxx = os.environ.get("CXX")
        tried = ", ".join(f"CXX={c}" if c == cxx else str(c) for c in search if c)
        return ConfigError(f"compile: torch.compile on the CPU builds C++ kernels, and no "
                           f"working C++ compiler was found (tried {tried})",
                           hint=f"install one ({_install_hint()}), point CXX at one, "
                           + OFF_HINT)
    headers = Path(sysconfig.get_path("include"))
    if not (headers / "Python.h").is_file():
        return ConfigError(f"compile: torch.compile on the CPU builds C++ kernels against "
                           f"Python's headers, and Python.h is not in {headers}",
                           hint="install them (Debian/Ubuntu: apt install python3-dev; "
                           "Fedora: dnf install python3-devel), " + OFF_HINT)
    return None


def _cuda_problem() -> ConfigError | None:
    """Inductor's CUDA kernels are Triton's; Triton builds its launcher with a C compiler."""
    from torch.utils._triton import has_triton, has_triton_package

    if not has_triton_package():
        return ConfigError("compile: torch.compile on CUDA writes Triton kernels, and the "
                           "triton package is not installed",
                           hint="pip install triton (torch's CUDA wheels bring it), " + OFF_HINT)
    if not has_triton():
        return ConfigError(f"compile: torch.compile on CUDA writes Triton kernels, which this "
                           f"GPU ({torch.cuda.get_device_name()}) cannot run (Triton needs "
                           "compute capability 7.0 or newer)", hint=OFF_HINT)
    if not (os.environ.get("CC") or any(shutil.which(c) for c in ("gcc", "clang", "cc"))):
        return ConfigError("compile: torch.compile on CUDA builds Triton's launcher with a C "
                           "compiler, and none was found (tried CC, gcc, clang, cc)",
                           hint=f"install one ({_install_hint()}), " + OFF_HINT)
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
    previous = module.__dict__.get("_compiled_call_impl")
    if options is not None:  # inductor, torch.compile's default backend: can it run here?
        problem = compile_problem(device)
        if problem is not None:
            raise problem
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
