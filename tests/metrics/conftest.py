"""The metric tests' small classification and regression specs (texts in
tests/helpers/specs.py), written with their tiny data."""

from __future__ import annotations

import numpy as np
import pytest

from ..helpers.specs import CLASSIFIER, REGRESSOR


@pytest.fixture
def classifier_spec(tmp_path):
    """A 3-class spec on 46 samples (uneven batches of 7) whose data shapes check leaves open."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=46)
    inputs = (rng.normal(size=(3, 4))[labels] + rng.normal(size=(46, 4))).astype(np.float32)
    np.savez(tmp_path / "blobs.npz", x=inputs, y=labels)
    spec = tmp_path / "classifier.lit"
    spec.write_text(CLASSIFIER, encoding="utf-8")
    return spec


@pytest.fixture
def regressor_spec(tmp_path):
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(40, 3)).astype(np.float32)
    targets = (inputs @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 * rng.normal(size=(40, 1)))
    np.savez(tmp_path / "points.npz", x=inputs, y=targets.astype(np.float32))
    spec = tmp_path / "regressor.lit"
    spec.write_text(REGRESSOR, encoding="utf-8")
    return spec
