"""MNIST family and CIFAR-10: torchvision's raw layout without torchvision, and the torchvision path."""

from __future__ import annotations

import types
from typing import ClassVar

import numpy as np
import pytest
import torch

from lightdsl.data import (
    load_cifar10,
    load_fashion_mnist,
    load_kmnist,
    load_mnist,
    vision,
    write_idx,
)
from lightdsl.errors import DataError
from lightdsl.install import extra_command


@pytest.fixture
def no_torchvision(monkeypatch):
    monkeypatch.setattr(vision, "torchvision_datasets", lambda: None)


def make_raw(root, folder, split, images, labels, gz=False):
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    image_name, label_name = vision.RAW_FILES[split]
    suffix = ".gz" if gz else ""
    write_idx(raw / (image_name + suffix), images)
    write_idx(raw / (label_name + suffix), labels)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_raw_layout(tmp_path, no_torchvision, small_images, small_labels, gz):
    make_raw(tmp_path, "MNIST", "test", small_images, small_labels, gz=gz)
    ds = load_mnist(root=tmp_path, split="test")
    assert ds.inputs.shape == (12, 1, 5, 4) and ds.inputs.dtype == torch.uint8
    assert ds.labels.tolist() == small_labels.tolist() and ds.classes is None


def test_fashion_and_kmnist_folders(tmp_path, no_torchvision, small_images, small_labels):
    make_raw(tmp_path, "FashionMNIST", "train", small_images, small_labels)
    make_raw(tmp_path, "KMNIST", "train", small_images, small_labels)
    assert load_fashion_mnist(tmp_path).classes[9] == "Ankle boot"
    assert load_kmnist(tmp_path).classes[0] == "o"


def test_missing_raw_file_says_where_and_what(tmp_path, no_torchvision, small_labels):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-labels-idx1-ubyte.gz", small_labels)
    with pytest.raises(DataError) as err:
        load_mnist(root=tmp_path)
    msg = str(err.value)
    assert f"missing train-images-idx3-ubyte in {raw}/" in msg
    assert str(raw / "train-images-idx3-ubyte") in msg
    assert "train-labels" not in msg.split("hint")[0]
    assert f"`{extra_command('vision')}` and set download = true" in err.value.hint


def test_missing_both_with_download(tmp_path, no_torchvision):
    with pytest.raises(DataError) as err:
        load_mnist(root=tmp_path, split="test", download=True)
    assert "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte" in str(err.value)
    assert err.value.hint.startswith("download = true needs torchvision")


def test_bad_split_and_cifar_without_torchvision(tmp_path, no_torchvision):
    with pytest.raises(DataError, match="split must be 'train' or 'test', got 'val'"):
        load_mnist(root=tmp_path, split="val")
    with pytest.raises(DataError, match="needs torchvision") as err:
        load_cifar10(root=tmp_path)
    assert err.value.hint == (f"{extra_command('vision')}, and set download = true if the "
                              "files are not in the root folder yet")
    with pytest.raises(DataError, match="needs torchvision") as err:
        load_cifar10(root=tmp_path, download=True)
    assert err.value.hint == extra_command("vision")


class FakeMNIST:
    """Stands in for torchvision.datasets.MNIST: records its arguments."""

    calls: ClassVar[list] = []

    def __init__(self, root, train, download):
        self.calls.append((root, train, download))
        if not download and root.endswith("empty"):
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self.data = torch.full((3, 28, 28), 7, dtype=torch.uint8)
        self.targets = torch.tensor([1, 2, 3])


class FakeCIFAR10:
    def __init__(self, root, train, download):
        self.data = np.zeros((2, 32, 32, 3), dtype=np.uint8)
        self.data[1, 0, 0] = [10, 20, 30]
        self.targets = [4, 9]
        self.classes = [f"c{i}" for i in range(10)]


@pytest.fixture
def fake_torchvision(monkeypatch):
    fake = types.SimpleNamespace(MNIST=FakeMNIST, CIFAR10=FakeCIFAR10)
    monkeypatch.setattr(vision, "torchvision_datasets", lambda: fake)
    FakeMNIST.calls = []


def test_torchvision_path(tmp_path, fake_torchvision):
    ds = load_mnist(root=tmp_path, split="test", download=True)
    assert FakeMNIST.calls == [(str(tmp_path), False, True)]
    assert ds.inputs.shape == (3, 1, 28, 28) and ds.labels.dtype == torch.int64
    with pytest.raises(DataError, match="not found") as err:
        load_mnist(root=tmp_path / "empty")
    assert err.value.hint == "set download = true to fetch it"


def test_cifar10_channels_first(tmp_path, fake_torchvision):
    ds = load_cifar10(root=tmp_path, split="train")
    assert ds.inputs.shape == (2, 3, 32, 32) and ds.inputs.is_contiguous()
    assert ds.inputs[1, :, 0, 0].tolist() == [10, 20, 30]
    assert ds.labels.tolist() == [4, 9] and ds.classes[9] == "c9"
