"""Generated scripts freeze what the spec freezes (batch norms kept in eval mode, as lightdsl
trains them) and name, as codegen notes, the fine-tuning they leave out."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lightdsl.codegen import generate_file
from tests.helpers.scripts import load_script

SPEC = Path(__file__).resolve().parents[2] / "specs" / "finetune_digits.lit"


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_frozen_parts_are_frozen_in_both_targets_and_the_rest_is_a_note(target):
    generated = generate_file(str(SPEC), target=target)
    assert "self.backbone.requires_grad_(False)" in generated.text
    assert "isinstance(module, nn.modules.batchnorm._BatchNorm)" in generated.text
    notes = "\n".join(generated.notes)
    assert "init weights(...) (warm starts of the model)" in notes
    assert "lr_mult of FineTuned.backbone" in notes
    assert "unfreeze (backbone at epoch 6): the script keeps these parts frozen" in notes


def test_a_run_without_fine_tuning_gets_no_such_note():
    generated = generate_file(str(SPEC.parent / "digits_pretrain.lit"))
    assert not [n for n in generated.notes if "init" in n or "unfreeze" in n]
    assert "requires_grad_" not in generated.text


def test_generated_model_keeps_frozen_batch_norm_statistics(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(generate_file(str(SPEC), output=str(path)).text)
    script = load_script(path)
    model = script.FineTuned()
    model.train()
    batch_norm = model.backbone.layers[2]
    before = batch_norm.running_mean.clone()
    model(torch.randn(8, 1, 8, 8) * 5 + 3)
    assert not batch_norm.training and torch.equal(batch_norm.running_mean, before)
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
