"""`lightdsl train` end to end: the StatQuest fit, Lightning parity, resume, fast_dev_run, errors."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import lightdsl
from lightdsl.cli import main
from lightdsl.data import write_idx
from tests.helpers.runner import run_lightdsl

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


lightdsl_cli = run_lightdsl


def test_statquest_spec_fits_all_three_points(tmp_path):
    result = lightdsl_cli("train", SPECS / "statquest.lit", "--default-root-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    suggestion = float(re.search(r"learning rate: ([\d.e-]+)", result.stdout).group(1))
    assert suggestion == pytest.approx(0.00214, rel=0.01)  # the lr finder's, as in the tutorial
    final_bias = float(re.search(r"final_bias = (-?[\d.]+)", result.stdout).group(1))
    assert abs(final_bias - (-16.01)) < 0.01
    assert "w01 = -40.8000 (frozen)" in result.stdout
    run_dir = tmp_path / "statquest" / "version_0"
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "lr_find.png").is_file() and (run_dir / "response.png").is_file()


def tutorial_statquest(tmp_path) -> str:
    """The shipped spec as the tutorial ran it: lr 0.00214, 34 epochs, no lr_find."""
    text = (SPECS / "statquest.lit").read_text()
    text = re.sub(r"\n\s*lr_find\(.*\)", "", text).replace("max_epochs  = 2000", "max_epochs  = 34")
    path = tmp_path / "statquest.lit"
    path.write_text(text.replace("sgd(lr = 0.01)", "sgd(lr = 0.00214)"))
    return str(path)


def test_compiled_statquest_matches_lightning(tmp_path):
    pl = pytest.importorskip("pytorch_lightning")
    experiment = lightdsl.load(tutorial_statquest(tmp_path))
    assert experiment.run.lr_find is None
    experiment.fit(default_root_dir=str(tmp_path / "ours"), enable_progress_bar=False,
                   enable_model_summary=False, logger=None, enable_checkpointing=False)
    ours = experiment.module.final_bias.item()

    reference = lightdsl.load(tutorial_statquest(tmp_path)).module

    class Wrapped(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = reference

        def training_step(self, batch, batch_idx):
            return self.net.training_step(batch, batch_idx)["loss"]

        def configure_optimizers(self):
            return self.net.configure_optimizers()

        def train_dataloader(self):
            data = reference.data.train
            return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*data.tensors),
                                               batch_size=1, shuffle=False)

    trainer = pl.Trainer(max_epochs=34, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=str(tmp_path / "pl"))
    trainer.fit(Wrapped())
    assert ours == pytest.approx(reference.final_bias.item(), abs=1e-5)
    assert ours == pytest.approx(-2.1725, abs=1e-3)


MLP = """
model Mlp(hidden = 32) {
    layers { flatten()  linear(16, hidden)  relu()  dropout(0.2)  linear(hidden, 3) }
}
data blobs {
    source = npz("blobs.npz")
    val = split(0.25, seed = 1)
    batch_size = 16
}
train {
    model = Mlp
    data = blobs
    loss = cross_entropy
    metrics = [accuracy]
    optimizer = adam(lr = 0.01)
    scheduler = step(step_size = 1, gamma = 0.5)
    max_epochs = 4
    seed = 7
    enable_progress_bar = false
}
"""


@pytest.fixture
def mlp_spec(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 120)
    inputs = rng.normal(size=(120, 4, 4)).astype(np.float32) + labels[:, None, None]
    np.savez(tmp_path / "blobs.npz", x=inputs, y=labels)
    (tmp_path / "mlp.lit").write_text(MLP)
    return tmp_path / "mlp.lit"


def _final_state(root: Path) -> dict:
    (ckpt,) = sorted(root.glob("mlp/version_*/checkpoints/last.ckpt"))[-1:]
    return torch.load(ckpt, weights_only=True)["state_dict"]


def test_resume_continues_exactly_where_it_stopped(mlp_spec, tmp_path):
    straight, split_run = tmp_path / "straight", tmp_path / "resumed"
    assert main(["train", str(mlp_spec), "--default-root-dir", str(straight)]) == 0
    assert main(["train", str(mlp_spec), "--default-root-dir", str(split_run),
                 "--max-epochs", "2"]) == 0
    assert main(["train", str(mlp_spec), "--default-root-dir", str(split_run),
                 "--max-epochs", "4", "--resume", "last"]) == 0
    expected, actual = _final_state(straight), _final_state(split_run)
    assert expected.keys() == actual.keys()
    for key in expected:
        assert torch.equal(expected[key], actual[key]), key


def test_mnist_mlp_fast_dev_run_on_test_made_idx_files(tmp_path, capsys):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 300), ("t10k", 100)):
        write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 255, (n, 28, 28), np.uint8))
        write_idx(raw / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n, np.uint8))
    code = main(["train", str(SPECS / "mnist_mlp.lit"), "--fast-dev-run",
                 "--set", f'data.source=mnist(root = "{tmp_path}")',
                 "--set", f'data.val=mnist(root = "{tmp_path}", split = "test")',
                 "--default-root-dir", str(tmp_path / "logs")])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert not (tmp_path / "logs").exists()  # fast_dev_run writes nothing
    assert "fast_dev_run" in out.out + out.err


@pytest.mark.parametrize("args,message", [
    (["--run", "fastt"], "has no run 'fastt'"),
    (["--resume", "last"], "--resume last: no checkpoint"),
    (["--set", "train.max_epochs=zero"], "expected an integer"),
    (["--devices", "0"], '--devices:1:1: error: "devices": expected an integer >= 1, got 0'),
    (["--set", "train.max_epoch=3"], 'unknown train setting "max_epoch"; did you mean "max_epochs"?'),
    (["--accelerator", "gpu"], "gpu"),
])
def test_bad_options_are_clear_messages(args, message, tmp_path, capsys):
    if "gpu" in args and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    code = main(["train", str(SPECS / "statquest.lit"), "--default-root-dir", str(tmp_path),
                 *args])
    err = capsys.readouterr().err
    assert code in (1, 2) and message in err and "Traceback" not in err


def test_bad_data_file_is_a_message_not_a_traceback(tmp_path):
    (tmp_path / "rows.csv").write_text("a,b,label\n1,2,x\n3,oops,y\n")
    (tmp_path / "bad.lit").write_text("""
model M { layers { linear(2, 2) } }
data d { source = csv("rows.csv", label = "label") }
train { model = M  data = d  loss = cross_entropy }
""")
    result = lightdsl_cli("train", tmp_path / "bad.lit", cwd=tmp_path)
    assert result.returncode == 1
    assert "rows.csv:3: non-numeric value 'oops'" in result.stderr
    assert "Traceback" not in result.stderr
