"""A sweep's cost per trial: `lightdsl sweep --trials 3` (one process: Optuna's journal, each
point checked again, the trials run one after another) against 3 separate `lightdsl train`
calls of the same points (each paying its own process start), timed interleaved.

The points are a grid over the hidden width (8, 16, 32) of a small iris net, 2 epochs each,
so both sides train the same three models; the sweep's per-trial overhead is what it spends
beyond the training, which the rows show as its time per trial against one train call's."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from itertools import count
from pathlib import Path

from .common import Row, interleaved, paired_ratio

ROOT = Path(__file__).resolve().parents[1]
GROUP = "Sweep (whole process)"
WIDTHS = (8, 16, 32)
EPOCHS = 2
SPEC = """
model IrisNet(features = 4, hidden = 16, classes = 3) {
    layers {
        linear(features, hidden)
        relu()
        linear(hidden, classes)
    }
}

data iris {
    source     = csv("iris_like.csv", label = "species")
    val        = split(0.2, seed = 0)
    standardize()
    batch_size = 32
}

train {
    model      = IrisNet()
    data       = iris
    loss       = cross_entropy
    metrics    = [accuracy]
    optimizer  = adam(lr = 0.001)
    max_epochs = %(epochs)d
    seed       = 0
}

sweep {
    hidden  = choice(%(widths)s)
    sampler = grid
}
"""


def _command(args, cwd):
    def run():
        done = subprocess.run(args, cwd=cwd, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{args} failed:\n{done.stderr[-2000:]}")
    return run


def _cases(folder: Path) -> dict:
    lightdsl = [sys.executable, "-m", "lightdsl"]
    fresh = count()  # a new sweep folder each time, else the sweep would have nothing left

    def sweep():
        _command([*lightdsl, "sweep", "iris.lit", "--trials", str(len(WIDTHS)), "--dir",
                  f"sweeps/{next(fresh)}"], folder)()

    trains = [_command([*lightdsl, "train", "iris.lit", "--set",
                        f"train.model=IrisNet(hidden = {w})", "--default-root-dir", "trains"],
                       folder) for w in WIDTHS]

    def separate():
        for train in trains:
            train()

    in_one = _command([sys.executable, "-c", IN_ONE_PROCESS, *map(str, WIDTHS)], folder)
    return {f"lightdsl sweep --trials {len(WIDTHS)}": sweep,
            f"{len(WIDTHS)} x lightdsl train (same points)": separate,
            f"{len(WIDTHS)} fits in one process (same points)": in_one}


# the sweep's training without the sweep: the same fits, as the sweep runs them (no progress
# bar or summary), in one process; what the sweep spends beyond this is its own overhead
IN_ONE_PROCESS = """
import sys, lightdsl
for width in sys.argv[1:]:
    experiment = lightdsl.load("iris.lit", overrides=[f"train.model=IrisNet(hidden = {width})"])
    experiment.fit(default_root_dir="fits", enable_progress_bar=False,
                   enable_model_summary=False)
"""


def run(repeats: int = 3) -> list[Row]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        shutil.copy(ROOT / "specs" / "data" / "iris_like.csv", folder)
        (folder / "iris.lit").write_text(SPEC % {"epochs": EPOCHS,
                                                 "widths": ", ".join(map(str, WIDTHS))})
        timings = interleaved(_cases(folder), repeats)
    (sweep, sweep_s), (trains, trains_s), (fits, fits_s) = timings.values()
    n = len(WIDTHS)
    overhead = (sweep - fits) / n
    note = f"iris, hidden in {WIDTHS}, {EPOCHS} epochs each"
    return [
        Row(GROUP, f"lightdsl sweep --trials {n}", sweep, f"{n} x lightdsl train",
            paired_ratio(sweep_s, trains_s), note=note, samples=sweep_s),
        Row(GROUP, f"{n} x lightdsl train (same points)", trains, note=note, samples=trains_s),
        Row(GROUP, "sweep: per trial", sweep / n, "train: per call", sweep / trains,
            note="the sweep's process start shared by its trials"),
        Row(GROUP, "train: per call", trains / n, note="a process start each"),
        Row(GROUP, f"{n} fits in one process (same points)", fits, note=note, samples=fits_s),
        Row(GROUP, "sweep's own overhead per trial", overhead, "a 5-second trial", overhead / 5,
            "< 0.1", note="(sweep - the same fits in one process) / trials: Optuna, the "
            "journal, each point checked again, the trial's files"),
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row.case}: {row.seconds:.3f} s"
              + (f" ({row.ratio:.2f} x {row.baseline})" if row.ratio else "")
              + f"  samples {[round(s, 3) for s in row.samples]}")
