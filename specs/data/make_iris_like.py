"""Generate ``iris_like.csv``: a small, deterministic, iris-like tabular classification problem.

300 rows (100 per class), 4 numeric features and a string class name, shuffled::

    sepal_length,sepal_width,petal_length,petal_width,species
    5.02,3.41,1.46,0.25,alpina
    ...

Each class is a Gaussian blob (per-feature means below, shared per-feature spread), rounded to
two decimals. borealis and coastal overlap a little: logistic regression scores about 99%
(5-fold cross-validation), not 100%.
The output depends only on the seed, so re-running this script reproduces the shipped file::

    python specs/data/make_iris_like.py          # writes specs/data/iris_like.csv
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 0
ROWS_PER_CLASS = 100
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
#: class name -> per-feature mean (cm), loosely after Fisher's iris data.
CLASS_MEANS = {
    "alpina": [5.0, 3.4, 1.5, 0.25],
    "borealis": [5.9, 2.8, 4.3, 1.3],
    "coastal": [6.6, 3.0, 5.5, 2.0],
}
SPREAD = [0.40, 0.32, 0.45, 0.22]


def make_rows(seed: int = SEED) -> list[list[str]]:
    """The shuffled data rows as strings (features with 2 decimals, then the class name)."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, mean in CLASS_MEANS.items():
        values = rng.normal(mean, SPREAD, size=(ROWS_PER_CLASS, len(FEATURES)))
        values = np.clip(values, 0.05, None)  # lengths stay positive
        rows += [[f"{v:.2f}" for v in row] + [name] for row in values]
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


OUTPUT = Path(__file__).with_name("iris_like.csv")


def main(path: Path = OUTPUT) -> Path:
    """Write the CSV (header + rows) to ``path`` and return it."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FEATURES + ["species"])
        writer.writerows(make_rows())
    return path


if __name__ == "__main__":
    print(f"wrote {main()}")
