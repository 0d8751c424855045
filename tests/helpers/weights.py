"""Shared by the weights tests: a freshly built module of iris_csv.lit."""

from __future__ import annotations


def fresh_iris(iris):
    """iris_csv.lit's module, built anew (other weights than any trained one)."""
    import torch

    import lightdsl

    torch.manual_seed(12345)
    return lightdsl.load(str(iris / "iris_csv.lit")).module
