"""Generated scripts fine-tune as lightdsl does: the warm start, the frozen parts and their
batch norms, lr_mult's parameter group and the unfreeze at its epoch give the same weights as
``lightdsl train``, in the torch script and in the Lightning one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import lightdsl
from lightdsl.codegen import generate_file
from tests.helpers.scripts import load_script, write_script

SPEC = Path(__file__).resolve().parents[2] / "specs" / "finetune_digits.lit"
QUIET = {"enable_progress_bar": False, "enable_model_summary": False,
         "enable_checkpointing": False}


def _lightdsl_weights(spec: Path, monkeypatch) -> dict[str, torch.Tensor]:
    monkeypatch.chdir(spec.parent)
    experiment = lightdsl.load(str(spec))
    experiment.fit(logger=None, **QUIET)
    return {k: v.detach().clone() for k, v in experiment.module.state_dict().items()}


def _assert_same(expected: dict, model) -> None:
    actual = model.state_dict()
    assert list(actual) == list(expected)
    for name, value in expected.items():
        torch.testing.assert_close(actual[name].cpu(), value, rtol=1e-6, atol=1e-6, msg=name)


@pytest.fixture(scope="module")
def lightdsl_weights(pretrained):
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _lightdsl_weights(pretrained / "spec.lit", monkeypatch)


def test_torch_script_fine_tunes_to_lightdsls_weights(pretrained, lightdsl_weights, tmp_path,
                                                      monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    script = load_script(write_script(pretrained / "spec.lit", tmp_path / "ft.py"))
    model = script.main(out=str(tmp_path / "run"))
    assert "warm start: loaded 9 of the model's 11 tensors" in (err := capsys.readouterr().err)
    assert "left out head.weight, head.bias" in err  # 10 classes in the file, 3 here
    _assert_same(lightdsl_weights, model)
    saved = torch.load(pretrained / "data" / "digits_pretrained.ckpt", weights_only=True)
    # the body trained after its unfreeze at epoch 6 (at a tenth of the lr), batch norm too
    body = model.backbone.layers[1].weight
    assert not torch.equal(body, saved["state_dict"]["backbone.layers.1.weight"])
    assert body.requires_grad


def test_lightning_script_fine_tunes_to_lightdsls_weights(pretrained, lightdsl_weights,
                                                          tmp_path, monkeypatch):
    pytest.importorskip("pytorch_lightning")
    monkeypatch.chdir(tmp_path)
    script = load_script(write_script(pretrained / "spec.lit", tmp_path / "ft_pl.py",
                                      target="lightning"))
    model = script.main(logger=False, **QUIET)
    _assert_same(lightdsl_weights, model)


LR_FIND = "lr_find(min_lr = 0.001, max_lr = 0.1, num_training = 20, early_stop_threshold = none)"


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_lr_find_over_parameter_groups_is_lightdsls(pretrained, tmp_path, monkeypatch, target):
    """lr_find moves every group's lr (the body's, trained from epoch 0 here, too), and
    clipping sees every group's parameters: the script's range test records lightdsl's losses; the run then trains with the suggestion
    and the part's multiplier to lightdsl's weights. (Lightning's finder stops at max_epochs,
    lightdsl's does not: 7 epochs of 3 steps hold the 20 steps.)"""
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    text = (pretrained / "spec.lit").read_text().replace(
        "max_epochs = 10", f"max_epochs = 7\n    gradient_clip_val = 0.5\n    {LR_FIND}").replace(
        "at_epoch = 6", "at_epoch = 0")
    spec = pretrained / f"lr_find_{target}.lit"
    spec.write_text(text)
    monkeypatch.chdir(spec.parent)
    experiment = lightdsl.load(str(spec))
    experiment.fit(logger=None, **QUIET)
    expected = {k: v.detach().clone() for k, v in experiment.module.state_dict().items()}
    monkeypatch.chdir(tmp_path)
    script = load_script(write_script(spec, tmp_path / "lr.py", target=target))
    if target == "lightning":
        _assert_same(expected, script.main(logger=False, **QUIET))
        return
    tests = []

    class Recorded(script.RangeTest):  # the script's range test, kept for its losses
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            tests.append(self)

    monkeypatch.setattr(script, "RangeTest", Recorded)
    _assert_same(expected, script.main(out=str(tmp_path / "run")))
    assert len(tests) == 1 and len(tests[0].losses) == 20
    assert tests[0].losses == pytest.approx(experiment.lr_finder.losses, rel=1e-6)


def test_frozen_parts_stay_as_loaded_before_the_unfreeze(pretrained, tmp_path, monkeypatch):
    """Two epochs, before the unfreeze at 6: the body and its batch norm's statistics are the
    file's, the head trained."""
    text = (pretrained / "spec.lit").read_text().replace("max_epochs = 10", "max_epochs = 2")
    (pretrained / "short.lit").write_text(text)
    monkeypatch.chdir(tmp_path)
    script = load_script(write_script(pretrained / "short.lit", tmp_path / "short.py"))
    model = script.main(out=str(tmp_path / "run"))
    saved = torch.load(pretrained / "data" / "digits_pretrained.ckpt", weights_only=True)
    for name, value in model.backbone.state_dict().items():
        assert torch.equal(value.cpu(), saved["state_dict"][f"backbone.{name}"]), name
    assert not any(p.requires_grad for p in model.backbone.parameters())


def test_a_part_warm_start_with_a_map_is_in_the_model_class(pretrained, tmp_path, capsys):
    text = (pretrained / "spec.lit").read_text().replace(
        "backbone = Body(32) frozen lr_mult(0.1)",
        'backbone = Body(32) frozen init weights("data/digits_pretrained.ckpt", '
        'map = [["backbone.", ""]])')
    text = "\n".join(line for line in text.splitlines() if "init       =" not in line)
    (pretrained / "part.lit").write_text(text)
    generated = generate_file(str(pretrained / "part.lit"), output=str(tmp_path / "part.py"))
    assert 'key_map={"backbone.": ""}' in generated.text
    assert generated.notes == ()
    (tmp_path / "part.py").write_text(generated.text)
    model = load_script(tmp_path / "part.py").FineTuned()  # the class loads its part
    assert "loaded 9 of the model's 9 tensors" in capsys.readouterr().err
    expected = lightdsl.load(str(pretrained / "part.lit")).module
    _assert_same({k: v for k, v in expected.state_dict().items() if k.startswith("backbone.")},
                 _Part(model))


class _Part:
    """The backbone's tensors under the names the whole model gives them."""

    def __init__(self, model):
        self.model = model

    def state_dict(self):
        return {f"backbone.{k}": v for k, v in self.model.backbone.state_dict().items()}


def test_a_strict_warm_start_that_does_not_fit_is_one_line(pretrained, tmp_path, capsys):
    from lightdsl.runtime.finetune import warm_start

    with pytest.raises(SystemExit) as ended:
        warm_start(torch.nn.Linear(3, 3), pretrained / "data" / "digits_pretrained.ckpt",
                   strict=True)
    assert ended.value.code == 2
    assert "does not fit the model: missing ['weight', 'bias']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        warm_start(torch.nn.Linear(3, 3), tmp_path / "none.ckpt")
    assert "weights file not found" in capsys.readouterr().err


def test_a_lightning_checkpoints_model_prefix_is_dropped(tmp_path, capsys):
    from lightdsl.runtime.finetune import warm_start

    source = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    torch.save({"state_dict": {f"model.{k}": v for k, v in source.state_dict().items()},
                "pytorch-lightning_version": "2.6.0"}, tmp_path / "pl.ckpt")
    target = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    warm_start(target, tmp_path / "pl.ckpt")
    assert "loaded 4 of the model's 4 tensors" in capsys.readouterr().err
    _assert_same(source.state_dict(), target)


def test_a_run_without_fine_tuning_has_no_fine_tuning_code():
    generated = generate_file(str(SPEC.parent / "digits_pretrain.lit"))
    assert "requires_grad_" not in generated.text
    assert "def param_groups" not in generated.text and "warm_start(" not in generated.text


NESTED = """
model Body {
    first  = linear(4, 8) frozen
    second = linear(8, 8)
    forward(x) {
        return relu(second(relu(first(x))))
    }
}

model Net {
    backbone = Body() frozen
    head     = linear(8, 3)
    forward(x) {
        return head(backbone(x))
    }
}

data iris {
    source     = csv("iris_like.csv", label = "species")
    standardize()
    batch_size = 16
}

train {
    model      = Net()
    data       = iris
    loss       = cross_entropy
    optimizer  = adam(lr = 0.01)
    max_epochs = 3
    seed       = 0
    unfreeze(backbone, at_epoch = 1)
}
"""


def test_unfreezing_a_used_model_keeps_the_part_it_froze_itself(tmp_path, monkeypatch):
    """backbone = Body() frozen, Body's own first layer frozen: unfreeze(backbone) trains
    backbone.second and leaves backbone.first as built, in lightdsl and in the script."""
    import shutil

    shutil.copy(SPEC.parent / "data" / "iris_like.csv", tmp_path)
    spec = tmp_path / "nested.lit"
    spec.write_text(NESTED)
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    experiment = lightdsl.load(str(spec))
    built = {k: v.detach().clone() for k, v in experiment.module.state_dict().items()}
    experiment.fit(logger=None, **QUIET)
    trained = experiment.module
    assert torch.equal(trained.backbone.first.weight, built["backbone.first.weight"])
    assert not trained.backbone.first.weight.requires_grad
    assert not torch.equal(trained.backbone.second.weight, built["backbone.second.weight"])
    script = load_script(write_script(spec, tmp_path / "nested.py"))
    _assert_same({k: v.detach() for k, v in trained.state_dict().items()},
                 script.main(out=str(tmp_path / "run")))


@pytest.mark.parametrize("epochs", [4, 7])
def test_the_lightning_script_resumes_a_fine_tuning_checkpoint_across_the_unfreeze(
        pretrained, lightdsl_weights, tmp_path, monkeypatch, epochs):
    """lightdsl trains 4 epochs (before the unfreeze at 6) or 7 (after it), the Lightning script
    resumes its last.ckpt, optimizer groups and all, to the weights of lightdsl's 10 epochs."""
    pytest.importorskip("pytorch_lightning")
    monkeypatch.chdir(pretrained)
    experiment = lightdsl.load(str(pretrained / "spec.lit"))
    result = experiment.fit(default_root_dir=str(tmp_path / "logs"), logger=None,
                            max_epochs=epochs, **{**QUIET, "enable_checkpointing": True})
    monkeypatch.chdir(tmp_path)
    script = load_script(write_script(pretrained / "spec.lit", tmp_path / "ft_pl.py",
                                      target="lightning"))
    model = script.main(ckpt_path=result.last_checkpoint, logger=False, **QUIET)
    assert model.trainer.current_epoch == 10
    _assert_same(lightdsl_weights, model)
