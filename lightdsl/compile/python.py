"""Building ``python("module:Name", ...)`` layers, losses and metrics, and the dry run that
finds a Python layer's output shape (or its mistake) before training starts.

The module is imported with the spec's folder on ``sys.path`` when ``check`` found it there
(the same search order as ``check``). Every failure (the import, the constructor, the dry run)
is a :class:`~lightdsl.errors.LightdslError` naming the spec line, not a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import sys
from typing import Any

import torch
from torch import nn

from ..checker.python import PythonBound
from ..errors import LightdslError
from ..vocab.shapes import fmt


def load(bound: PythonBound) -> Any:
    """The Python object a ``python(...)`` call names, imported."""
    ref = bound.ref
    if ref.path_dir is not None and ref.path_dir not in sys.path:
        sys.path.insert(0, ref.path_dir)  # as check searched: the spec's folder first
    try:
        module = importlib.import_module(ref.module)
    except SystemExit as stop:  # sys.exit() at import: a message, never a silent exit
        raise _error(bound, f"importing {ref.module} failed: it called sys.exit({stop.code!r})"
                     ) from None
    except Exception as error:  # noqa: BLE001 (the user's module may raise anything)
        raise _error(bound, f"importing {ref.module} failed: {_said(error)}") from None
    try:
        return getattr(module, ref.name)
    except AttributeError:
        raise _error(bound, f"module {ref.module} has no {ref.name!r} once imported") from None


def build_layer(bound: PythonBound) -> nn.Module:
    """A ``python(...)`` layer: its class called with the spec's keyword arguments."""
    target = load(bound)
    if not inspect.isclass(target) or not issubclass(target, nn.Module):
        raise _error(bound, f"{bound.ref.text} is {_what(target)}, not a torch.nn.Module "
                     "class; a python layer must be one")
    return _construct(bound, target)


def build_loss(bound: PythonBound) -> Any:
    """A ``python(...)`` loss: a class built with the keyword arguments, or a function (with
    the keyword arguments bound), called as ``loss(output, labels)``."""
    target = load(bound)
    if inspect.isclass(target):
        return _construct(bound, target)
    if not callable(target):
        raise _error(bound, f"{bound.ref.text} is {_what(target)}; a python loss must be a "
                     "class or a function loss(output, labels)")
    return functools.partial(target, **bound.values) if bound.values else target


def build_callback(bound: PythonBound) -> Any:
    """A ``python(...)`` callback: its class called with the spec's keyword arguments."""
    target = load(bound)
    if not inspect.isclass(target):
        raise _error(bound, f"{bound.ref.text} is {_what(target)}; a python callback must be "
                     "a class")
    return _construct(bound, target)


def metric_fn(bound: PythonBound) -> Any:
    """A ``python(...)`` metric: a function ``metric(output, labels) -> scalar tensor``."""
    target = load(bound)
    if inspect.isclass(target) or not callable(target):
        raise _error(bound, f"{bound.ref.text} is {_what(target)}; a python metric must be a "
                     "function metric(output, labels) -> scalar tensor")
    return target


def _construct(bound: PythonBound, cls: type) -> Any:
    try:
        return cls(**bound.values)
    except Exception as error:  # noqa: BLE001 (a TypeError, or the class's own check)
        given = ", ".join(f"{k}={v!r}" for k, v in bound.values.items())
        raise _error(bound, f"{bound.ref.name}({given}) failed: {_said(error)}") from None


def _error(bound: PythonBound, message: str) -> LightdslError:
    return LightdslError(f"python({bound.ref.text!r}): {message}", location=bound.ref.where)


def _said(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _what(target: Any) -> str:
    return "a class" if inspect.isclass(target) else "a function" if callable(target) \
        else f"a {type(target).__name__}"


# ---- the dry run ----
def python_layers(model: nn.Module, info) -> dict[nn.Module, PythonBound]:
    """The compiled model's python(...) layer modules, each with its bound call."""
    found = {getattr(model, name): bound for name, bound in info.layers.items()
             if isinstance(bound, PythonBound)}
    if info.node.layers_blocks:
        found.update({module: bound for module, bound in zip(model.layers, info.sequence)
                      if isinstance(bound, PythonBound)})
    return found


def dry_run(model: nn.Module, layers: dict[nn.Module, PythonBound], example: torch.Tensor) -> None:
    """Run the model once on a zero batch shaped like ``example`` (eval mode, no gradients,
    the model's state untouched) so that a python layer that raises, or whose output does not
    fit what follows it, is a located error now rather than a traceback mid-training."""
    if not layers:
        return
    watch = _Watch(layers)
    handles = [m.register_forward_pre_hook(watch.enter) for m in layers] + \
        [m.register_forward_hook(watch.leave) for m in layers]
    was_training = model.training
    try:
        with torch.no_grad(), _restored_rng():
            model.eval()
            model(torch.zeros_like(example))
    except LightdslError:
        raise
    except (Exception, SystemExit) as error:  # noqa: BLE001 (a python layer or the next refused it)
        batch = fmt((None, *example.shape[1:]))
        raise watch.error(error, f"on a zero batch of the model's input {batch}") or \
            LightdslError(f"the model failed on a zero batch {batch}: {_said(error)}") from None
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()


class _Watch:
    """Which python layer is running, and the last one that finished, with its output."""

    def __init__(self, layers: dict[nn.Module, PythonBound]):
        self.layers = layers
        self.running: list[nn.Module] = []
        self.last: tuple[PythonBound, Any] | None = None

    def enter(self, module, inputs) -> None:
        self.running.append(module)

    def leave(self, module, inputs, output) -> None:
        self.running.pop()
        self.last = (self.layers[module], output)

    def error(self, error: Exception, when: str, after: str = "") -> LightdslError | None:
        """The located error for ``error``, raised ``when`` (e.g. "on a zero batch of the
        model's input (N, 4)") or ``after`` a python layer; None when none ran."""
        if self.running:
            bound = self.layers[self.running[-1]]
            return _error(bound, f"the layer raised {when}: {_said(error)}")
        if self.last is not None:
            bound, output = self.last
            shape = fmt((None, *output.shape[1:])) if isinstance(output, torch.Tensor) \
                else f"a {type(output).__name__}"
            return _error(bound, f"its output {shape} does not fit what follows it{after}: "
                          f"{_said(error)}")
        return None


@contextlib.contextmanager
def located_errors(layers: dict[nn.Module, PythonBound], stage: str):
    """A python(...) layer that raises in a ``stage`` step (training mode, say, where the
    dry run ran in eval mode), or whose output does not fit what follows it, is a located
    error like the dry run's, not a traceback. Out-of-memory errors pass unchanged."""
    if not layers:
        yield
        return
    watch = _Watch(layers)
    handles = [m.register_forward_pre_hook(watch.enter) for m in layers] + \
        [m.register_forward_hook(watch.leave) for m in layers]
    try:
        yield
    except (LightdslError, torch.OutOfMemoryError):
        raise
    except Exception as error:  # a python layer or the next refused it (re-raised if neither)
        mode = "training" if stage == "train" else "eval"
        when = f"in a {stage} step ({mode} mode)"
        located = watch.error(error, when, f" {when}")
        if located is None:
            raise
        raise located from None
    finally:
        for handle in handles:
            handle.remove()


def call_located(bound: PythonBound, what: str, stage: str, fn, *args) -> Any:
    """``fn(*args)`` for a python(...) loss or metric: what it raises becomes a located
    error naming ``what`` and the ``stage``."""
    try:
        return fn(*args)
    except (LightdslError, torch.OutOfMemoryError):
        raise
    except Exception as error:  # noqa: BLE001 (the user's function may raise anything)
        raise _error(bound, f"the {what} raised in a {stage} step: {_said(error)}") from None


@contextlib.contextmanager
def _restored_rng():
    """The dry run must not change the random stream training sees (so that lightdsl train
    and the generated script stay step for step the same)."""
    state = torch.random.get_rng_state()
    try:
        yield
    finally:
        torch.random.set_rng_state(state)
