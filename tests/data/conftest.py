"""Fixtures for the data tests: small MNIST-format IDX files written into tmp_path."""

from __future__ import annotations

import numpy as np
import pytest

from lightdsl.data import write_idx


@pytest.fixture
def small_images() -> np.ndarray:
    """Twelve 5x4 uint8 images whose pixels encode (sample, row, col)."""
    n, h, w = 12, 5, 4
    grid = np.arange(n * h * w, dtype=np.int64).reshape(n, h, w)
    return (grid % 251).astype(np.uint8)


@pytest.fixture
def small_labels() -> np.ndarray:
    return np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], dtype=np.uint8)


@pytest.fixture
def idx_pair(tmp_path, small_images, small_labels):
    """Write a plain images/labels IDX pair; returns (images_path, labels_path)."""
    return (
        write_idx(tmp_path / "images-idx3-ubyte", small_images),
        write_idx(tmp_path / "labels-idx1-ubyte", small_labels),
    )
