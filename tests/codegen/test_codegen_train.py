"""Running a generated script trains to the same numbers as `lightdsl train` (same seed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lightdsl

from ..helpers.scripts import ROOT, load_script, write_script

QUIET = {"enable_progress_bar": False, "enable_model_summary": False,
         "enable_checkpointing": False}

MLP_SPEC = """
model Mlp(hidden = 12) {
    layers {
        linear(4, hidden)
        tanh()
        linear(hidden, 3)
    }
}

data blobs {
    source = npz("blobs.npz")
    val = split(0.2, seed = 3)
    normalize(auto)
    batch_size = 8
}

train {
    model = Mlp(hidden = 10)
    data = blobs
    loss = cross_entropy
    metrics = [accuracy]
    optimizer = sgd(lr = 0.1, momentum = 0.9)
    scheduler = step(step_size = 2, gamma = 0.5)
    max_epochs = 4
    accumulate_grad_batches = 2
    gradient_clip_val = 0.5
    seed = 7
}
"""


def _lightdsl_params(spec, seed, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    experiment = lightdsl.load(str(spec))
    torch.manual_seed(seed)  # the generated main() seeds before building the model, too
    experiment.module  # noqa: B018 - build it now, after seeding
    experiment.fit(logger=None, **QUIET)
    return {k: v.detach().clone() for k, v in experiment.module.state_dict().items()}


def _assert_same(expected, model):
    actual = model.state_dict()
    assert list(actual) == list(expected)
    for name, value in expected.items():
        torch.testing.assert_close(actual[name].cpu(), value.cpu(), rtol=1e-6, atol=1e-6)


@pytest.fixture
def mlp_spec(tmp_path):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 4)) * 3
    y = rng.integers(0, 3, size=61)
    x = (centers[y] + rng.normal(size=(61, 4))).astype(np.float32)
    np.savez(tmp_path / "blobs.npz", x=x, y=y)
    spec = tmp_path / "mlp.lit"
    spec.write_text(MLP_SPEC, encoding="utf-8")
    return spec


@pytest.fixture(scope="module")
def statquest_params(tmp_path_factory):
    """lightdsl's weights after the shipped StatQuest spec (lr_find, then 2000 epochs; seed 42),
    trained once for both scripts that must reach them."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _lightdsl_params(ROOT / "specs" / "statquest.lit", 42, monkeypatch,
                                tmp_path_factory.mktemp("statquest"))


def test_statquest_script_reaches_lightdsls_final_bias(tmp_path, monkeypatch, statquest_params):
    spec = ROOT / "specs" / "statquest.lit"
    expected = statquest_params
    monkeypatch.chdir(tmp_path)
    script = load_script(write_script(spec, tmp_path / "statquest.py"))
    model = script.main()
    _assert_same(expected, model)
    assert abs(float(model.final_bias) - (-16.01)) < 1e-2


def test_mlp_script_matches_lightdsl(mlp_spec, tmp_path, monkeypatch):
    expected = _lightdsl_params(mlp_spec, 7, monkeypatch, tmp_path)
    script = load_script(write_script(mlp_spec, tmp_path / "mlp.py"))
    _assert_same(expected, script.main())


@pytest.mark.parametrize("which", ["statquest", "mlp"])
def test_lightning_script_matches_lightdsl(which, mlp_spec, tmp_path, monkeypatch, request):
    pytest.importorskip("pytorch_lightning")
    if which == "statquest":
        spec, expected = ROOT / "specs" / "statquest.lit", request.getfixturevalue(
            "statquest_params")
        monkeypatch.chdir(tmp_path)
    else:
        spec, expected = mlp_spec, _lightdsl_params(mlp_spec, 7, monkeypatch, tmp_path)
    script = load_script(write_script(spec, tmp_path / f"{which}_pl.py", target="lightning"))
    model = script.main(logger=False, **QUIET)
    _assert_same(expected, model)
