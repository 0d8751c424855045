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
    """Time several cases round-robin, so machine noise hits them alike; medians per case.
    Each round runs every case once, starting one case further on each round (no case always
    follows the same one); sample i of every case comes from round i (see paired_ratio)."""
    for fn in cases.values():
        fn()  # warm-up
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            cases[name]()
            samples[name].append(time.perf_counter() - started)
    return {name: (statistics.median(s), s) for name, s in samples.items()}


def paired_ratio(samples: list[float], base: list[float]) -> float:
    """The median over rounds of one case's time over the baseline's in the same round. The
    runs of a round are back to back, so a slow stretch of a shared machine slows both; the
    ratio of the two medians would mix rounds run at different speeds."""
    return statistics.median(a / b for a, b in zip(samples, base, strict=True))


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
