"""lightdsl's MSELoss and L1Loss (registry ``build``) give torch's losses and gradients bit for
bit, take a shorter path only where the shapes match, and are what a spec's loss builds."""

import re
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from lightdsl.runtime.losses import L1Loss, MSELoss
from lightdsl.vocab.registry import REGISTRY

PAIRS = [(MSELoss, nn.MSELoss), (L1Loss, nn.L1Loss)]


def _loss_and_grad(loss_fn, output, target):
    output = output.clone().requires_grad_(True)
    value = loss_fn(output, target)
    value.backward(torch.ones_like(value))
    return value.detach(), output.grad


@pytest.mark.parametrize("ours, theirs", PAIRS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(1,), (7, 1), (64, 10), (3, 5, 4)])
def test_equal_to_torch_to_the_bit(ours, theirs, reduction, shape):
    generator = torch.Generator().manual_seed(sum(shape))
    output = torch.randn(shape, generator=generator) * 100
    target = torch.randn(shape, generator=generator)
    mine = _loss_and_grad(ours(reduction=reduction), output, target)
    torch_s = _loss_and_grad(theirs(reduction=reduction), output, target)
    assert torch.equal(mine[0], torch_s[0])
    assert torch.equal(mine[1], torch_s[1])


@pytest.mark.parametrize("ours, name", [(MSELoss, "mse_loss"), (L1Loss, "l1_loss")])
def test_matching_shapes_skip_the_functional_and_others_take_it(ours, name, monkeypatch):
    """The point of the classes: where the shapes match, torch.nn.functional's checks and
    broadcast are skipped; anything else goes through them."""
    calls = []
    original = getattr(torch.nn.functional, name)
    monkeypatch.setattr(torch.nn.functional, name,
                        lambda *a, **k: calls.append(a) or original(*a, **k))
    ours()(torch.randn(4, 1), torch.randn(4, 1))
    assert calls == []
    with pytest.warns(UserWarning, match="different to the input size"):
        ours()(torch.randn(4, 1), torch.randn(4))
    assert len(calls) == 1


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_different_shapes_take_torchs_path_and_warn(ours, theirs):
    output, target = torch.randn(4, 1), torch.randn(4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mine = ours()(output, target)
    assert any("different to the input size" in str(w.message) for w in caught)
    assert torch.equal(mine, theirs()(output, target))


def test_the_registry_builds_them_and_scripts_print_torchs():
    for name, cls in (("mse", "MSELoss"), ("sum_squared_error", "MSELoss"), ("l1", "L1Loss")):
        entry = REGISTRY.get("loss", name)
        assert entry.build == f"lightdsl.runtime.losses.{cls}"
        assert entry.target == f"torch.nn.{cls}"


def test_a_spec_loss_is_built_from_them(tmp_path):
    import lightdsl

    spec = tmp_path / "statquest.lit"
    text = (Path(__file__).resolve().parents[2] / "specs" / "statquest.lit").read_text()
    spec.write_text(re.sub(r"\n\s*lr_find\(.*\)", "", text))
    module = lightdsl.load(str(spec)).module
    assert type(module.criterion) is MSELoss
    assert module.criterion.reduction == "sum"
