"""Shared helpers for the benchmarks: timing, test-made MNIST-shaped data, result rows."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None,
         "enable_checkpointing": False, "num_sanity_val_steps": 0}


@dataclass
class Row:
    """One line of the results table: a case, its median time, and its ratio to a baseline."""

    group: str
    case: str
    seconds: float
    baseline: str | None = None
    ratio: float | None = None
    target: str | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)


def interleaved(cases: dict, repeats: int) -> dict[str, tuple[float, list[float]]]:
    """Time several cases round-robin, so machine noise hits them alike; medians per case."""
    for fn in cases.values():
        fn()  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return {name: (statistics.median(s), s) for name, s in samples.items()}


def write_mnist_idx(root: Path, n_train: int = 60_000, n_test: int = 1_000, seed: int = 0) -> Path:
    """MNIST-shaped IDX files in torchvision's raw layout under ``root``."""
    from lightdsl.data import write_idx

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("t10k", n_test)):
        write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), np.uint8))
        write_idx(raw / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n, np.uint8))
    return root
