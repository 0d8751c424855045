"""Whole-tensor transforms, statistics fitted on train only, label/shape checks, augmentations."""

from __future__ import annotations

import pytest
import torch

from lightdsl.data import (
    Dataset,
    apply_transforms,
    augmentation,
    check_labels,
    check_shape,
    fit_transforms,
    flatten,
    normalize,
    normalize_stats,
    one_hot,
    random_crop,
    random_flip,
    standardize,
    to_float,
)
from lightdsl.errors import DataError


def images(n=6, c=3, h=4, w=5, seed=0, low=0, high=256) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(low, high, (n, c, h, w), generator=g, dtype=torch.uint8)
    return Dataset(x, torch.arange(n) % 3, source="imgs")


def test_to_float_like_to_tensor():
    ds = images()
    out = to_float(ds)
    assert out.inputs.dtype == torch.float32 and ds.inputs.dtype == torch.uint8
    assert torch.equal(out.inputs, ds.inputs.float() / 255)
    assert float(out.inputs.max()) <= 1.0
    assert to_float(out).inputs is out.inputs  # floats pass through


def test_to_float_normalize_matches_torchvision_math():
    # torchvision: ToTensor on an HWC uint8 array: permute(2, 0, 1).float().div(255);
    # Normalize: tensor.sub_(mean[:, None, None]).div_(std[:, None, None]).
    hwc = torch.randint(
        0, 256, (2, 4, 5, 3), generator=torch.Generator().manual_seed(4), dtype=torch.uint8
    )
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    m, s = torch.tensor(mean), torch.tensor(std)
    expected = torch.stack(
        [
            img.permute(2, 0, 1)
            .contiguous()
            .to(torch.float32)
            .div(255)
            .sub_(m[:, None, None])
            .div_(s[:, None, None])
            for img in hwc
        ]
    )
    ds = Dataset(hwc.permute(0, 3, 1, 2).contiguous())
    out = normalize(to_float(ds), mean=mean, std=std).inputs
    assert torch.equal(out, expected)
    # and straight from uint8 (normalize converts first), checked pixel by pixel
    direct = normalize(ds, mean=mean, std=std).inputs
    assert torch.equal(direct, expected)
    v = int(hwc[1, 2, 3, 1])
    assert direct[1, 1, 2, 3].item() == pytest.approx((v / 255 - 0.456) / 0.224, rel=1e-6)


def test_normalize_scalar_does_not_modify_input():
    ds = Dataset(torch.tensor([[1.0, 3.0]]))
    out = normalize(ds, mean=1.0, std=2.0)
    assert out.inputs.tolist() == [[0.0, 1.0]] and ds.inputs.tolist() == [[1.0, 3.0]]


def test_normalize_stats_per_channel():
    ds = images(n=10, c=2)
    mean, std = normalize_stats(ds)
    x = ds.inputs.double() / 255
    assert mean == pytest.approx(x.mean(dim=(0, 2, 3)).tolist(), rel=1e-5)
    assert std == pytest.approx(x.std(dim=(0, 2, 3), correction=0).tolist(), rel=1e-5)


def test_normalize_auto_uses_train_statistics_only():
    train, val = images(n=40, c=1, high=100, seed=1), images(n=20, c=1, low=150, seed=2)
    train_out, others, fitted = fit_transforms(
        train, {"val": val, "test": None}, [("normalize", {"mean": "auto"})]
    )
    (mean,), (std,) = fitted[0][1]["mean"], fitted[0][1]["std"]
    t = train.inputs.double() / 255
    assert mean == pytest.approx(float(t.mean()), rel=1e-5)
    assert std == pytest.approx(float(t.std(correction=0)), rel=1e-5)
    assert float(train_out.inputs.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(train_out.inputs.std(correction=0)) == pytest.approx(1.0, abs=1e-4)
    v = val.inputs.double() / 255
    assert torch.allclose(others["val"].inputs.double(), (v - mean) / std, atol=1e-5)
    assert float(others["val"].inputs.mean()) > 2  # val is not re-centred on its own stats
    assert others["test"] is None
    again = apply_transforms(val, fitted)
    assert torch.equal(again.inputs, others["val"].inputs)


def test_standardize_per_feature_from_train():
    train = Dataset(torch.tensor([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0]]))
    val = Dataset(torch.tensor([[2.0, 50.0, 6.0]]))
    out, others, fitted = fit_transforms(train, {"val": val}, ["standardize"])
    assert fitted == [("standardize", {"mean": [2.0, 20.0, 5.0], "std": [1.0, 10.0, 1.0]})]
    assert out.inputs.tolist() == [[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]]  # constant: std 1
    assert others["val"].inputs.tolist() == [[0.0, 3.0, 1.0]]
    with pytest.raises(DataError, match="mean has shape"):
        standardize(train, mean=[0.0, 1.0], std=[1.0, 1.0])


def test_flatten_keeps_dtype():
    out = flatten(images())
    assert out.inputs.shape == (6, 60) and out.inputs.dtype == torch.uint8


def test_one_hot_and_fitted_num_classes():
    train = Dataset(torch.zeros(3, 1), torch.tensor([0, 2, 1]), classes=["a", "b", "c", "d"])
    out, others, fitted = fit_transforms(
        train, {"val": Dataset(torch.zeros(1, 1), torch.tensor([1]))}, ["one_hot"]
    )
    assert fitted == [("one_hot", {"num_classes": 4})]
    assert out.labels.tolist()[1] == [0.0, 0.0, 1.0, 0.0] and out.labels.dtype == torch.float32
    assert others["val"].labels.shape == (1, 4)
    with pytest.raises(DataError, match=r"index 1: label 2 \('c', one of 4 class names\) is "
                       r"outside 0..1"):
        one_hot(train, num_classes=2)


def test_check_labels_names_index_and_file():
    ds = Dataset(
        torch.zeros(5, 2),
        torch.tensor([0, 3, 9, 12, 1]),
        source="train.idx",
        labels_source="labels.idx",
    )
    with pytest.raises(DataError) as err:
        check_labels(ds, num_classes=10)
    assert err.value.message == "labels.idx:index 3: label 12 is outside 0..9 (num_classes = 10)"
    with pytest.raises(DataError, match="index 0: label -1"):
        check_labels(Dataset(torch.zeros(2, 1), torch.tensor([-1, 0])), 2)
    with pytest.raises(DataError, match="class labels must be integers"):
        check_labels(Dataset(torch.zeros(2, 1), torch.tensor([0.0, 1.0])), 2)
    check_labels(ds, num_classes=13)


def test_check_shape():
    ds = images(c=1, h=32, w=32)
    check_shape(ds, (1, None, 32))
    with pytest.raises(DataError) as err:
        check_shape(ds, (1, 28, 28))
    assert str(err.value).startswith("imgs: samples have shape (1, 32, 32), expected (1, 28, 28)")


def test_normalize_channel_mismatch():
    with pytest.raises(DataError, match="mean has 2 values, but the inputs have 3 channels"):
        normalize(images(), mean=[0.5, 0.5], std=0.2)
    with pytest.raises(DataError, match="std must be positive"):
        normalize(images(), mean=0.5, std=0.0)


def test_unknown_transform():
    with pytest.raises(DataError, match="unknown transform 'normalise'") as err:
        fit_transforms(images(), {}, ["normalise"])
    assert err.value.hint == 'did you mean "normalize"?'


def test_random_crop_shapes_and_windows():
    batch = torch.arange(4 * 2 * 6 * 6, dtype=torch.float32).reshape(4, 2, 6, 6)
    out = random_crop(batch, size=4, generator=torch.Generator().manual_seed(0))
    assert out.shape == (4, 2, 4, 4)
    for i in range(4):  # each crop is a contiguous window of its own sample, same in all channels
        top, left = divmod(int(out[i, 0, 0, 0] - batch[i, 0, 0, 0]), 6)
        assert torch.equal(out[i], batch[i, :, top : top + 4, left : left + 4])
    padded = random_crop(
        torch.ones(8, 1, 5, 5, dtype=torch.uint8),
        size=5,
        padding=2,
        generator=torch.Generator().manual_seed(1),
    )
    assert padded.shape == (8, 1, 5, 5) and padded.dtype == torch.uint8
    assert int(padded.sum()) < 8 * 25  # some zero padding came in
    with pytest.raises(DataError, match="larger than the padded image"):
        random_crop(batch, size=9, padding=1)


def test_random_crop_and_flip_deterministic_with_seed():
    batch = torch.randn(16, 3, 8, 8)
    crops = [
        random_crop(batch, 6, padding=1, generator=torch.Generator().manual_seed(s))
        for s in (5, 5, 6)
    ]
    assert torch.equal(crops[0], crops[1]) and not torch.equal(crops[0], crops[2])
    flips = [random_flip(batch, generator=torch.Generator().manual_seed(s)) for s in (5, 5, 6)]
    assert torch.equal(flips[0], flips[1]) and not torch.equal(flips[0], flips[2])
    flipped = (flips[0] != batch).flatten(1).any(1)
    for i in range(16):
        expected = batch[i].flip(-1) if flipped[i] else batch[i]
        assert torch.equal(flips[0][i], expected)


def test_random_flip_probability_extremes():
    batch = torch.randn(5, 1, 3, 4)
    assert torch.equal(random_flip(batch, p=0.0), batch)
    assert torch.equal(random_flip(batch, p=1.0), batch.flip(-1))


def test_augmentation_built_from_steps():
    steps = [
        ("normalize", {"mean": 0.5, "std": 0.5}),
        ("random_crop", {"size": 4, "padding": 1}),
        ("random_flip", {"p": 1.0}),
    ]
    augment = augmentation(steps)
    out = augment(torch.randn(3, 1, 4, 4), torch.Generator().manual_seed(0))
    assert out.shape == (3, 1, 4, 4)
    assert augmentation(["flatten"]) is None
    _, _, fitted = fit_transforms(images(), {}, steps)  # augmentations are left for batches
    assert [name for name, _ in fitted] == ["normalize"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_augmentations_on_gpu_match_shapes():
    batch = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, device="cuda")
    g = torch.Generator(device="cuda").manual_seed(0)
    out = random_flip(random_crop(batch, 32, padding=4, generator=g), generator=g)
    assert out.device.type == "cuda" and out.shape == batch.shape and out.dtype == torch.uint8
    g2 = torch.Generator(device="cuda").manual_seed(0)
    assert torch.equal(
        out, random_flip(random_crop(batch, 32, padding=4, generator=g2), generator=g2)
    )
