"""Whole-process start-up: `lightdsl check specs/*.lit` against `python -c "import torch"`, and
`lightdsl train specs/statquest.lit` against the same work scripted with pytorch-lightning."""

from __future__ import annotations

import glob
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import Row, interleaved

ROOT = Path(__file__).resolve().parents[1]
LIGHTNING_STATQUEST = """
import torch, torch.nn.functional as F, pytorch_lightning as pl
from torch.utils.data import DataLoader, TensorDataset

class BasicLightningTrain(pl.LightningModule):
    def __init__(self):
        super().__init__()
        for name, value in dict(w00=1.7, b00=-0.85, w01=-40.8, w10=12.6, b10=0.0, w11=2.7).items():
            setattr(self, name, torch.nn.Parameter(torch.tensor(value), requires_grad=False))
        self.final_bias = torch.nn.Parameter(torch.tensor(0.0))

    def forward(self, dose):
        top = F.relu(dose * self.w00 + self.b00) * self.w01
        bottom = F.relu(dose * self.w10 + self.b10) * self.w11
        return F.relu(top + bottom + self.final_bias)

    def training_step(self, batch, batch_idx):
        loss = ((self(batch[0]) - batch[1]) ** 2).sum()
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.2)

pl.seed_everything(42)
data = DataLoader(TensorDataset(torch.tensor([0.0, 0.5, 1.0]), torch.tensor([0.0, 1.0, 0.0])),
                  batch_size=1)
model = BasicLightningTrain()
pl.Trainer(max_epochs=34, accelerator="auto", devices="auto", default_root_dir=ROOT).fit(model, data)
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
        check, torch_import = timings['lightdsl check specs/*.lit'][0], \
            timings['python -c "import torch"'][0]
        rows.append(Row("Start-up (whole process)", "lightdsl check specs/*.lit", check,
                        'python -c "import torch"', check / torch_import,
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
    script.write_text(LIGHTNING_STATQUEST.replace("ROOT", repr(str(Path(folder) / "pl"))))
    cases["the same with pytorch-lightning"] = _process([python, str(script)], folder)
    timings = interleaved(cases, repeats)
    ours, theirs = timings["lightdsl train specs/statquest.lit"], \
        timings["the same with pytorch-lightning"]
    return [Row("Start-up (whole process)", "lightdsl train specs/statquest.lit", ours[0],
                "the same with pytorch-lightning", ours[0] / theirs[0], "<= 0.5",
                samples=ours[1]),
            Row("Start-up (whole process)", "the same with pytorch-lightning", theirs[0],
                samples=theirs[1])]
