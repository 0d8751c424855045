"""On a CUDA GPU: the MNIST MLP epoch with data on the device, lightdsl against the hand-written
loop; and an epoch of the ResNet spec (specs/resnet_cifar.lit's model) in bf16-mixed, lightdsl
against a hand-written autocast loop over the same module, contiguous and channels_last.
Skipped without a GPU; ``resnet_cases`` also runs on the CPU (tests/test_bench_gpu.py keeps it
honest there: both sides do the same arithmetic)."""

from __future__ import annotations

import copy
import re
import tempfile
from pathlib import Path

from .common import QUIET, Row, interleaved, paired_ratio

ROOT = Path(__file__).resolve().parents[1]
RESNET_RUN = """
data images {
    source     = npz("NPZ")
    batch_size = 128
}
train {
    model       = ResNet()
    data        = images
    loss        = cross_entropy
    optimizer   = sgd(lr = 0.05, momentum = 0.9)
    max_epochs  = 1
    seed        = 0
    precision   = "bf16-mixed"
    accelerator = ACCELERATOR
}
"""


def resnet_spec(folder: Path, samples: int, accelerator: str) -> Path:
    """specs/resnet_cifar.lit's model on ``samples`` random CIFAR-shaped images (an npz file:
    CIFAR cannot be downloaded here), one epoch of bf16-mixed SGD."""
    import numpy as np

    rng = np.random.default_rng(0)
    npz = folder / "images.npz"
    np.savez(npz, x=rng.standard_normal((samples, 3, 32, 32), dtype=np.float32),
             y=rng.integers(0, 10, samples))
    model = re.search(r"^model ResNet.*?^}\n", (ROOT / "specs/resnet_cifar.lit").read_text(),
                      re.DOTALL | re.MULTILINE).group(0)
    spec = folder / "resnet.lit"
    spec.write_text(model + RESNET_RUN.replace("NPZ", str(npz)).replace("ACCELERATOR",
                                                                         accelerator))
    return spec


def hand_autocast_epoch(module, x, y, device: str, channels_last: bool):
    """A hand-written epoch over in-memory tensors with the spec's SGD, under bf16 autocast, from
    a copy of ``module``'s current weights (so every repeat does the same arithmetic)."""
    import torch
    import torch.nn.functional as F

    def run():
        net = copy.deepcopy(module).train()
        inputs = x
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
            inputs = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        torch.manual_seed(0)
        perm = torch.randperm(len(x), device=x.device)
        for start in range(0, len(x), 128):
            index = perm[start:start + 128]
            with torch.autocast(device, dtype=torch.bfloat16):
                loss = F.cross_entropy(net(inputs[index]), y[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return net
    return run


def resnet_cases(folder: Path, samples: int, device: str) -> dict:
    """The ResNet cases on ``device`` ("cuda" or "cpu"): name -> a function running one epoch."""
    import numpy as np
    import torch

    import lightdsl

    spec = resnet_spec(folder, samples, "gpu" if device == "cuda" else "cpu")
    experiment = lightdsl.load(str(spec))
    start = copy.deepcopy(experiment.module).to(device)
    data = np.load(folder / "images.npz")
    x, y = torch.from_numpy(data["x"]).to(device), torch.from_numpy(data["y"]).to(device)

    def synced(fn):
        def run():
            result = fn()
            if device == "cuda":
                torch.cuda.synchronize()
            return result
        return run

    def ours():
        experiment.module.load_state_dict(start.state_dict())  # every repeat from the same start
        experiment.fit(default_root_dir=str(folder / "logs"), **QUIET)
        return experiment.module
    return {"hand-written autocast loop": synced(hand_autocast_epoch(start, x, y, device, False)),
            "hand-written loop, channels_last": synced(hand_autocast_epoch(start, x, y, device,
                                                                           True)),
            "lightdsl train (spec), bf16-mixed": synced(ours)}


def resnet_rows(repeats: int) -> list[Row]:
    import torch

    with tempfile.TemporaryDirectory() as folder:
        timings = interleaved(resnet_cases(Path(folder), 5120, "cuda"), repeats)
    base = timings["hand-written autocast loop"][1]
    group = f"ResNet epoch, 5,120 images, bf16-mixed ({torch.cuda.get_device_name()})"
    notes = {"lightdsl train (spec), bf16-mixed": "lightdsl has no channels_last setting yet"}
    return [Row(group, name, seconds, "hand-written autocast loop", paired_ratio(samples, base),
                "<= 1.05" if name.startswith("lightdsl") else None, samples=samples,
                note=notes.get(name, f"{seconds / 40 * 1e3:.1f} ms/step"))
            for name, (seconds, samples) in timings.items()]


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
    base = timings["hand-written loop, data on GPU"][1]
    device = torch.cuda.get_device_name()
    for name, (seconds, samples) in timings.items():
        rows.append(Row(f"MNIST MLP epoch ({device})", name, seconds,
                        "hand-written loop, data on GPU", paired_ratio(samples, base),
                        "<= 1.05" if name.startswith("lightdsl") else None, samples=samples,
                        note=f"{seconds / 600 * 1e6:.0f} us/step"))
    return rows + resnet_rows(repeats)
