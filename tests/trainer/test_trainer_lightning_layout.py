"""What a checkpoint carries for pytorch-lightning beside lightdsl's own keys, and which
checkpoints the two loaders take (issue 16 item 4; the round trips with the real Lightning are in
tests/codegen/test_codegen_lightning_checkpoints.py)."""

from __future__ import annotations

import pytest
import torch
from trainer_modules import Regression, fast_trainer_kwargs

from lightdsl.errors import UsageError
from lightdsl.trainer import Trainer, load_checkpoint, load_weights_checkpoint
from lightdsl.trainer.lightning_layout import fit_loop_state


def test_a_checkpoint_carries_lightnings_keys_beside_its_own(tmp_path):
    module = Regression(n=24, batch_size=8, val_size=8, scheduler="epoch", optimizer="adam")
    settings = fast_trainer_kwargs(tmp_path, enable_checkpointing=True)
    result = Trainer(max_epochs=2, **settings).fit(module)
    ckpt = load_checkpoint(result.last_checkpoint)
    loop = ckpt["loop"]
    assert (ckpt["epoch"], ckpt["global_step"]) == (loop["epoch"], loop["global_step"]) == (1, 6)
    assert ckpt["pytorch-lightning_version"] == "2.0.0"
    fit = ckpt["loops"]["fit_loop"]
    # as Lightning at an epoch's end: 2 epochs processed, 1 completed (it completes the second
    # when it resumes), 3 batches of 6 in all, the last one seen
    assert fit["epoch_progress"]["current"] == {"ready": 2, "started": 2, "processed": 2,
                                                "completed": 1}
    assert fit["epoch_loop.batch_progress"]["total"]["completed"] == loop["total_batches"] == 6
    assert fit["epoch_loop.batch_progress"]["current"]["ready"] == 3
    assert fit["epoch_loop.batch_progress"]["is_last_batch"] is True
    steps = fit["epoch_loop.automatic_optimization.optim_progress"]["optimizer"]["step"]
    assert steps["total"]["completed"] == 6  # Lightning's global_step
    # the optimizer's state is lightdsl's own object: stored once in the file
    assert ckpt["optimizer_states"][0] is ckpt["optimizer"]["optimizer"]
    assert ckpt["lr_schedulers"][0]["last_epoch"] == 2
    assert ckpt["hyper_parameters"] == module.hparams


def test_a_mid_epoch_position_is_lightnings_after_a_training_batch():
    state = fit_loop_state({"epoch": 1, "global_step": 11, "batches_done": 3,
                            "epoch_finished": False, "total_batches": 11})
    assert state["epoch_progress"]["total"] == {"ready": 2, "started": 2, "processed": 1,
                                                "completed": 1}
    batches = state["epoch_loop.batch_progress"]
    assert batches["current"] == {"ready": 3, "started": 3, "processed": 3, "completed": 2}
    assert batches["total"]["completed"] == 10 and batches["is_last_batch"] is False
    assert state["epoch_loop.state_dict"] == {"_batches_that_stepped": 10}


def _save(tmp_path, name, value):
    path = tmp_path / name
    torch.save(value, path)
    return path


def test_a_lightning_checkpoint_gives_weights_but_does_not_resume(tmp_path):
    weights = {"net.0.weight": torch.ones(2, 2)}
    path = _save(tmp_path, "pl.ckpt", {"epoch": 0, "global_step": 8, "state_dict": weights,
                                       "pytorch-lightning_version": "2.6.6"})
    assert torch.equal(load_weights_checkpoint(path)["state_dict"]["net.0.weight"],
                       torch.ones(2, 2))
    with pytest.raises(UsageError, match=r"is a pytorch-lightning checkpoint \(Lightning "
                       r"2\.6\.6\), not a lightdsl one") as error:
        load_checkpoint(path)
    assert "evaluate, predict, export and plot read its weights" in error.value.hint


def test_the_weights_loader_wants_a_state_dict_of_tensors(tmp_path):
    plain = _save(tmp_path, "plain.ckpt", {"state_dict": {"w": torch.zeros(1)}})
    assert list(load_weights_checkpoint(plain)["state_dict"]) == ["w"]
    with pytest.raises(UsageError, match="not a lightdsl checkpoint"):
        load_checkpoint(plain)
    for value in ({"weights": {"w": torch.zeros(1)}}, {"state_dict": {"w": 1.0}}, [1, 2]):
        path = _save(tmp_path, "other.ckpt", value)
        with pytest.raises(UsageError, match="no state_dict of tensors"):
            load_weights_checkpoint(path)
