"""Tuning before training: the learning-rate finder and the batch-size finder."""
from .lr_find import LRFinderResult, lr_find

__all__ = ["LRFinderResult", "lr_find"]
