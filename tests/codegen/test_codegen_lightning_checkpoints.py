"""Checkpoints both ways between lightdsl and the Lightning script of ``lightdsl codegen --target
lightning``, with the real pytorch-lightning.

lightdsl -> Lightning: ``load_from_checkpoint`` gives the same predictions; ``main(ckpt_path=)``
resumes at the next epoch and step with the optimizer's and scheduler's state, to the same
weights as an uninterrupted run of the script (from a mid-epoch checkpoint: the same position,
while the data of that epoch starts again, as Lightning does with any non-resumable loader).
Lightning -> lightdsl: evaluate, predict and export take a Lightning checkpoint's weights (the
same metrics as Lightning's validate); another model's checkpoint is refused by name.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

import lightdsl
from lightdsl.cli import main
from lightdsl.deploy import load_trained

from ..helpers.scripts import ROOT, load_script, write_script
from .test_codegen_train import MLP_SPEC, mlp_spec  # noqa: F401 - the fixture

pl = pytest.importorskip("pytorch_lightning")

QUIET = {"enable_progress_bar": False, "enable_model_summary": False}
PL_QUIET = {**QUIET, "logger": False, "enable_checkpointing": False}


class Positions(pl.Callback):
    """(epoch, batch index, global step) at the first training batch after each (re)start
    and at each epoch's start."""

    def __init__(self):
        self.seen = []

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if not self.seen or batch_idx == 0:
            self.seen.append((trainer.current_epoch, batch_idx, trainer.global_step))


def _iris_folder(root):
    """iris_csv.lit and its data, with the Lightning script beside the spec (where the script
    and the spec resolve the data alike)."""
    shutil.copy(ROOT / "specs" / "iris_csv.lit", root)
    (root / "data").mkdir()
    shutil.copy(ROOT / "specs" / "data" / "iris_like.csv", root / "data")
    shutil.copy(ROOT / "specs" / "statquest.lit", root)
    write_script(root / "iris_csv.lit", root / "iris_pl.py", target="lightning")
    return root


def _lightdsl_last(spec, root, seed=None, **overrides):
    """Train ``spec`` with lightdsl; its experiment and last.ckpt."""
    experiment = lightdsl.load(str(spec))
    if seed is not None:
        torch.manual_seed(seed)  # as the generated main() seeds before building the model
    experiment.module  # noqa: B018 - build it now, after seeding
    result = experiment.fit(default_root_dir=str(root / "ll"), logger=None, **QUIET,
                            **overrides)
    return experiment, result.last_checkpoint


# ---- lightdsl -> Lightning ----

def test_load_from_checkpoint_takes_a_lightdsl_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(_iris_folder(tmp_path))
    experiment, last = _lightdsl_last(tmp_path / "iris_csv.lit", tmp_path, max_epochs=2)
    script = load_script(tmp_path / "iris_pl.py")
    model = script.IrisNet.load_from_checkpoint(last)  # KeyError before lightdsl wrote its keys
    assert dict(model.hparams) == {"features": 4, "hidden": 16, "classes": 3}
    inputs = experiment.data.val.inputs
    model.eval()
    experiment.module.eval()
    with torch.no_grad():
        assert torch.equal(model(inputs), experiment.module(inputs))


KEYWORD_SPEC = """
model Kw(lambda = 3, class = 2, in = 0.5) {
    hidden = linear(4, lambda)
    out = linear(lambda, class)
    forward(x) {
        return out(tanh(hidden(x))) * in
    }
}
data d {
    inputs = [[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.5, 0.2], [1.0, 1.0, 1.0, 1.0], [2.0, 0.1, 0.3, 0.0]]
    labels = [0, 1, 1, 0]
    batch_size = 2
}
train {
    model = Kw(lambda = 5, in = 2.0)
    data = d
    loss = cross_entropy
    optimizer = sgd(lr = 0.1)
    max_epochs = 1
    seed = 1
}
"""
# the spec's values, under the names of the script's constructor arguments
KEYWORD_HPARAMS = {"lambda_": 5, "class_": 2, "in_": 2.0}


@pytest.fixture
def keyword_folder(tmp_path, monkeypatch):
    """A spec whose hyperparameters are Python keywords (lambda sizes a layer, in only scales
    the output: a checkpoint loaded with its default would predict otherwise, silently), and
    its Lightning script."""
    (tmp_path / "kw.lit").write_text(KEYWORD_SPEC, encoding="utf-8")
    write_script(tmp_path / "kw.lit", tmp_path / "kw_pl.py", target="lightning")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_load_from_checkpoint_takes_keyword_hyperparameters_from_lightdsl(keyword_folder):
    experiment, last = _lightdsl_last(keyword_folder / "kw.lit", keyword_folder)
    assert torch.load(last, weights_only=False)["hyper_parameters"] == KEYWORD_HPARAMS
    script = load_script(keyword_folder / "kw_pl.py")
    model = script.Kw.load_from_checkpoint(last)  # before: built with lambda_=3, a size error
    assert dict(model.hparams) == KEYWORD_HPARAMS
    inputs = experiment.data.train.inputs
    model.eval()
    experiment.module.eval()
    with torch.no_grad():
        assert torch.equal(model(inputs), experiment.module(inputs))


def test_the_scripts_own_checkpoint_loads_with_keyword_hyperparameters(keyword_folder):
    script = load_script(keyword_folder / "kw_pl.py")
    trained = script.main(default_root_dir=str(keyword_folder / "pl"), logger=False, **QUIET)
    # before: forward read self.hparams["in"], a KeyError: Lightning keys them "in_"
    ckpt = trained.trainer.checkpoint_callback.best_model_path
    model = script.Kw.load_from_checkpoint(ckpt)
    assert dict(model.hparams) == KEYWORD_HPARAMS
    inputs = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5]])
    model.eval()
    trained.eval()
    with torch.no_grad():
        assert torch.equal(model(inputs), trained(inputs))


def test_the_lightning_script_resumes_a_lightdsl_checkpoint_exactly(mlp_spec, tmp_path,  # noqa: F811
                                                                    monkeypatch):
    """SGD with momentum, a step scheduler and gradient accumulation: 2 epochs in lightdsl,
    the other 2 in Lightning, equal to 4 in Lightning."""
    monkeypatch.chdir(tmp_path)
    _, last = _lightdsl_last(mlp_spec, tmp_path, seed=7, max_epochs=2)
    script = load_script(write_script(mlp_spec, tmp_path / "mlp_pl.py", target="lightning"))
    resumed, straight = Positions(), Positions()
    model = script.main(ckpt_path=last, callbacks=[resumed], **PL_QUIET)
    reference = script.main(callbacks=[straight], **PL_QUIET)
    # 49 training samples in batches of 8: 7 batches, 4 optimizer steps an epoch
    assert straight.seen == [(0, 0, 0), (1, 0, 4), (2, 0, 8), (3, 0, 12)]
    assert resumed.seen == straight.seen[2:]  # the next epoch, at the checkpoint's step
    assert model.trainer.optimizers[0].param_groups[0]["lr"] == 0.025  # the scheduler's state
    for name, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name


def test_a_mid_epoch_lightdsl_checkpoint_resumes_at_its_position(mlp_spec, tmp_path,  # noqa: F811
                                                                 monkeypatch):
    """Stopped by max_steps after 6 steps (batch 4 of epoch 1): Lightning continues at that
    batch and step (its loader replays the epoch's data from the start: it warns so)."""
    monkeypatch.chdir(tmp_path)
    _, last = _lightdsl_last(mlp_spec, tmp_path, seed=7, max_steps=6)
    script = load_script(write_script(mlp_spec, tmp_path / "mlp_pl.py", target="lightning"))
    positions = Positions()
    with pytest.warns(UserWarning, match="dataloader is not resumable"):
        model = script.main(ckpt_path=last, callbacks=[positions], **PL_QUIET)
    assert positions.seen == [(1, 4, 6), (2, 0, 8), (3, 0, 12)]
    assert model.trainer.global_step == 16


# ---- Lightning -> lightdsl ----

@pytest.fixture(scope="module")
def lightning_ckpt(tmp_path_factory):
    """The iris Lightning script trained for one epoch: (folder, checkpoint, model, the
    metrics of Lightning's validate)."""
    root = _iris_folder(tmp_path_factory.mktemp("iris_pl"))
    script = load_script(root / "iris_pl.py")
    pl.seed_everything(script.SEED)
    model, data = script.IrisNet(), script.IrisData()
    trainer = pl.Trainer(max_epochs=1, default_root_dir=str(root / "pl"), logger=False, **QUIET)
    trainer.fit(model, datamodule=data)
    metrics = trainer.validate(model, datamodule=data, verbose=False)[0]
    return root, trainer.checkpoint_callback.best_model_path, model, metrics


def test_evaluate_gives_lightnings_validation_metrics(lightning_ckpt, capsys, monkeypatch):
    root, ckpt, _, expected = lightning_ckpt
    monkeypatch.chdir(root)
    code = main(["evaluate", "iris_csv.lit", "--ckpt", ckpt, "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err  # before: "not a lightdsl checkpoint"
    assert "written by pytorch-lightning 2." in err and "epoch 0, step 8" in err
    val = json.loads(out)["metrics"]["val"]
    assert val["samples"] == 60
    assert val["loss"] == pytest.approx(expected["val_loss"], rel=1e-6)
    assert val["accuracy"] == pytest.approx(expected["val_accuracy"], abs=1e-7)


def test_predict_and_export_take_a_lightning_checkpoints_weights(lightning_ckpt, capsys,
                                                                  monkeypatch):
    root, ckpt, model, _ = lightning_ckpt
    monkeypatch.chdir(root)
    trained = load_trained("iris_csv.lit", ckpt)
    inputs = trained.data.val.inputs
    model.eval()
    with torch.no_grad():
        assert torch.equal(trained.module(inputs), model(inputs))
    lines = (root / "data" / "iris_like.csv").read_text().splitlines()
    (root / "new.csv").write_text("\n".join(lines[:6]) + "\n")
    assert main(["predict", "iris_csv.lit", "--ckpt", ckpt, "-i", "new.csv"]) == 0
    assert main(["export", "iris_csv.lit", "--ckpt", ckpt, "--format", "torchscript",
                 "-o", "iris.pt"]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines()[0].startswith("prediction,prob_")
    assert "outputs checked against the checkpoint" in printed.out
    assert "Traceback" not in printed.err


@pytest.mark.parametrize(("spec", "names"), [
    ("statquest.lit", ["w00 is missing from the checkpoint",
                       "the checkpoint has layers.0.weight, this model does not"]),
    ("wide.lit", ["layers.0.weight is [16, 4] in the checkpoint, [32, 4] here"]),
])
def test_another_architectures_lightning_checkpoint_is_refused_by_name(
        lightning_ckpt, capsys, monkeypatch, spec, names):
    root, ckpt, _, _ = lightning_ckpt
    monkeypatch.chdir(root)
    text = (root / "iris_csv.lit").read_text()
    (root / "wide.lit").write_text(text.replace("hidden = 16", "hidden = 32"))
    code = main(["evaluate", spec, "--ckpt", ckpt])
    err = capsys.readouterr().err
    assert code == 2
    assert f"does not fit the model of {spec}: " in err
    for name in names:
        assert name in err
    assert "Traceback" not in err


def test_resuming_a_lightning_checkpoint_in_lightdsl_says_why_not(lightning_ckpt, capsys,
                                                                   monkeypatch):
    root, ckpt, _, _ = lightning_ckpt
    monkeypatch.chdir(root)
    code = main(["train", "iris_csv.lit", "--resume", ckpt])
    err = capsys.readouterr().err
    assert code == 2
    assert "is a pytorch-lightning checkpoint (Lightning 2." in err
    assert "evaluate, predict, export and plot read its weights" in err
    assert "Traceback" not in err
