"""The model summary printed before training, and the run summary printed after it.

Output shapes come from forward hooks during one forward pass on an example input. That pass runs
in eval mode, without gradients, and inside ``torch.random.fork_rng`` so that printing a summary
never changes what training computes (dropout masks, shuffles, resumes stay bit-identical).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..runtime.runs import metrics_text  # the summary line a generated script prints too


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
            rows.append(Row(full, "Parameter", _shape(param), param.numel(), _trainable([param])))
    return rows


def _shape(value) -> str:
    if isinstance(value, torch.Tensor):
        return str(list(value.shape))
    if isinstance(value, (tuple, list)) and value:
        return _shape(value[0])
    return "-"


def output_shapes(module: nn.Module, example) -> tuple[dict[str, str], str | None]:
    """Each leaf layer's output shape for one forward pass on ``example``; plus the error text
    if that pass failed (the summary then shows ``?`` rather than stopping training)."""
    shapes: dict[str, str] = {}
    hooks = [
        sub.register_forward_hook(lambda _m, _i, out, n=name: shapes.__setitem__(n, _shape(out)))
        for name, sub in module.named_modules()
        if name and not any(True for _ in sub.children())
    ]
    was_training = module.training
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            module.eval()
            module(example)
        return shapes, None
    except Exception as exc:  # noqa: BLE001 - a summary must never stop training
        return shapes, f"{type(exc).__name__}: {exc}"
    finally:
        module.train(was_training)
        for hook in hooks:
            hook.remove()


def _human(count: int) -> str:
    return f"{count:,}"


def model_summary(module: nn.Module, example=None) -> str:
    """The model summary table: name, type, output shape, params, trainable; then totals."""
    shapes, error = output_shapes(module, example) if example is not None else ({}, None)
    rows = _rows(module, shapes)
    header = Row("Name", "Type", "Output shape", 0, "Trainable")
    cells = [
        [str(i), r.name, r.kind, r.shape, _human(r.params), r.trainable] for i, r in enumerate(rows)
    ]
    heads = ["", header.name, header.kind, header.shape, "Params", header.trainable]
    widths = [max(len(c[i]) for c in [heads, *cells]) for i in range(len(heads))]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [heads, *cells]
    ]
    lines.insert(1, "-" * max(len(line) for line in lines))
    lines.append(_totals(module))
    if error:
        lines.append(f"(output shapes unavailable: the example forward pass failed: {error})")
    return "\n".join(lines)


def _totals(module: nn.Module) -> str:
    params = list(module.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params)
    size_mb = sum(p.numel() * p.element_size() for p in params) / 1e6
    return (
        f"Trainable params: {_human(trainable)}   Frozen params: {_human(total - trainable)}   "
        f"Total params: {_human(total)}   Size: {size_mb:.2f} MB"
    )


def plural(count: int, noun: str) -> str:
    """``1 epoch``, ``2 epochs``, ``0 steps``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
