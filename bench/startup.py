"""Whole-process start-up: `lightdsl check specs/*.lit` against `python -c "import torch"`, and
`lightdsl train specs/statquest.lit` against the same work scripted with pytorch-lightning."""

from __future__ import annotations

import glob
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import Row, interleaved, paired_ratio

ROOT = Path(__file__).resolve().parents[1]
LIGHTNING_STATQUEST = """
# The work of `lightdsl train specs/statquest.lit`, scripted with pytorch-lightning: the
# learning-rate finder, 2000 epochs of SGD, TensorBoard logs, checkpoints, and the two pictures.
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from pytorch_lightning.tuner import Tuner
from torch.utils.data import DataLoader, TensorDataset


class BasicLightningTrain(pl.LightningModule):
    def __init__(self):
        super().__init__()
        weights = {"w00": 1.7, "b00": -0.85, "w01": -40.8, "w10": 12.6, "b10": 0.0, "w11": 2.7}
        for name, value in weights.items():
            setattr(self, name, torch.nn.Parameter(torch.tensor(value), requires_grad=False))
        self.final_bias = torch.nn.Parameter(torch.tensor(0.0))
        self.learning_rate = 0.01

    def forward(self, dose):
        top = F.relu(dose * self.w00 + self.b00) * self.w01
        bottom = F.relu(dose * self.w10 + self.b10) * self.w11
        return F.relu(top + bottom + self.final_bias)

    def training_step(self, batch, batch_idx):
        loss = ((self(batch[0]) - batch[1]) ** 2).sum()
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.learning_rate)


pl.seed_everything(42)
doses, labels = torch.tensor([0.0, 0.5, 1.0]), torch.tensor([0.0, 1.0, 0.0])
data = DataLoader(TensorDataset(doses, labels), batch_size=1)
model = BasicLightningTrain()
trainer = pl.Trainer(max_epochs=2000, accelerator="auto", devices="auto", default_root_dir=ROOT)
finder = Tuner(trainer).lr_find(model, train_dataloaders=data, min_lr=0.001, max_lr=1.0,
                                early_stop_threshold=None)
model.learning_rate = finder.suggestion()
finder.plot(suggest=True).savefig(ROOT + "/lr_find.png")
trainer.fit(model, data)
with torch.no_grad():
    grid = torch.linspace(0, 1, 101)
    plt.figure()
    plt.plot(grid, model(grid))
    plt.scatter(doses, labels)
    plt.savefig(ROOT + "/response.png")
print(model.final_bias.item())
"""


def _process(args, cwd):
    def run():
        result = subprocess.run(args, cwd=cwd, check=False, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{args} failed:\n{result.stderr[-2000:]}")
    return run


def run(repeats: int = 5) -> list[Row]:
    python = sys.executable
    lightdsl = [python, "-m", "lightdsl"]
    specs = sorted(glob.glob(str(ROOT / "specs" / "*.lit")))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        timings = interleaved({
            "lightdsl check specs/*.lit": _process([*lightdsl, "check", "-q", *specs], folder),
            'python -c "import torch"': _process([python, "-c", "import torch"], folder)},
            repeats)
        (check, checks), (torch_import, imports) = timings['lightdsl check specs/*.lit'], \
            timings['python -c "import torch"']
        rows.append(Row("Start-up (whole process)", "lightdsl check specs/*.lit", check,
                        'python -c "import torch"', paired_ratio(checks, imports),
                        "< 0.25 s and < 0.2x", samples=timings["lightdsl check specs/*.lit"][1]))
        rows.append(Row("Start-up (whole process)", 'python -c "import torch"', torch_import,
                        samples=timings['python -c "import torch"'][1]))
        rows += _train_rows(python, lightdsl, folder, repeats)
    return rows


def _train_rows(python, lightdsl, folder, repeats) -> list[Row]:
    cases = {"lightdsl train specs/statquest.lit": _process(
        [*lightdsl, "train", str(ROOT / "specs" / "statquest.lit"), "--default-root-dir",
         str(Path(folder) / "ours")], folder)}
    try:
        import pytorch_lightning  # noqa: F401
    except ImportError:
        timings = interleaved(cases, repeats)
        return [Row("Start-up (whole process)", name, t, samples=s)
                for name, (t, s) in timings.items()]
    script = Path(folder) / "statquest_lightning.py"
    (Path(folder) / "pl").mkdir()
    script.write_text(LIGHTNING_STATQUEST.replace("ROOT", repr(str(Path(folder) / "pl"))))
    cases["the same with pytorch-lightning"] = _process([python, str(script)], folder)
    timings = interleaved(cases, repeats)
    ours, theirs = timings["lightdsl train specs/statquest.lit"], \
        timings["the same with pytorch-lightning"]
    return [Row("Start-up (whole process)", "lightdsl train specs/statquest.lit", ours[0],
                "the same with pytorch-lightning", paired_ratio(ours[1], theirs[1]), "<= 0.5",
                samples=ours[1]),
            Row("Start-up (whole process)", "the same with pytorch-lightning", theirs[0],
                samples=theirs[1])]
