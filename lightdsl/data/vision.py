"""Image datasets: the MNIST family and CIFAR-10.

torchvision is optional and imported lazily. With it, these load (and download) exactly as
torchvision does. Without it, the MNIST family reads the raw IDX files from torchvision's layout,
``<root>/MNIST/raw/train-images-idx3-ubyte[.gz]`` and so on; CIFAR-10 needs torchvision.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lightdsl.data.dataset import Dataset
from lightdsl.data.idx import load_idx
from lightdsl.errors import DataError
from lightdsl.install import extra_command
from lightdsl.runtime.data import cifar_tensors

#: split -> (images file, labels file), as named in the MNIST distribution.
RAW_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: source name -> (torchvision class and folder name, class names or None).
MNIST_FAMILY = {
    "mnist": ("MNIST", None),
    "fashion_mnist": (
        "FashionMNIST",
        [
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ],
    ),
    "kmnist": ("KMNIST", ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]),
}


def torchvision_datasets():
    """``torchvision.datasets`` if torchvision imports here, else None."""
    try:
        from torchvision import datasets
    except (ImportError, OSError, RuntimeError):
        return None
    return datasets


def load_mnist(root: str | Path = "data", split: str = "train", download: bool = False) -> Dataset:
    """MNIST: (N, 1, 28, 28) uint8 images, int64 labels 0..9."""
    return _load_family("mnist", root, split, download)


def load_fashion_mnist(
    root: str | Path = "data", split: str = "train", download: bool = False
) -> Dataset:
    """Fashion-MNIST: like MNIST, with clothing class names in ``classes``."""
    return _load_family("fashion_mnist", root, split, download)


def load_kmnist(root: str | Path = "data", split: str = "train", download: bool = False) -> Dataset:
    """Kuzushiji-MNIST: like MNIST, with the romanised hiragana in ``classes``."""
    return _load_family("kmnist", root, split, download)


def load_cifar10(
    root: str | Path = "data", split: str = "train", download: bool = False
) -> Dataset:
    """CIFAR-10 through torchvision: (N, 3, 32, 32) uint8 images, int64 labels, class names."""
    _check_split(split, "cifar10")
    datasets = torchvision_datasets()
    if datasets is None:
        raise DataError(
            "the cifar10 source needs torchvision, which is not installed",
            hint=extra_command("vision") + ("" if download else ", and set download = true "
                                            "if the files are not in the root folder yet"),
        )
    ds = _torchvision_call(datasets.CIFAR10, "cifar10", root, split, download)
    images, labels = cifar_tensors(ds)
    return Dataset(images, labels, list(ds.classes), source=_describe("cifar10", root, split))


def _load_family(name: str, root: str | Path, split: str, download: bool) -> Dataset:
    _check_split(split, name)
    folder, classes = MNIST_FAMILY[name]
    datasets = torchvision_datasets()
    if datasets is not None:
        ds = _torchvision_call(getattr(datasets, folder), name, root, split, download)
        images = torch.as_tensor(ds.data, dtype=torch.uint8).unsqueeze(1)
        labels = torch.as_tensor(ds.targets).to(torch.int64)
        return Dataset(images, labels, classes, source=_describe(name, root, split))
    images, labels = _raw_paths(name, Path(root) / folder / "raw", split, download)
    dataset = load_idx(images, labels)
    dataset.classes = classes
    return dataset


def _raw_paths(name: str, raw: Path, split: str, download: bool) -> tuple[Path, Path]:
    """The images and labels files of ``split`` in ``raw`` (plain or .gz), or a DataError."""
    found, missing = [], []
    for base in RAW_FILES[split]:
        path = next((p for p in (raw / base, raw / f"{base}.gz") if p.is_file()), None)
        found.append(path)
        if path is None:
            missing.append(base)
    if not missing:
        return found[0], found[1]
    files = " and ".join(missing)
    why = "download = true needs torchvision, which is not installed; " if download else ""
    raise DataError(
        f"{name} {split} split: missing {files} in {raw}/",
        path=str(raw / missing[0]),
        hint=f"{why}put {files} (from the {name} distribution, gzipped .gz or not) in {raw}/, "
        f"or `{extra_command('vision')}` and set download = true to fetch them",
    )


def _torchvision_call(cls, name: str, root, split: str, download: bool):
    try:
        return cls(root=str(root), train=(split == "train"), download=bool(download))
    except RuntimeError as err:
        hint = None if download else "set download = true to fetch it"
        raise DataError(f"{name} not found under {root} ({err})", hint=hint) from err
    except OSError as err:
        raise DataError(
            f"{name}: download or read failed ({err})",
            hint="check the network, or put the files under root by hand",
        ) from err


def _check_split(split: str, name: str) -> None:
    if split not in RAW_FILES:
        raise DataError(f"{name}: split must be 'train' or 'test', got {split!r}")


def _describe(name: str, root, split: str) -> str:
    return f"{name}(root={str(root)!r}, split={split!r})"
