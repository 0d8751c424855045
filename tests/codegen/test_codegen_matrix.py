"""Generated scripts run, and train as lightdsl does, across a matrix of train settings
(issue 11 item 16: onecycle and bf16-mixed + validation crashed the torch script; lr_find
without a suggestion set the lightning script's lr to None).

Each case mixes several settings, so that together they cover every scheduler, the CPU
precisions, validation on/off (with val_check_interval, limit_val_batches,
check_val_every_n_epoch), accumulation, clipping, lr_find with and without a suggestion,
max_steps, limit_train_batches and the callbacks. Data is tiny: a case trains in well under a
second. Every generated script runs; the torch script's weights must equal lightdsl's.
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
import torch

import lightdsl
from lightdsl.errors import UsageError

from ..helpers.scripts import load_script, ruff, write_script

QUIET = {"enable_progress_bar": False, "enable_model_summary": False}

ONECYCLE = "onecycle(max_lr = 0.5)"
CASES = {
    "onecycle-bf16-val": {"scheduler": ONECYCLE, "precision": '"bf16-mixed"', "val": True},
    "onecycle-accumulate-limit": {"scheduler": ONECYCLE, "accumulate_grad_batches": "2",
                                  "limit_train_batches": "0.5"},
    "onecycle-max-steps-64": {"scheduler": ONECYCLE, "precision": '"64-true"', "max_steps": "5",
                              "val": True},
    "cosine-clip-value-every-2": {"scheduler": "cosine(T_max = 2)", "gradient_clip_val": "0.3",
                                  "gradient_clip_algorithm": '"value"', "val": True,
                                  "check_val_every_n_epoch": "2", "max_epochs": "3"},
    "step-accumulate-val-interval": {"scheduler": "step(step_size = 1, gamma = 0.5)",
                                     "accumulate_grad_batches": "2", "val_check_interval": "2",
                                     "limit_val_batches": "1", "val": True,
                                     "callbacks": "[early_stopping(monitor = \"val_loss\", "
                                                  "patience = 1)]"},
    "val-fraction-checkpoint-bf16": {"val_check_interval": "0.5", "val": True,
                                     "precision": '"bf16-mixed"', "metrics": "[accuracy]",
                                     "callbacks": "[checkpoint(monitor = \"val_accuracy\", "
                                                  "mode = \"max\")]"},
    "early-stopping-train-metric": {"max_epochs": "4", "callbacks":
                                    "[early_stopping(monitor = \"train_loss_epoch\", "
                                    "patience = 1, min_delta = 10.0)]"},
    "lr-find-suggestion-val": {"lr_find": "lr_find(min_lr = 0.001, max_lr = 1.0, "
                               "num_training = 16, early_stop_threshold = none)",
                               "max_epochs": "3", "val": True},
    "lr-find-no-suggestion-onecycle": {"lr_find": "lr_find(num_training = 6)",
                                       "scheduler": ONECYCLE, "gradient_clip_val": "0.5"},
    "lr-find-accumulate-max-steps": {"lr_find": "lr_find(min_lr = 0.001, num_training = 14, "
                                     "early_stop_threshold = none)", "max_epochs": "4",
                                     "accumulate_grad_batches": "2", "max_steps": "13"},
    "forever-until-max-steps": {"max_epochs": "-1", "max_steps": "4",
                                "limit_train_batches": "3", "val": True,
                                "scheduler": "step(step_size = 1)"},
    "fast-dev-run-64": {"fast_dev_run": "true", "val": True, "precision": '"64"'},
    # lightdsl skips lr_find under fast_dev_run: the lightning script crashed (Lightning's
    # finder returns None), the torch script ran it
    "fast-dev-run-lr-find": {"fast_dev_run": "2", "val": True, "lr_find": "lr_find(min_lr = "
                             "0.001, num_training = 8, early_stop_threshold = none)"},
    "unseeded": {"seed": None, "val": True, "scheduler": ONECYCLE},
    # on the CPU, as bf16-mixed (issue 16 item 11): the script too
    "16-mixed-on-the-cpu": {"precision": '"16-mixed"', "val": True, "accelerator": "cpu"},
}


def _spec(case: dict) -> str:
    """The spec text of one case: a small MLP with dropout on 24 inline samples."""
    rng = np.random.default_rng(0)
    x = np.round(rng.normal(size=(24, 4)), 3).tolist()
    y = rng.integers(0, 3, size=24).tolist()
    val = "    val = split(0.25, seed = 3)\n" if case.get("val") else ""
    settings = {"max_epochs": "2", "seed": "7", **case}
    lines = [f"    {key} = {value}" for key, value in settings.items()
             if key not in ("val", "lr_find") and value is not None]
    if "lr_find" in case:
        lines.append("    " + case["lr_find"])
    body = "\n".join(lines)
    return f"""
model Mlp(hidden = 8) {{
    layers {{
        linear(4, hidden)
        dropout(0.2)
        tanh()
        linear(hidden, 3)
    }}
}}

data blobs {{
    inputs = {x}
    labels = {y}
{val}    batch_size = 3
    shuffle = true
}}

train {{
    model = Mlp()
    data = blobs
    loss = cross_entropy
    optimizer = sgd(lr = 0.05, momentum = 0.9)
{body}
}}
"""


def _lightdsl_fit(spec, case, monkeypatch, tmp_path):
    """lightdsl's trained weights, its onecycle total_steps (None without onecycle) and the
    run's optimizer steps."""
    monkeypatch.chdir(tmp_path)
    experiment = lightdsl.load(str(spec))
    torch.manual_seed(7)  # the generated main() seeds before building the model, too
    experiment.module  # noqa: B018 - build it now, after seeding
    total = _onecycle_total(experiment.module)
    steps = _optimizer_steps(experiment.module, case)
    experiment.fit(logger=None, **QUIET)
    weights = {k: v.detach().clone() for k, v in experiment.module.state_dict().items()}
    return weights, total, steps


def _onecycle_total(module):
    config = module.configure_optimizers()
    scheduler = config["lr_scheduler"]["scheduler"] if isinstance(config, dict) else None
    return getattr(scheduler, "total_steps", None)


def _assert_same(expected: dict, model) -> None:
    actual = model.state_dict()
    assert list(actual) == list(expected)
    for name, value in expected.items():
        torch.testing.assert_close(actual[name].cpu().to(value.dtype), value.cpu(),
                                   rtol=1e-6, atol=1e-6)


def _optimizer_steps(module, case: dict) -> int:
    """The run's optimizer steps as Lightning counts them (estimated_stepping_batches)."""
    batches = len(module.train_dataloader())
    limit = ast.literal_eval(case.get("limit_train_batches", "1.0"))
    batches = min(limit, batches) if isinstance(limit, int) else int(batches * limit)
    epochs, max_steps = int(case.get("max_epochs", "2")), int(case.get("max_steps", "-1"))
    if epochs == -1:
        return max_steps
    steps = math.ceil(batches / int(case.get("accumulate_grad_batches", "1"))) * epochs
    return steps if max_steps == -1 else min(steps, max_steps)


@pytest.mark.parametrize("target", ["torch", "lightning"])
@pytest.mark.parametrize("name", list(CASES))
def test_script_runs_and_matches_lightdsl(name, target, tmp_path, monkeypatch):
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    case = CASES[name]
    spec = tmp_path / f"{name.replace('-', '_')}.lit"
    spec.write_text(_spec(case), encoding="utf-8")
    out = tmp_path / f"generated_{target}.py"
    script = load_script(write_script(spec, out, target=target), f"{name}_{target}")
    monkeypatch.chdir(tmp_path)
    if target == "torch":
        model = script.main()  # no NameError, no crash
    else:
        checkpointing = "checkpoint(" in case.get("callbacks", "")
        model = script.main(logger=False, enable_checkpointing=checkpointing, **QUIET)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    if "lr_find" in case and target == "lightning":
        assert isinstance(model.learning_rate, float)  # never None
    if case.get("seed", "7") is None:
        return  # unseeded: each run differs, by design
    expected, lightdsl_total, steps = _lightdsl_fit(spec, case, monkeypatch, tmp_path)
    if lightdsl_total is not None and lightdsl_total != steps:
        pytest.xfail(f"lightdsl's onecycle total_steps is {lightdsl_total}, the run's optimizer "
                     f"steps are {steps} (issue 11 item 4, fixed in the trainer)")
    _assert_same(expected, model)




def test_every_matrix_script_is_ruff_clean(tmp_path):
    """What the matrix generates is formatted and lint-clean too (one ruff run for all)."""
    for name, case in CASES.items():
        spec = tmp_path / f"{name.replace('-', '_')}.lit"
        spec.write_text(_spec(case), encoding="utf-8")
        for target in ("torch", "lightning"):
            write_script(spec, tmp_path / f"{spec.stem}_{target}.py", target=target)
    formatted = ruff("format", "--isolated", "--diff", ".", cwd=tmp_path)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    checked = ruff("check", "--isolated", ".", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_onecycle_without_an_end_is_refused_at_codegen(tmp_path):
    spec = tmp_path / "forever.lit"
    spec.write_text(_spec({"scheduler": ONECYCLE, "max_epochs": "-1"}), encoding="utf-8")
    with pytest.raises(UsageError, match="onecycle needs total_steps when max_epochs = -1"):
        write_script(spec, tmp_path / "forever.py")
