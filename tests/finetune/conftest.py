"""The fine-tuning tests' data: specs/finetune_digits.lit beside the weights it starts from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import lightdsl

SPECS = Path(__file__).resolve().parents[2] / "specs"
QUIET = {"enable_progress_bar": False, "enable_model_summary": False}


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> Path:
    """specs/finetune_digits.lit copied with its data, and the last.ckpt of
    specs/digits_pretrain.lit where it reads it."""
    folder = tmp_path_factory.mktemp("finetune")
    (folder / "data").mkdir()
    shutil.copy(SPECS / "finetune_digits.lit", folder / "spec.lit")
    shutil.copy(SPECS / "digits_pretrain.lit", folder / "pretrain.lit")
    shutil.copy(SPECS / "data" / "digits_tasks.npz", folder / "data")
    result = lightdsl.load(str(folder / "pretrain.lit")).fit(
        default_root_dir=str(folder / "logs"), max_epochs=3, **QUIET)
    assert result.last_metrics["val_accuracy"] > 0.9  # the body learned digits
    shutil.copy(result.last_checkpoint, folder / "data" / "digits_pretrained.ckpt")
    return folder
