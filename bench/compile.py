"""torch.compile: the ResNet and the transformer specs trained with and without ``compile = true``.

Each fit runs STEPS optimizer steps of the spec's module on in-memory data (the ResNet's CIFAR
block replaced by random images of CIFAR's shape, the transformer's own npz), and a callback
stamps the time at each step's end (after a device sync on a GPU). A case's time is the median
step after WARMUP, where both cases are warm; eager and compiled fits alternate, ``repeats``
times each. Compiling is reported on its own row: the first step of the first compiled fit
(compiling forward and backward, inductor's cache empty) less an eager first step; later fits
reuse the compiled graphs (their first step is shown beside it).

The device is the specs' ``accelerator = auto``: the CPU here, the GPU where there is one (the
same code, each step synced; the group's name says which; on a GPU ``mode = "reduce-overhead"``,
CUDA graphs, is measured too). ``python -m bench compile``.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import QUIET, Row

SPECS = Path(__file__).resolve().parents[1] / "specs"
STEPS, WARMUP = 16, 4
IMAGES = 1024  # random CIFAR-shaped images for the ResNet (8 batches of the spec's 128)


def _resnet_spec(folder: Path) -> Path:
    """specs/resnet_cifar.lit with its data block on random images of CIFAR's shape."""
    rng = np.random.default_rng(0)
    np.savez(folder / "images.npz", x=rng.standard_normal((IMAGES, 3, 32, 32), np.float32),
             y=rng.integers(0, 10, IMAGES))
    text = re.sub(r"data cifar \{.*?\n\}", 'data cifar {\n    source     = npz(path = "images.npz")'
                  "\n    batch_size = 128\n}", (SPECS / "resnet_cifar.lit").read_text(),
                  flags=re.DOTALL)
    spec = folder / "resnet_cifar.lit"
    spec.write_text(text.replace('callbacks  = [checkpoint(monitor = "val_accuracy", mode = '
                                 '"max")]', ""))
    return spec


def _transformer_spec(folder: Path) -> Path:
    spec = folder / "transformer_classifier.lit"
    text = (SPECS / "transformer_classifier.lit").read_text()
    spec.write_text(text.replace('"data/order.npz"', f'"{SPECS / "data" / "order.npz"}"'))
    return spec


def _stamps(cuda: bool):
    """A callback stamping the time at each optimizer step's end (the device synced first)."""
    import torch

    from lightdsl.trainer import Callback

    class Stamps(Callback):
        def __init__(self):
            self.times: list[float] = []

        def on_train_batch_end(self, *args):
            if cuda:
                torch.cuda.synchronize()
            self.times.append(time.perf_counter())

    return Stamps()


def _fit(experiment, compile_, cuda: bool) -> tuple[float, list[float]]:
    """(the first step's seconds, each step's seconds after WARMUP) of one fit."""
    stamps = _stamps(cuda)
    started = time.perf_counter()
    experiment.fit(max_steps=STEPS, max_epochs=-1, limit_val_batches=0, compile=compile_,
                   callbacks=[stamps], **QUIET)
    times = stamps.times
    return times[0] - started, [b - a for a, b in zip(times[WARMUP - 1:], times[WARMUP:])]


def _case(name: str, spec: Path, repeats: int, group: str, cuda: bool) -> list[Row]:
    """Eager and each compiled variant (:func:`_variants`), fits interleaved: the median step
    of each (a step's own time, so that a burst of load from elsewhere moves a few steps, not
    the whole result)."""
    import lightdsl

    experiment = lightdsl.load(str(spec))
    experiment.module  # noqa: B018 - built (and its data loaded) outside the timings
    variants = {False: "eager", **_variants(cuda)}
    firsts: dict = {v: [] for v in variants}
    steps: dict = {v: [] for v in variants}
    cold = {}
    for variant in variants:  # eager warms up; each compiled variant compiles (cold)
        cold[variant] = _fit(experiment, variant, cuda)[0]
    for _ in range(repeats):  # interleaved: the machine's noise hits every case alike
        for variant in variants:
            first, times = _fit(experiment, variant, cuda)
            firsts[variant].append(first)
            steps[variant] += times
    eager = statistics.median(steps[False])
    base = f"{name}, eager"
    rows = [Row(group, base, eager, note=f"{1 / eager:.2f} steps/s", samples=steps[False])]
    for variant, label in list(variants.items())[1:]:
        seconds = statistics.median(steps[variant])
        later = statistics.median(firsts[variant]) - statistics.median(firsts[False])
        rows += [
            Row(group, f"{name}, {label}", seconds, base, seconds / eager,
                note=f"{1 / seconds:.2f} steps/s, {eager / seconds:.2f}x eager's",
                samples=steps[variant]),
            Row(group, f"{name}, {label}: compile time", cold[variant] - cold[False],
                note=f"first step {cold[variant]:.1f} s compiled, {cold[False]:.2f} s eager "
                f"(inductor's cache empty); a later fit's first step {later:+.2f} s"),
        ]
    return rows


def _variants(cuda: bool) -> dict:
    """The compile settings measured: ``compile = true``; on a GPU also reduce-overhead
    (CUDA graphs), which pays most where a step is many small kernels."""
    variants = {True: "compile = true"}
    if cuda:
        variants["reduce-overhead"] = 'compile(mode = "reduce-overhead")'
    return variants


def run(repeats: int = 3) -> list[Row]:
    import torch

    cuda = torch.cuda.is_available()
    where = torch.cuda.get_device_name() if cuda else "CPU"
    group = f"torch.compile, median step of {STEPS - WARMUP} after {WARMUP} ({where})"
    rows = []
    saved = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    with tempfile.TemporaryDirectory() as folder:
        # a cold compile, whatever an earlier run left in inductor's cache
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(Path(folder) / "inductor")
        try:
            for name, make in CASES:
                rows += _case(name, make(Path(folder)), repeats, group, cuda)
        finally:
            os.environ.pop("TORCHINDUCTOR_CACHE_DIR")
            if saved is not None:
                os.environ["TORCHINDUCTOR_CACHE_DIR"] = saved
    return rows


CASES = (("ResNet (specs/resnet_cifar.lit)", _resnet_spec),
         ("transformer (specs/transformer_classifier.lit)", _transformer_spec))
