"""``evaluate``: a checkpoint's loss and metrics on the spec's validation and test data.

A spec without validation or test data is evaluated on its training data (said in the output).
Metrics are weighted means over samples, computed by the trainer's own evaluation loop.
"""

from __future__ import annotations

import json

from lightdsl.errors import UsageError
from lightdsl.trainer import Trainer

SPLITS = ("val", "test", "train")


def evaluate(trained, splits: list[str] | None = None, accelerator: str = "cpu") -> dict:
    """``{split: {"samples": n, "loss": ..., <metric>: ...}}`` for each split asked for (by
    default every split the spec has besides the training data, else the training data)."""
    data = trained.data
    available = [s for s in SPLITS if getattr(data, s) is not None]
    if splits is None:
        splits = [s for s in available if s != "train"] or ["train"]
    missing = [s for s in splits if s not in available]
    if missing:
        raise UsageError(f"the spec has no {missing[0]} data (it has: {', '.join(available)})")
    trainer = Trainer(accelerator=accelerator, logger=None, enable_progress_bar=False,
                      enable_model_summary=False, enable_checkpointing=False)
    module, results = trained.module, {}
    for split in splits:
        loader = getattr(module, f"{split}_dataloader")()
        metrics = trainer.evaluate(module, loader, prefix=split)
        named = {k.removeprefix(f"{split}_"): v for k, v in metrics.items()}
        results[split] = {"samples": len(getattr(data, split)), **named}
    return results


def format_table(results: dict) -> str:
    """The results as an aligned text table: one row per split, one column per metric."""
    names = ["samples"] + sorted({k for r in results.values() for k in r} - {"samples"},
                                 key=lambda k: (k != "loss", k))
    rows = [["split", *names]]
    for split, metrics in results.items():
        rows.append([split, *(_cell(metrics.get(n)) for n in names)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in rows)


def to_json(results: dict, checkpoint: str, spec: str) -> str:
    return json.dumps({"spec": spec, "checkpoint": checkpoint, "metrics": results}, indent=2)


def _cell(value) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.6g}"
