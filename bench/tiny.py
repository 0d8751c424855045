"""Per-step overhead on a tiny model: the StatQuest net, 3 points, batch 1, 1,000 steps; and the
Python function calls each step makes, all and lightdsl's own (counted with sys.setprofile: the
calls of a 2,000-step run less those of a 1,000-step run, so that the set-up's calls cancel).
The counts are the steady number on a shared machine, where timings of a ~150 us step drift."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from .common import QUIET, Row, interleaved, paired_ratio

SPECS = Path(__file__).resolve().parents[1] / "specs"
STEPS = 1000


def hand_loop(steps: int = STEPS):
    doses, labels = torch.tensor([0.0, 0.5, 1.0]), torch.tensor([0.0, 1.0, 0.0])
    weights = {k: torch.tensor(v) for k, v in
               {"w00": 1.7, "b00": -0.85, "w01": -40.8, "w10": 12.6, "b10": 0.0, "w11": 2.7}.items()}
    final_bias = torch.nn.Parameter(torch.tensor(0.0))
    opt = torch.optim.SGD([final_bias], lr=0.01)

    def forward(dose):
        w = weights
        top = F.relu(dose * w["w00"] + w["b00"]) * w["w01"]
        bottom = F.relu(dose * w["w10"] + w["b10"]) * w["w11"]
        return F.relu(top + bottom + final_bias)

    def run():
        for step in range(steps):
            i = step % 3
            loss = ((forward(doses[i:i + 1]) - labels[i:i + 1]) ** 2).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return run


def lightdsl_steps(logs: Path, steps: int = STEPS):
    import lightdsl

    text = re.sub(r"\n\s*lr_find\(.*\)", "", (SPECS / "statquest.lit").read_text())
    spec = logs / "statquest.lit"  # the shipped spec without its learning-rate search
    spec.write_text(text)
    experiment = lightdsl.load(str(spec), overrides=["optimizer=sgd(lr = 0.01)", "max_epochs=-1",
                                                     f"max_steps={steps}",
                                                     "log_every_n_steps=1000"])
    experiment.module  # noqa: B018

    def run():
        experiment.fit(default_root_dir=str(logs), **QUIET)
    return run


def python_calls(fn) -> tuple[int, int]:
    """How many Python functions ``fn()`` calls (C functions not counted), and how many of
    them are lightdsl's own (its package's and its generated forward's)."""
    calls = own = 0
    package = str(Path(__file__).resolve().parents[1] / "lightdsl")

    def profile(frame, event, arg):
        nonlocal calls, own
        if event == "call":
            calls += 1
            own += frame.f_code.co_filename.startswith((package, "<lightdsl forward"))

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls, own


def calls_per_step(make) -> tuple[float, float]:
    """Python calls per training step of the runs ``make(steps)`` builds (set-up cancelled),
    all of them and lightdsl's own."""
    one, two = make(STEPS), make(2 * STEPS)
    one(), two()  # warm-up: first calls import and cache
    (all_one, own_one), (all_two, own_two) = python_calls(one), python_calls(two)
    return (all_two - all_one) / STEPS, (own_two - own_one) / STEPS


def run(repeats: int = 15) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        cases = {"hand-written loop": hand_loop,
                 "lightdsl train (spec)": lambda steps=STEPS: lightdsl_steps(Path(folder), steps)}
        timings = interleaved({name: make() for name, make in cases.items()}, repeats)
        calls = {name: calls_per_step(make) for name, make in cases.items()}
    base = timings["hand-written loop"][1]
    rows = []
    for name, (seconds, samples) in timings.items():
        per_step_us = seconds / STEPS * 1e6
        total, own = calls[name]
        mine = f" ({own:.0f} lightdsl's own)" if own else ""
        rows.append(Row("Tiny net, 1,000 steps", name, seconds, "hand-written loop",
                        paired_ratio(samples, base), "<= 1.1" if name.startswith("lightdsl") else None,
                        note=f"{per_step_us:.0f} us/step, {total:.0f} Python calls/step{mine}",
                        samples=samples))
    return rows
