"""The model summary printed before training, and the run summary printed after it.

Output shapes come from forward hooks during forward passes on an example input, written as
``lightdsl check`` writes shapes: ``(N, 64)``, N for the batch. The batch dimension is the one
that follows the number of samples: a second pass on the example plus one sample tells it
apart from a size that merely equals the example's batch size. The passes run in eval mode,
without gradients, and inside ``torch.random.fork_rng`` so that printing a summary never
changes what training computes (dropout masks, shuffles, resumes stay bit-identical).

The table fits the terminal's width (80 columns in logs): long names and types are clipped in
the middle (``encoder~proj_weight``), then the index column goes, then "Trainable" shortens.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass

import torch
from torch import nn

from lightdsl.display import fmt, plural

from ..runtime.runs import metrics_text  # the summary line a generated script prints too
from .compiling import uncompiled
from .progress import clip

WIDTH = 80  # when the output is no terminal
GAP = " | "
NAME, TYPE = 1, 2  # the columns clipped when the table is too wide
COMFORTABLE = (24, 12)  # (name, type): clipped no narrower before columns go
NARROWEST = (10, 6)  # and no narrower at all
SHORT_TRAINABLE = {"trainable": "yes", "frozen": "no"}


@dataclass
class Row:
    """One line of the model summary: a leaf layer or a parameter held directly by a module."""

    name: str
    kind: str
    shape: str
    params: int
    trainable: str


def _trainable(params: list[nn.Parameter]) -> str:
    if not params:
        return "-"
    flags = {p.requires_grad for p in params}
    return "mixed" if len(flags) > 1 else ("trainable" if True in flags else "frozen")


def _rows(module: nn.Module, shapes: dict[str, str]) -> list[Row]:
    rows = []
    for name, sub in module.named_modules():
        own = list(sub.parameters(recurse=False))
        if name and not any(True for _ in sub.children()):  # a leaf layer: one row
            count = sum(p.numel() for p in own)
            rows.append(
                Row(name, type(sub).__name__, shapes.get(name, "?"), count, _trainable(own))
            )
            continue
        for pname, param in sub.named_parameters(recurse=False):  # parameters on a container
            full = f"{name}.{pname}" if name else pname
            rows.append(Row(full, "Parameter", fmt(tuple(param.shape)), param.numel(),
                            _trainable([param])))
    return rows


def _size(value) -> tuple[int, ...] | None:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)) and value:
        return _size(value[0])
    return None


def _symbolic(first, second) -> str:
    """The shape of one output on the example (``first``) and on one more sample (``second``,
    None if unknown) as check writes it: the dimension that grew is the batch, N."""
    if first is None:
        return "-"
    if second is None or len(second) != len(first):
        return fmt(first)
    return fmt(tuple(None if a != b else a for a, b in zip(first, second)))


def _one_more(example):
    """The example with its first sample once more (a batch one larger), or None."""
    if isinstance(example, torch.Tensor) and example.dim() > 0:
        return torch.cat([example, example[:1]])
    if isinstance(example, (tuple, list)) and example:
        grown = [_one_more(item) for item in example]
        return None if any(g is None for g in grown) else type(example)(grown)
    return None


def _leaf_sizes(module: nn.Module, example) -> dict[str, tuple | None]:
    """Each leaf layer's output size in one forward pass on ``example``."""
    sizes: dict[str, tuple | None] = {}
    hooks = [
        sub.register_forward_hook(lambda _m, _i, out, n=name: sizes.__setitem__(n, _size(out)))
        for name, sub in module.named_modules()
        if name and not any(True for _ in sub.children())
    ]
    was_training = module.training
    try:
        # the plain forward: the example passes compile nothing (their hooks, their sizes)
        with torch.random.fork_rng(devices=[]), torch.no_grad(), uncompiled(module):
            module.eval()
            module(example)
        return sizes
    finally:
        module.train(was_training)
        for hook in hooks:
            hook.remove()


def output_shapes(module: nn.Module, example) -> tuple[dict[str, str], str | None]:
    """Each leaf layer's output shape, ``(N, 64)``; plus the error text if the forward pass
    failed (the summary then shows ``?`` rather than stopping training)."""
    try:
        first = _leaf_sizes(module, example)
    except Exception as exc:  # noqa: BLE001 - a summary must never stop training
        return {}, f"{type(exc).__name__}: {exc}"
    grown, second = _one_more(example), {}
    if grown is not None:
        try:
            second = _leaf_sizes(module, grown)
        except Exception:  # noqa: BLE001 - then the sizes stay as the example gave them
            second = {}
    return {name: _symbolic(size, second.get(name)) for name, size in first.items()}, None


def _human(count: int) -> str:
    return f"{count:,}"


def model_summary(module: nn.Module, example=None, width: int | None = None,
                  compiled: str | None = None) -> str:
    """The model summary table: name, type, output shape, params, trainable; then totals;
    within ``width`` columns (by default the terminal's); and ``compiled``, how torch.compile
    compiles the forward, if it does."""
    width = width or shutil.get_terminal_size((WIDTH, 24)).columns
    shapes, error = output_shapes(module, example) if example is not None else ({}, None)
    rows = _rows(module, shapes)
    heads = ["", "Name", "Type", "Output shape", "Params", "Trainable"]
    cells = [[str(i), r.name, r.kind, r.shape, _human(r.params), r.trainable]
             for i, r in enumerate(rows)]
    lines = _table([heads, *cells], width)
    lines.insert(1, "-" * max(len(line) for line in lines))
    lines += _totals(module, width)
    lines += _frozen_parts(module, width)
    if error:
        lines += textwrap.wrap(f"(output shapes unavailable: the example forward pass failed: "
                               f"{error})", width)
    if compiled:
        lines += textwrap.wrap(f"Compiled: {compiled} (the first steps of training and of "
                               "validation include compiling)", width)
    return "\n".join(lines)


def _table(table: list[list[str]], width: int) -> list[str]:
    """The table's lines within ``width``: names and types clipped (no narrower than
    :data:`COMFORTABLE`), else without the index column, else with "Trainable" shortened
    (yes/no) and names and types clipped as far as it takes (to :data:`NARROWEST`)."""
    short = [[*row[:5], SHORT_TRAINABLE.get(row[5], row[5])] for row in table]
    short[0][5] = "Train"
    variants = [(table, NAME), ([row[1:] for row in table], NAME - 1),
                ([row[1:] for row in short], NAME - 1)]
    for variant, name in variants:
        lines = _lines(variant, name, width, COMFORTABLE)
        if lines is not None:
            return lines
    return _lines(variant, name, width, NARROWEST) or _lines(variant, name, 0, (0, 0))


def _lines(table: list[list[str]], name: int, width: int, least: tuple[int, int]):
    """The lines with the name (column ``name``) and type (the next) columns clipped to fit
    ``width``, each kept at least ``least`` wide (or its full width); None if impossible."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    room = width - (sum(widths) - widths[name] - widths[name + 1]) - len(GAP) * (len(widths) - 1)
    floors = [min(widths[name + i], least[i]) for i in (0, 1)]
    if width and room < sum(floors):
        return None
    # the type gets a third of the room at most (names tell layers apart), the name the rest
    kind = widths[name + 1] if not width else max(floors[1], min(widths[name + 1], room // 3))
    limits = (room - kind, kind) if width else (widths[name], kind)
    # a module path's start says where it is (encoder.0.), its end what (in_proj_weight)
    rows = [row[:name] + [clip(row[name], limits[0], 0.6) if i else row[name],
                          clip(row[name + 1], limits[1]) if i else row[name + 1]] + row[name + 2:]
            for i, row in enumerate(table)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [GAP.join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]


def _totals(module: nn.Module, width: int) -> list[str]:
    params = list(module.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params)
    size_mb = sum(p.numel() * p.element_size() for p in params) / 1e6
    parts = [f"Trainable params: {_human(trainable)}", f"Frozen params: {_human(total - trainable)}",
             f"Total params: {_human(total)}", f"Size: {size_mb:.2f} MB"]
    lines = [parts[0]]
    for part in parts[1:]:  # on one line when it fits, else on as few as fit
        if len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += "   " + part
        else:
            lines.append(part)
    return lines


def _frozen_parts(module: nn.Module, width: int) -> list[str]:
    """When something is frozen: each top-level part's trainable and frozen counts (a part a
    callback unfreezes later, as ``unfreeze(part, at_epoch = N)`` does, is frozen here)."""
    if all(p.requires_grad for p in module.parameters()):
        return []
    shown = []
    for name, sub in module.named_children():
        params = list(sub.parameters())
        if params:
            trainable = sum(p.numel() for p in params if p.requires_grad)
            frozen = sum(p.numel() for p in params) - trainable
            shown.append(f"{name} {_human(trainable)} trainable, {_human(frozen)} frozen")
    own = [p for p in module.parameters(recurse=False)]
    if own:
        frozen = sum(p.numel() for p in own if not p.requires_grad)
        shown.append(f"(params) {_human(sum(p.numel() for p in own) - frozen)} trainable, "
                     f"{_human(frozen)} frozen")
    return textwrap.wrap("By part: " + "; ".join(shown), width)


def _without_aliases(metrics: dict[str, float]) -> dict[str, float]:
    """The metrics less Lightning's plain ``train_<name>``, which repeats ``train_<name>_epoch``
    (or ``train_<name>_step``) under another name."""
    def alias(name: str) -> bool:
        return any(metrics.get(f"{name}{end}") == metrics[name] for end in ("_epoch", "_step"))

    return {k: v for k, v in metrics.items() if not alias(k)}


def run_summary(result) -> str:
    """The lines printed after ``fit``: how far it got, its metrics, where things were written."""
    how = "interrupted" if result.interrupted else (result.stop_reason or "finished")
    lines = [
        (
            f"Training {how}: {plural(result.epochs, 'epoch')}, "
            f"{plural(result.global_step, 'step')} in {result.elapsed_s:.1f} s"
        ),
        f"  last metrics: {metrics_text(_without_aliases(result.last_metrics))}",
    ]
    if result.best_metrics:
        lines.append(
            f"  best ({result.monitor}, epoch {result.best_epoch}): "
            f"{metrics_text(result.best_metrics)}"
        )
    if result.log_dir:
        lines.append(f"  logs: {result.log_dir}")
    if result.last_checkpoint:
        lines.append(f"  last checkpoint: {result.last_checkpoint}")
    if result.best_checkpoint:
        lines.append(f"  best checkpoint: {result.best_checkpoint}")
    return "\n".join(lines)
