"""``evaluate``: a checkpoint's loss and metrics on the spec's validation and test data.

A spec without validation or test data is evaluated on its training data (said in the output).
The loss is a weighted mean over samples and each metric a torchmetrics value over the whole
split, computed by the trainer's own evaluation loop. A confusion matrix is a list of rows in
the results (and JSON), printed as a table under the scalar ones.
"""

from __future__ import annotations

import json

from lightdsl.compile.metrics import check_r2_samples
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
    check_r2_samples(trained.experiment.run, data, sets=splits, batches=False)
    trainer = Trainer(accelerator=accelerator, logger=None, enable_progress_bar=False,
                      enable_model_summary=False, enable_checkpointing=False)
    module, results = trained.module, {}
    for split in splits:
        loader = getattr(module, f"{split}_dataloader")()
        metrics = trainer.evaluate(module, loader, prefix=split)
        named = {k.removeprefix(f"{split}_"): v for k, v in metrics.items()}
        matrices = {k.removeprefix(f"{split}_"): v.tolist()
                    for k, v in getattr(metrics, "matrices", {}).items()}
        results[split] = {"samples": len(getattr(data, split)), **named, **matrices}
    return results


def format_table(results: dict, classes: list[str] | None = None) -> str:
    """The results as an aligned text table: one row per split, one column per metric; a
    confusion matrix under it, headed by the class names (``classes``; default: indices)."""
    scalars = {k for r in results.values() for k, v in r.items() if not isinstance(v, list)}
    names = ["samples"] + sorted(scalars - {"samples"}, key=lambda k: (k != "loss", k))
    rows = [["split", *names]]
    for split, metrics in results.items():
        rows.append([split, *(_cell(metrics.get(n)) for n in names)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    table = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n\n".join(["\n".join(table), *_matrices(results, classes)])


def _matrices(results: dict, classes) -> list[str]:
    """Each split's matrix-valued metrics (a confusion matrix) as text tables."""
    from lightdsl.trainer.matrices import matrix_text

    return [matrix_text(f"{split} {name}", value, classes) for split, metrics in results.items()
            for name, value in metrics.items() if isinstance(value, list)]


def to_json(results: dict, checkpoint: str, spec: str, classes: list[str] | None = None) -> str:
    """The results as JSON; ``classes`` (the class names, when the data has them) says what
    a confusion matrix's rows and columns are."""
    document = {"spec": spec, "checkpoint": checkpoint, "metrics": results}
    if classes:
        document["classes"] = list(classes)
    return json.dumps(document, indent=2)


def _cell(value) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.6g}"
