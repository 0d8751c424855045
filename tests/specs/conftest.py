"""Shared set-up of the example-spec tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread while these tests train: their models are small, and on a busy
    machine two threads spinning against each other made a run tens of times slower (the
    shipped bigram spec: 15 s with two threads, 0.3 s with one, under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
