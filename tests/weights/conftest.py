"""Real weights files, written once per test module by what users write them with: a short
lightdsl run, the Lightning script of ``lightdsl codegen --target lightning`` trained by
pytorch-lightning, ``torch.save`` of a state dict, and the ``safetensors`` package."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..helpers.scripts import ROOT, load_script, write_script

QUIET = {"enable_progress_bar": False, "enable_model_summary": False}


def iris_folder(root: Path) -> Path:
    """iris_csv.lit and its data, with its Lightning script beside it."""
    shutil.copy(ROOT / "specs" / "iris_csv.lit", root)
    (root / "data").mkdir()
    shutil.copy(ROOT / "specs" / "data" / "iris_like.csv", root / "data")
    write_script(root / "iris_csv.lit", root / "iris_pl.py", target="lightning")
    return root


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    return iris_folder(tmp_path_factory.mktemp("iris"))


@pytest.fixture(scope="module")
def lightdsl_ckpt(iris):
    """A lightdsl checkpoint of iris_csv.lit after one epoch, and the trained module."""
    import lightdsl

    experiment = lightdsl.load(str(iris / "iris_csv.lit"), overrides=["max_epochs=1"])
    result = experiment.fit(default_root_dir=str(iris / "ll"), logger=None, **QUIET)
    return Path(result.last_checkpoint), experiment.module


@pytest.fixture(scope="module")
def lightning_ckpt(iris):
    """A pytorch-lightning checkpoint of the generated Lightning script, and its model."""
    pl = pytest.importorskip("pytorch_lightning")
    script = load_script(iris / "iris_pl.py")
    pl.seed_everything(script.SEED, verbose=False)
    model, data = script.IrisNet(), script.IrisData()
    trainer = pl.Trainer(max_epochs=1, default_root_dir=str(iris / "pl"), logger=False, **QUIET)
    trainer.fit(model, datamodule=data)
    return Path(trainer.checkpoint_callback.best_model_path), model
