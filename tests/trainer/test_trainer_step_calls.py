"""The trainer's own Python work per step, counted (issue 18, item 4): on the StatQuest net
(batch 1, three batches an epoch) a step's cost is mostly Python calls, so a change that adds
calls to every step shows here as a number, not as noise in a timing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import lightdsl

SPECS = Path(__file__).resolve().parents[2] / "specs"
PACKAGE = str(Path(lightdsl.__file__).resolve().parent)
QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "logger": None,
         "enable_checkpointing": False, "num_sanity_val_steps": 0}


def _fits(tmp_path: Path):
    """``fit(steps)``: a fit of the StatQuest spec (without its learning-rate search)."""
    spec = tmp_path / "statquest.lit"
    spec.write_text(re.sub(r"\n\s*lr_find\(.*\)", "", (SPECS / "statquest.lit").read_text()))
    experiment = lightdsl.load(str(spec), overrides=["max_epochs=-1", "log_every_n_steps=1000"])
    experiment.module  # noqa: B018 - compiled before counting
    return lambda steps: lambda: experiment.fit(default_root_dir=str(tmp_path), max_steps=steps,
                                                **QUIET)


def _own_calls(fit) -> int:
    """Calls of lightdsl's functions (its package and its generated forward) during ``fit``."""
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += frame.f_code.co_filename.startswith((PACKAGE, "<lightdsl forward"))

    sys.setprofile(profile)
    try:
        fit()
    finally:
        sys.setprofile(None)
    return calls


def test_lightdsl_makes_at_most_32_python_calls_per_statquest_step(tmp_path):
    """Measured 68.7 before issue 18's per-step work, 34.7 after, 31 once an epoch set train
    mode only where it was off and the in-memory loader's batches came from one generator (a
    third of them are the epoch's, spread over its three steps). The set-up's calls cancel:
    300 steps less 150."""
    fit = _fits(tmp_path)
    one, two = fit(150), fit(300)
    one(), two()  # warm-up: first calls import and cache
    per_step = (_own_calls(two) - _own_calls(one)) / 150
    assert 20 < per_step <= 32, per_step
