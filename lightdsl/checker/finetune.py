"""Checks of fine-tuning: a layer's options (``frozen``, ``frozen(bn = train)``,
``lr_mult(0.1)``, ``init weights("file")``), a train block's ``init = weights(...)`` and its
``unfreeze(part, at_epoch = N, lr = ...)`` statements.

What is checked without torch: the options' values, that a weights file exists (and, where
:mod:`lightdsl.weightfiles` can read it without torch, that it is a weights file), that an
unfrozen part is a frozen named layer of the run's model, and that something is trainable
at some epoch (see :func:`trainable_parts`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..frontend import nodes as n
from ..frontend.diagnostics import Reporter
from ..suggest import did_you_mean
from ..vocab.registry import REGISTRY
from .binding import Bound, bind_call, lookup
from .constants import INVALID, any_invalid, evaluate

BN_MODES = ("eval", "train")


@dataclass
class WeightsInit:
    """A checked ``weights("file", strict, map)``: what the build passes to load_weights."""

    bound: Bound
    path: str  # absolute: relative paths are the spec folder's
    strict: bool
    key_map: dict[str, str]
    location: str  # ``spec.lit:9:45``, where messages about the file point
    #: what check found in the file without torch (:class:`~lightdsl.weightfiles.WeightFile`;
    #: None when it is missing or not a regular file): compared with the model's tensors
    found: Any = None


@dataclass
class PartOptions:
    """A part's options, checked. ``path``: the part's module path in its model (a named
    layer's name, ``layers.1`` for the second item of ``layers { }``)."""

    path: str
    node: n.LayerOptions
    frozen: bool = False
    bn: str = "eval"  # a frozen part's batch norms: kept in eval mode, or trained as usual
    lr_mult: float | None = None
    init: WeightsInit | None = None  # weights(path, strict, map)


def check_options(model: n.ModelDef, hypers: dict, reporter: Reporter) -> dict[str, PartOptions]:
    """The options written after the model's layers, by part path."""
    found = {}
    for layer in model.layers:
        if layer.options is not None:
            found[layer.name.id] = _part(layer.name.id, layer.options, hypers, reporter)
    for block in model.layers_blocks[:1]:
        for options in block.options:
            path = f"layers.{options.index}"
            found[path] = _part(path, options, hypers, reporter)
    return found


def _part(path: str, node: n.LayerOptions, hypers: dict, reporter: Reporter) -> PartOptions:
    part = PartOptions(path, node, frozen=node.frozen is not None)
    if node.frozen is not None:
        part.bn = _bn_mode(node.frozen, reporter)
    if node.lr_mult is not None:
        part.lr_mult = _lr_mult(node.lr_mult, hypers, reporter)
    if node.init is not None:
        part.init = bind_weights(node.init, reporter)
    return part


def _bn_mode(frozen: n.FrozenOption, reporter: Reporter) -> str:
    mode = "eval"
    for keyword in frozen.keywords:
        if keyword.name.id != "bn":
            reporter.error("unknown-name", keyword.name.span, f'frozen takes no argument '
                           f'"{keyword.name.id}"' + did_you_mean(keyword.name.id, ["bn"]),
                           hint="frozen(bn = train) trains a frozen part's batch norms")
            continue
        value = keyword.value
        text = value.id if isinstance(value, n.Name) else getattr(value, "value", None)
        if text not in BN_MODES:
            reporter.error("type", value.span, "bn must be eval (a frozen part's batch norms "
                           "keep their statistics, the default) or train")
        else:
            mode = text
    return mode


def _lr_mult(expr: n.Expr, hypers: dict, reporter: Reporter) -> float | None:
    value = evaluate(expr, hypers, reporter)
    if value is INVALID:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        reporter.error("type", expr.span, f"lr_mult must be a positive number, not {value!r}",
                       hint="lr_mult(0.1): a tenth of the optimizer's learning rate")
        return None
    return float(value)


def bind_weights(call: n.Expr, reporter: Reporter) -> WeightsInit | None:
    """``weights("file", strict = false, map = [...])`` bound, its file looked at."""
    if not isinstance(call, n.Call):
        reporter.error("type", call.span, 'init takes weights("file"), a weights file to start '
                       "from", hint='init weights("body.pt")')
        return None
    entry = lookup("init", call.func, reporter)
    bound = bind_call(entry, call, {}, reporter) if entry else None
    if bound is None or not isinstance(bound.values.get("path"), str) \
            or any_invalid(bound.values.values()):
        return None
    found = check_weights_file(bound, reporter)
    span = bound.span_of("path")
    return WeightsInit(bound, weights_path(bound, reporter.source.path),
                       bool(bound.values.get("strict")), key_map(bound),
                       f"{reporter.source.path}:{span.line}:{span.column}", found)


def weights_path(bound: Bound, spec_path: str) -> str:
    """The file ``weights(...)`` names: ``~`` expanded, relative to the spec's folder."""
    path = os.path.expanduser(bound.values["path"])
    return os.path.join(os.path.dirname(os.path.abspath(spec_path)), path)


def key_map(bound: Bound) -> dict[str, str]:
    """``map = [["from.", "to."]]`` as load_weights's ``key_map``."""
    return {old: new for old, new in bound.values.get("map") or []}


def check_weights_file(bound: Bound, reporter: Reporter):
    """A missing file is a warning (a pre-training run may write it first); a directory or a
    file the torch-free reader cannot take as weights is an error. Returns what inspecting
    the file found (a :class:`~lightdsl.weightfiles.WeightFile`), or None without a file."""
    if not isinstance(bound.values.get("path"), str):
        return None
    path = weights_path(bound, reporter.source.path)
    span = bound.span_of("path")
    if not os.path.exists(path):
        reporter.warning("missing-file", span, f"weights file not found: {path}; `train` "
                         "needs it (write it first, e.g. with the pre-training run)")
        return None
    if not os.path.isfile(path):
        reporter.error("type", span, f"{path} is not a regular file")
        return None
    from ..weightfiles import inspect_weights  # only a spec with init = weights(...) reads one

    found = inspect_weights(path)
    if found.status in ("error", "refused"):  # damaged, or not a weights file at all
        reporter.error("weights", span, found.describe())
    return found


# ---- the train block ----


def bind_unfreeze(call: n.Call, reporter: Reporter) -> Bound | None:
    """``unfreeze(backbone, at_epoch = 3, lr = 1e-4)`` bound (the part may be written bare)."""
    entry = REGISTRY.get("statement", "unfreeze")
    args = list(call.args)
    if args and isinstance(args[0], n.Name):
        args[0] = n.String(span=args[0].span, value=args[0].id)
    return bind_call(entry, call.replace(args=args), {}, reporter)


def check_unfreezes(unfreezes: list[Bound], model: Any, reporter: Reporter) -> None:
    """Each unfrozen part is a frozen named layer of the run's model, unfrozen once."""
    if model is None:
        return
    seen: set[str] = set()
    named = list(model.node.layers and [layer.name.id for layer in model.node.layers])
    for bound in unfreezes:
        part = bound.values.get("part")
        if not isinstance(part, str):
            continue
        span = bound.span_of("part")
        if part not in named:
            reporter.error("unknown-name", span, f'model {model.name} has no named layer '
                           f'"{part}"' + did_you_mean(part, named),
                           hint="unfreeze names a layer written `name = ... frozen`")
        elif part in seen:
            reporter.error("duplicate", span, f'"{part}" is unfrozen twice')
        elif not (model.options.get(part) and model.options[part].frozen):
            reporter.error("type", span, f'"{part}" is not frozen, so there is nothing to '
                           "unfreeze", hint=f"write `{part} = ... frozen` in model {model.name}")
        seen.add(part)


def unfrozen_parts(unfreezes: list[Bound]) -> set[str]:
    """The parts a run's ``unfreeze`` statements train from some epoch on."""
    return {b.values["part"] for b in unfreezes if isinstance(b.values.get("part"), str)}
