"""The trainer refuses, before moving it, a model too large for the GPU's free memory: a clear
DeviceError (exit 1 from `lightdsl train`), not CUDA's out-of-memory traceback. The GPU is
simulated (``torch.cuda.mem_get_info`` and the device are monkeypatched): the check must run
before anything touches the device."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from trainer_modules import Regression, fast_trainer_kwargs

from lightdsl.errors import DeviceError
from lightdsl.trainer import Trainer
from lightdsl.trainer import run as run_module
from lightdsl.trainer.devices import check_fits

CUDA = torch.device("cuda:0")
SPEC = str(Path(__file__).resolve().parents[2] / "specs" / "statquest.lit")


def _free(monkeypatch, free: int) -> list:
    asked = []

    def mem_get_info(device=None):
        asked.append(torch.device(device))
        return free, 80 * 10**9

    monkeypatch.setattr(torch.cuda, "mem_get_info", mem_get_info)
    return asked


def _bytes(module, itemsize: int) -> int:
    return sum(p.numel() for p in [*module.parameters(), *module.buffers()]) * itemsize


def test_fit_refuses_a_model_larger_than_the_gpus_free_memory_before_moving_it(tmp_path,
                                                                              monkeypatch):
    module = Regression(features=64)  # 64*16 + 16 + 16 + 1 parameters, 4 bytes each
    asked = _free(monkeypatch, _bytes(module, 4) // 2)
    monkeypatch.setattr(run_module, "resolve_device", lambda accelerator: CUDA)
    moved = []
    monkeypatch.setattr(module, "to", lambda *a, **k: moved.append((a, k)) or module)
    with pytest.raises(DeviceError) as raised:
        Trainer(max_epochs=1, **fast_trainer_kwargs(tmp_path)).fit(module)
    assert asked == [CUDA] and moved == []
    assert str(raised.value).startswith(
        "model Regression has 1,057 parameters, about 4.2 kB with its buffers, but the GPU "
        "(cuda:0) has only 2.1 kB of memory free")
    assert "accelerator" in raised.value.hint
    assert all(p.device.type == "cpu" for p in module.parameters())


def test_the_check_counts_the_runs_precision_and_only_what_moves():
    module = Regression(features=64)
    need32 = _bytes(module, 4)
    with pytest.MonkeyPatch.context() as patch:
        _free(patch, need32 // 2)  # half: enough in bf16, not in float32
        check_fits(module, CUDA, torch.bfloat16)
        with pytest.raises(DeviceError):
            check_fits(module, CUDA, torch.float32)
        _free(patch, need32)
        check_fits(module, CUDA, torch.float32)
        _free(patch, 0)
        check_fits(module, torch.device("cpu"), torch.float32)  # no GPU, no check


def test_train_on_a_too_small_gpu_exits_1_without_traceback(monkeypatch, capsys, tmp_path):
    from lightdsl.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    asked = _free(monkeypatch, 10)
    assert main(["train", SPEC, "--accelerator", "cuda", "--max-epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert asked == [CUDA]
    assert "error: model BasicLightningTrain has 7 parameters" in err, err
    assert "but the GPU (cuda:0) has only 0.0 kB of memory free" in err, err
    assert "Traceback" not in err
