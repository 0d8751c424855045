"""On a CUDA GPU: the MNIST MLP epoch with data on the device, lightdsl against the hand-written
loop, and the per-step overhead of the tiny net. Skipped without a GPU."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .common import QUIET, Row, interleaved


def run(repeats: int = 3) -> list[Row]:
    import torch

    if not torch.cuda.is_available():
        return []
    from . import mnist_epoch

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = mnist_epoch.write_mnist_idx(Path(folder))
        spec = Path(folder) / "mnist.lit"
        spec.write_text(mnist_epoch.SPEC.replace("ROOT", str(root)).replace(
            "seed = 0", "seed = 0\n    accelerator = gpu"))
        from lightdsl.data import load_mnist

        raw = load_mnist(root=str(root))
        x = ((raw.inputs.float() / 255 - 0.1307) / 0.3081).cuda()
        y = raw.labels.cuda()
        hand = mnist_epoch.hand_in_memory(x, y)

        def hand_synced():
            hand()
            torch.cuda.synchronize()

        import lightdsl

        experiment = lightdsl.load(str(spec))
        experiment.module  # noqa: B018

        def ours():
            experiment.fit(default_root_dir=str(Path(folder) / "logs"), **QUIET)
            torch.cuda.synchronize()

        original = mnist_epoch._net
        mnist_epoch._net = lambda: original().cuda()
        try:
            timings = interleaved({"hand-written loop, data on GPU": hand_synced,
                                   "lightdsl train (spec), accelerator=gpu": ours}, repeats)
        finally:
            mnist_epoch._net = original
    base = timings["hand-written loop, data on GPU"][0]
    device = torch.cuda.get_device_name()
    for name, (seconds, samples) in timings.items():
        rows.append(Row(f"MNIST MLP epoch ({device})", name, seconds,
                        "hand-written loop, data on GPU", seconds / base,
                        "<= 1.05" if name.startswith("lightdsl") else None, samples=samples,
                        note=f"{seconds / 600 * 1e6:.0f} us/step"))
    return rows
