"""Fine-tuning in training: a warm start beats the same model from scratch, frozen parts and
their batch norms stay as loaded, lr_mult and unfreeze get their own parameter groups, and a
resume across the unfreeze epoch continues exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import lightdsl

QUIET = {"enable_progress_bar": False, "enable_model_summary": False}


def _fit(spec: Path, ckpt_path=None, **overrides):
    """(the trainer, its result): the finetune run of ``spec``, as ``lightdsl train`` fits it."""
    experiment = lightdsl.load(str(spec))
    experiment.require_training()
    trainer = experiment.trainer(default_root_dir=str(spec.parent / "logs"), **QUIET,
                                 **overrides)
    return trainer, trainer.fit(experiment.module, ckpt_path=ckpt_path)


def _without_init(folder: Path) -> Path:
    text = (folder / "spec.lit").read_text()
    scratch = re.sub(r"\n *init += weights\(.*?\)", "", text)
    assert scratch != text
    (folder / "scratch.lit").write_text(scratch)
    return folder / "scratch.lit"


def test_fine_tuned_model_beats_the_same_model_from_scratch(pretrained, capsys):
    _, tuned = _fit(pretrained / "spec.lit", max_epochs=5)
    report = capsys.readouterr().err
    assert "warning: the model: loaded 9 of the model's 11 tensors" in report
    assert "head.weight" in report  # the pre-trained head: 10 classes, not 3
    _, scratch = _fit(_without_init(pretrained), max_epochs=5)
    assert tuned.global_step == scratch.global_step == 15
    # measured: about 0.93 against 0.74 (val loss 0.19 against 0.83)
    assert tuned.last_metrics["val_accuracy"] > scratch.last_metrics["val_accuracy"] + 0.1
    assert tuned.last_metrics["val_loss"] < scratch.last_metrics["val_loss"] / 2


def test_frozen_body_and_its_batch_norm_stay_as_loaded_until_unfrozen(pretrained):
    saved = torch.load(pretrained / "data" / "digits_pretrained.ckpt", weights_only=False)
    before = {k.removeprefix("backbone."): v for k, v in saved["state_dict"].items()
              if k.startswith("backbone.")}
    trainer, _ = _fit(pretrained / "spec.lit", max_epochs=2)  # unfreeze is at epoch 6
    module = trainer.run.module
    body = module.backbone.state_dict()
    assert body.keys() == before.keys()  # weights, biases and the batch norm's statistics
    for name, value in body.items():
        assert torch.equal(value.cpu(), before[name]), name
    assert module.head.weight.requires_grad
    assert not any(p.requires_grad for p in module.backbone.parameters())


def test_unfrozen_body_trains_in_its_own_group_at_lr_mult(pretrained):
    trainer, result = _fit(pretrained / "spec.lit", max_epochs=7)  # epoch 6 unfreezes
    optimizer = trainer.run.opt.optimizer
    assert [len(g["params"]) for g in optimizer.param_groups] == [2, 6]  # head | body
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.01, 0.001])
    assert optimizer.param_groups[1]["part"] == "backbone"
    body = trainer.run.module.backbone
    assert all(p.requires_grad for p in body.parameters())
    state = optimizer.state
    assert all(p in state for p in body.parameters())  # Adam stepped the body after epoch 6
    assert result.global_step == 21


def test_resume_across_the_unfreeze_epoch_continues_exactly(pretrained):
    spec = pretrained / "spec.lit"
    _, whole = _fit(spec, max_epochs=8)
    _, part = _fit(spec, max_epochs=7)  # stops after epoch 6, the body unfrozen
    checkpoint = torch.load(part.last_checkpoint, weights_only=False)
    saved = checkpoint["optimizer_states"][0]  # as Lightning keeps it
    assert [len(g["params"]) for g in saved["param_groups"]] == [2, 6]
    assert len(saved["state"]) == 8  # the body's Adam moments are saved
    resumed, result = _fit(spec, max_epochs=8, ckpt_path=part.last_checkpoint)
    assert result.global_step == whole.global_step == 24
    final = torch.load(whole.last_checkpoint, weights_only=False)["state_dict"]
    for name, value in resumed.run.module.state_dict().items():
        assert torch.allclose(value.cpu(), final[name], atol=1e-6), name


def test_resume_from_before_the_unfreeze_epoch_unfreezes_on_time(pretrained):
    spec = pretrained / "spec.lit"
    _, whole = _fit(spec, max_epochs=8)
    _, part = _fit(spec, max_epochs=3)  # body still frozen in the checkpoint
    resumed, _result = _fit(spec, max_epochs=8, ckpt_path=part.last_checkpoint)
    final = torch.load(whole.last_checkpoint, weights_only=False)["state_dict"]
    for name, value in resumed.run.module.state_dict().items():
        assert torch.allclose(value.cpu(), final[name], atol=1e-6), name


def test_summary_shows_trainable_and_frozen_counts_by_part(pretrained, capsys):
    from lightdsl.trainer.summary import model_summary

    experiment = lightdsl.load(str(pretrained / "spec.lit"))
    capsys.readouterr()
    text = model_summary(experiment.module, width=100)
    # Body(32): 64*32 + 32 + 2*32 (batch norm) + 32*32 + 32 = 3,200; the head 32*3 + 3 = 99
    assert "By part: backbone 0 trainable, 3,200 frozen; head 99 trainable, 0 frozen" in text
    assert "Trainable params: 99" in text


def test_init_on_a_used_model_loads_only_that_part(pretrained, capsys):
    text = (pretrained / "spec.lit").read_text()
    text = text.replace("backbone = Body(32) frozen lr_mult(0.1)",
                        'backbone = Body(32) frozen init weights("data/digits_pretrained.ckpt",'
                        ' map = [["backbone.", ""]])')
    text = re.sub(r"\n *init += weights\(.*?\)", "", text)
    (pretrained / "part.lit").write_text(text)
    module = lightdsl.load(str(pretrained / "part.lit")).module
    assert "FineTuned.backbone: loaded 9 of the model's 9 tensors" in capsys.readouterr().err
    saved = torch.load(pretrained / "data" / "digits_pretrained.ckpt", weights_only=False)
    assert torch.equal(module.backbone.layers[1].weight,
                       saved["state_dict"]["backbone.layers.1.weight"])
    assert module.head.weight.requires_grad  # the new head: fresh, trainable


def test_strict_init_refuses_a_file_that_does_not_fit_at_the_spec_line(pretrained):
    """check sees it (the file's tensors against the model's, without torch); the build,
    which a spec loaded from Python reaches with the same facts, refuses it at the same line."""
    import dataclasses

    from lightdsl.analysis import SpecError
    from lightdsl.compile.finetune import warm_start
    from lightdsl.errors import LightdslError

    text = (pretrained / "spec.lit").read_text().replace(
        'weights("data/digits_pretrained.ckpt")', 'weights("data/digits_pretrained.ckpt", '
        "strict = true)")
    (pretrained / "strict.lit").write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "strict = true" in t)
    where = f"{pretrained / 'strict.lit'}:{line}:26"
    with pytest.raises(SpecError) as checked:
        lightdsl.load(str(pretrained / "strict.lit"))
    assert f"{where}: error: init weights for model FineTuned" in str(checked.value)
    assert "head.weight" in str(checked.value)
    experiment = lightdsl.load(str(pretrained / "spec.lit"))  # not strict: loads what fits
    init = dataclasses.replace(experiment.run.init, strict=True, location=where)
    with pytest.raises(LightdslError) as caught:
        warm_start(experiment.module, init)
    assert caught.value.location == where
    assert "head.weight" in caught.value.message


def test_lr_find_unfreezes_as_the_run_does_and_puts_the_freezing_back(pretrained):
    """A part unfrozen at epoch 0 trains in the search (its losses are those of a search with
    the part trainable from the start), and the module comes back frozen as it was built."""
    from lightdsl.tuner.lr_find import lr_find

    text = (pretrained / "spec.lit").read_text().replace("at_epoch = 6", "at_epoch = 0")
    (pretrained / "early.lit").write_text(text)
    experiment = lightdsl.load(str(pretrained / "early.lit"))
    module = experiment.module
    options = {"min_lr": 0.001, "max_lr": 0.1, "num_training": 6, "early_stop_threshold": None}
    found = lr_find(module, experiment.trainer_kwargs(), **options)
    assert not any(p.requires_grad for p in module.backbone.parameters())
    assert "backbone" in module.frozen_parts
    module.set_part_frozen("backbone", False)  # trainable from the start, no unfreeze
    kwargs = {**experiment.trainer_kwargs(), "callbacks": []}
    assert lr_find(module, kwargs, **options).losses == pytest.approx(found.losses, rel=1e-6)
