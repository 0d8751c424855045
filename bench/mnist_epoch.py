"""One epoch of the MNIST MLP (784-500-10, Adam 1e-3, batch 100, 60,000 samples, CPU).

lightdsl (the spec, trained by its trainer) against: a hand-written loop over in-memory tensors
(the same ops, the near-limit baseline), a hand-written loop over DataLoader(TensorDataset), and
pytorch-lightning with the seed tutorial's per-sample pipeline (when installed).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from .common import QUIET, Row, interleaved, paired_ratio, write_mnist_idx

SPEC = """
model NeuralNet(input_size = 784, hidden_size = 500, num_classes = 10) {
    layers { flatten()  linear(input_size, hidden_size)  relu()  linear(hidden_size, num_classes) }
}
data mnist {
    source = mnist(root = "ROOT")
    normalize(mean = 0.1307, std = 0.3081)
    batch_size = 100
}
train {
    model = NeuralNet
    data = mnist
    loss = cross_entropy
    optimizer = adam(lr = 0.001)
    max_epochs = 1
    seed = 0
}
"""


def _net() -> torch.nn.Module:
    """The spec's network with the spec's initial weights (its seed 0, the same layer order),
    so that every case does exactly the same arithmetic."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 500), torch.nn.ReLU(),
                               torch.nn.Linear(500, 10))


def hand_in_memory(x: torch.Tensor, y: torch.Tensor):
    def run():
        net = _net()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        perm = torch.randperm(len(x))
        for start in range(0, len(x), 100):
            index = perm[start:start + 100]
            loss = F.cross_entropy(net(x[index]), y[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return run


def hand_dataloader(x: torch.Tensor, y: torch.Tensor):
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=100,
                                         shuffle=True)

    def run():
        net = _net()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        for inputs, labels in loader:
            loss = F.cross_entropy(net(inputs), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return run


def lightdsl_spec(spec_path: Path, logs: Path):
    """Data loaded once (as the baselines' tensors are); each run builds the model afresh (as
    the baselines do: training on from the last run's weights is not the same work) and runs a
    whole ``fit``: trainer set-up, one epoch, teardown."""
    import lightdsl
    from lightdsl.compile.module import SpecModule

    experiment = lightdsl.load(str(spec_path))
    experiment.data  # noqa: B018  (loads and normalizes the data set once)

    def run():
        module = SpecModule(experiment.run, experiment.data)
        experiment.trainer(default_root_dir=str(logs), **QUIET).fit(module)
    return run


def lightning_per_sample(images: torch.Tensor, labels: torch.Tensor, logs: Path):
    """The seed tutorial: a Dataset that converts and normalizes one image at a time."""
    import pytorch_lightning as pl

    class PerSample(torch.utils.data.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):  # ToTensor + Normalize, per sample, as torchvision does
            image = images[i].float().div(255).unsqueeze(0)
            return (image - 0.1307) / 0.3081, int(labels[i])

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = _net()

        def training_step(self, batch, batch_idx):
            return F.cross_entropy(self.net(batch[0]), batch[1])

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)

        def train_dataloader(self):
            return torch.utils.data.DataLoader(PerSample(), batch_size=100, shuffle=True)

    def run():
        trainer = pl.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False,
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, default_root_dir=str(logs))
        trainer.fit(Module())
    return run


def run(repeats: int = 3) -> list[Row]:
    from lightdsl.data import load_mnist

    with tempfile.TemporaryDirectory() as folder:
        root = write_mnist_idx(Path(folder))
        spec = Path(folder) / "mnist.lit"
        spec.write_text(SPEC.replace("ROOT", str(root)))
        raw = load_mnist(root=str(root))
        x = ((raw.inputs.float() / 255 - 0.1307) / 0.3081)
        cases = {"hand-written loop, in-memory tensors": hand_in_memory(x, raw.labels),
                 "lightdsl train (spec)": lightdsl_spec(spec, Path(folder) / "logs"),
                 "hand-written loop, DataLoader(TensorDataset)": hand_dataloader(x, raw.labels)}
        try:
            import pytorch_lightning  # noqa: F401

            cases["pytorch-lightning, per-sample pipeline"] = lightning_per_sample(
                raw.inputs, raw.labels, Path(folder) / "pl")
        except ImportError:
            pass
        timings = interleaved(cases, repeats)
    return _rows(timings)


def _rows(timings) -> list[Row]:
    base_name = "hand-written loop, in-memory tensors"
    base = timings[base_name][1]
    rows = []
    for name, (seconds, samples) in timings.items():
        target = "<= 1.05" if name == "lightdsl train (spec)" else None
        rows.append(Row("MNIST MLP epoch (CPU)", name, seconds, base_name,
                        paired_ratio(samples, base),
                        target, samples=samples))
    return rows
