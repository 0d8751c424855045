"""Generate ``order.npz``: a small sequence task that needs attention and positions to learn.

Each sample is a sequence of 16 tokens over an alphabet of 8: tokens 0-5 are filler, drawn at
random; token 6 ("A") and token 7 ("B") appear exactly once each, at two random distinct
positions. The label is 1 when A comes before B, 0 otherwise (balanced: 50% is chance).

A model that pools its inputs without looking at their positions (a bag of tokens) sees the
same bag for both labels and cannot beat chance; a transformer must attend from one marker to
the other and compare positions. Inputs are one-hot floats, ``x`` (N, 16, 8), so a linear
projection embeds them; labels ``y`` (N,) int64. The arrays depend only on the seed, so
re-running this script reproduces the shipped ones::

    python specs/data/make_order_task.py          # writes specs/data/order.npz
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 0
SAMPLES = 1200
LENGTH = 16
TOKENS = 8
A, B = 6, 7  # the two markers; 0 .. 5 are filler


def make_task(samples: int = SAMPLES, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Token indices (samples, LENGTH) and labels (samples,): 1 when A comes before B."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, A, size=(samples, LENGTH))
    for row in tokens:
        first, second = rng.choice(LENGTH, size=2, replace=False)
        row[first], row[second] = A, B
    labels = (np.argmax(tokens == A, axis=1) < np.argmax(tokens == B, axis=1))
    return tokens, labels.astype(np.int64)


def one_hot(tokens: np.ndarray) -> np.ndarray:
    """(N, L) token indices -> (N, L, TOKENS) float32 one-hot vectors."""
    return np.eye(TOKENS, dtype=np.float32)[tokens]


OUTPUT = Path(__file__).with_name("order.npz")


def main(path: Path = OUTPUT, samples: int = SAMPLES, seed: int = SEED) -> Path:
    """Write ``x`` (one-hot inputs) and ``y`` (labels) to the compressed archive ``path``."""
    tokens, labels = make_task(samples, seed)
    np.savez_compressed(path, x=one_hot(tokens), y=labels)
    return path


if __name__ == "__main__":
    print(f"wrote {main()}")
