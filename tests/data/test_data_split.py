"""Splitting: exact sizes, stratified class proportions, determinism by seed."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lightdsl.data import Dataset, split
from lightdsl.data.split import class_quotas
from lightdsl.errors import DataError


def classes_dataset(counts) -> Dataset:
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    labels = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(1))]
    inputs = torch.arange(len(labels), dtype=torch.float32)[:, None]  # input = original index
    return Dataset(inputs, labels, source="toy")


def test_stratified_proportions():
    ds = classes_dataset([500, 300, 150, 50])
    train, val = split(ds, 0.2, seed=0)
    assert len(val) == 200 and len(train) == 800
    assert torch.bincount(val.labels).tolist() == [100, 60, 30, 10]
    assert torch.bincount(train.labels).tolist() == [400, 240, 120, 40]


def test_largest_remainder_keeps_total_exact():
    ds = classes_dataset([7, 7, 7])
    _, val = split(ds, 0.5, seed=3)
    assert len(val) == 10 and sorted(torch.bincount(val.labels).tolist()) == [3, 3, 4]


def test_disjoint_cover_and_order_kept():
    ds = classes_dataset([40, 25, 35])
    train, val = split(ds, 0.3, seed=5)
    t_idx, v_idx = train.inputs[:, 0].long(), val.inputs[:, 0].long()
    assert sorted(torch.cat([t_idx, v_idx]).tolist()) == list(range(100))
    assert torch.equal(t_idx, t_idx.sort().values) and torch.equal(v_idx, v_idx.sort().values)
    assert torch.equal(ds.labels[v_idx], val.labels)


def test_deterministic_by_seed():
    ds = classes_dataset([60, 40])
    a, b, c = (split(ds, 0.25, seed=s)[1].inputs for s in (7, 7, 8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_regression_labels_random_split():
    ds = Dataset(torch.randn(50, 3), torch.randn(50))
    train, val = split(ds, 0.1, seed=0, stratify=True)
    assert (len(train), len(val)) == (45, 5)


def test_unstratified_split_of_classes():
    _, val = split(classes_dataset([90, 10]), 0.5, stratify=False)
    assert len(val) == 50


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, "0.1", True])
def test_bad_fraction(fraction):
    with pytest.raises(DataError, match="between 0 and 1") as err:
        split(classes_dataset([5, 5]), fraction)
    assert str(err.value).startswith("toy:")


def test_too_few_samples():
    with pytest.raises(DataError, match="cannot split 1 sample"):
        split(Dataset(torch.zeros(1, 2)), 0.5)


def test_tiny_fraction_still_gives_one_sample():
    _, val = split(classes_dataset([10, 10]), 0.001)
    assert len(val) == 1


@given(st.lists(st.integers(1, 200), min_size=1, max_size=12), st.floats(0.01, 0.99))
def test_quotas_sum_and_proportion(counts, fraction):
    counts_t = torch.tensor(counts)
    n_val = min(max(round(fraction * sum(counts)), 1), sum(counts) - 1) if sum(counts) > 1 else 0
    quota = class_quotas(counts_t, n_val)
    assert int(quota.sum()) == n_val
    exact = counts_t.double() * n_val / sum(counts)
    assert bool(((quota - exact).abs() < 1).all()) and bool((quota <= counts_t).all())
