"""A 1-input, 1-output model's response over a range, with its training points on top (the
StatQuest dose graph)."""

from __future__ import annotations

from ..errors import UsageError
from .common import require_matplotlib, save_figure


def is_scalar_model(sample_shape, output_shape) -> bool:
    """Whether a model maps one number to one number: sample () or (1,), output (N,) or (N, 1)."""
    if sample_shape is None or output_shape is None:
        return False
    return tuple(sample_shape) in ((), (1,)) and tuple(output_shape[1:]) in ((), (1,))


def response_curve(module, sample_shape, low: float, high: float, points: int = 201):
    """``(xs, ys)``: the module's outputs for ``points`` inputs evenly spaced over [low, high]."""
    import torch

    param = next(module.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    xs = torch.linspace(low, high, points, dtype=dtype, device=device)
    inputs = xs.reshape(-1, *sample_shape)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            ys = module(inputs).reshape(points, -1)
    finally:
        module.train(was_training)
    if ys.shape[1] != 1:
        raise UsageError(f"the model gives {ys.shape[1]} outputs per input; the response plot "
                         "needs exactly one")
    return xs.cpu().double().tolist(), ys[:, 0].cpu().double().tolist()


def plot_response(module, data, low: float, high: float, path, formats=("png",),
                  title: str | None = None, xlabel: str = "input") -> list[str]:
    """Plot the model's output over [low, high] with ``data``'s training (and validation)
    points; ``data`` is a :class:`~lightdsl.compile.data.DataBundle`. Returns the written paths."""
    if not low < high:
        raise UsageError(f"--range {low}:{high}: the start must be below the end")
    sample_shape = tuple(data.train.inputs.shape[1:])
    if sample_shape not in ((), (1,)):
        raise UsageError(f"the response plot needs one number per input; this data's samples "
                         f"have shape {sample_shape}")
    xs, ys = response_curve(module, sample_shape, low, high)
    plt = require_matplotlib()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.plot(xs, ys, color="tab:green", linewidth=2.5, label="model output")
    _scatter(ax, data.train, "training data", "black")
    if data.val is not None:
        _scatter(ax, data.val, "validation data", "tab:orange")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("output")
    ax.set_title(title or "model response")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return save_figure(fig, path, formats)


def _scatter(ax, dataset, label: str, color: str) -> None:
    if dataset.labels is None or dataset.labels.reshape(len(dataset.labels), -1).shape[1] != 1:
        return
    x = dataset.inputs.reshape(-1).double().tolist()
    y = dataset.labels.reshape(-1).double().tolist()
    ax.scatter(x, y, s=60, color=color, zorder=3, label=label)
