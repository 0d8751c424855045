"""MeanMetrics sums a CPU loss the loop has read as a Python float (issue 18, item 4): the same
float64 sum, to the bit, as the tensor ``add_`` it replaces."""

from __future__ import annotations

import torch

from lightdsl.trainer.evaluation import MeanMetrics


def _losses(dtype: torch.dtype, n: int, seed: int) -> list[torch.Tensor]:
    """Losses of both signs over 16 decades (cancellation, tiny and huge terms), as a step
    returns them: 0-dim tensors of ``dtype``."""
    g = torch.Generator().manual_seed(seed)
    scale = 10.0 ** torch.randint(-8, 9, (n,), generator=g).double()
    values = (torch.randn(n, generator=g, dtype=torch.float64) * scale).to(dtype)
    if dtype is not torch.float32:  # keep within the narrow dtype's range
        values = torch.nan_to_num(values, posinf=1e4, neginf=-1e4)
    return list(values.unbind())


def _weights(n: int, seed: int) -> list[int]:
    g = torch.Generator().manual_seed(seed)
    weights = torch.randint(1, 4097, (n,), generator=g)
    weights[::97] = (1 << 29) - 1  # the largest weight the Python sum takes
    return weights.tolist()


def _running_sums(dtype: torch.dtype, with_floats: bool, n: int = 6000) -> list[str]:
    means, sums = MeanMetrics(), []
    for loss, weight in zip(_losses(dtype, n, 1), _weights(n, 2)):
        means.add({"loss": loss}, weight, loss_value=loss.item() if with_floats else None)
        sums.append(float(means.sums["loss"]).hex())
    return sums


def test_a_python_float_sum_rounds_as_the_tensor_sum_at_every_step():
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        assert _running_sums(dtype, True) == _running_sums(dtype, False), dtype


def test_the_epoch_mean_and_the_checkpointed_sums_are_the_tensor_ones():
    tensor, python = MeanMetrics(), MeanMetrics()
    for loss, weight in zip(_losses(torch.float32, 500, 3), _weights(500, 4)):
        tensor.add({"loss": loss, "acc": loss * 0.5}, weight)
        python.add({"loss": loss, "acc": loss * 0.5}, weight, loss_value=loss.item())
    assert type(python.sums["loss"]) is float and isinstance(python.sums["acc"], torch.Tensor)
    assert python.compute() == tensor.compute()
    saved, expected = python.state_dict(), tensor.state_dict()
    assert saved["weights"] == expected["weights"]
    for name, total in expected["sums"].items():
        got = saved["sums"][name]
        assert got.dtype == torch.float64 and got.device == total.device and got.dim() == 0
        assert torch.equal(got, total)


def test_wide_losses_and_resumed_tensor_sums_stay_tensor_sums():
    """A float64 loss (its product with a weight may round) and a sum restored from a
    checkpoint keep the tensor add_; the results are the same either way."""
    wide = MeanMetrics()
    wide.add({"loss": torch.tensor(0.1, dtype=torch.float64)}, 3, loss_value=0.1)
    assert isinstance(wide.sums["loss"], torch.Tensor)
    resumed, fresh = MeanMetrics(), MeanMetrics()
    resumed.load_state_dict({"sums": {"loss": torch.tensor(1.25, dtype=torch.float64)},
                             "weights": {"loss": 2}}, torch.device("cpu"))
    fresh.add({"loss": torch.tensor(0.625)}, 2, loss_value=0.625)
    for means in (resumed, fresh):
        means.add({"loss": torch.tensor(0.3)}, 5, loss_value=torch.tensor(0.3).item())
    assert isinstance(resumed.sums["loss"], torch.Tensor) and type(fresh.sums["loss"]) is float
    assert resumed.compute() == fresh.compute()
