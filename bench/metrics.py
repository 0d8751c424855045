"""What ``metrics = [accuracy]`` costs: per-step time against the same spec without metrics
(interleaved), and the peak memory of one MNIST-shaped epoch (60,000 samples, the MLP of
mnist_epoch.py) against the hand-written loop, each in a fresh process (with the number of scipy
modules the run imported: torchmetrics pulls scipy.signal in).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import QUIET, Row, interleaved, paired_ratio, write_mnist_idx
from .mnist_epoch import SPEC

ROOT = Path(__file__).resolve().parents[1]
STEPS = 200  # batches of 100 per timed run


def _spec(root: Path, metrics: str) -> str:
    text = SPEC.replace("ROOT", str(root)).replace("max_epochs = 1", "max_epochs = 1\n    "
                                                     f"log_every_n_steps = 50{metrics}")
    return text


def _steps(spec: Path, logs: Path):
    """``fit`` over STEPS batches (data loaded once, the model built afresh each run)."""
    import lightdsl
    from lightdsl.compile.module import SpecModule

    experiment = lightdsl.load(str(spec), overrides=[f"max_steps={STEPS}"])
    experiment.data  # noqa: B018  (loads and normalizes the data set once)

    def run():
        module = SpecModule(experiment.run, experiment.data)
        experiment.trainer(default_root_dir=str(logs), **QUIET).fit(module)
    return run


def step_rows(folder: Path, repeats: int) -> list[Row]:
    root = write_mnist_idx(folder, n_train=STEPS * 100, n_test=100)
    cases = {}
    for name, metrics in (("without metrics", ""), ("metrics = [accuracy]",
                                                    "\n    metrics = [accuracy]")):
        spec = folder / f"{len(cases)}.lit"
        spec.write_text(_spec(root, metrics))
        cases[name] = _steps(spec, folder / "logs")
    timings = interleaved(cases, repeats)
    base = timings["without metrics"][1]
    return [Row("Metrics", f"MNIST MLP, {STEPS} steps, {name}", seconds, "without metrics",
                paired_ratio(samples, base), "<= 1.05" if name != "without metrics" else None,
                note=f"{seconds / STEPS * 1e6:.0f} us/step", samples=samples)
            for name, (seconds, samples) in timings.items()]


HAND = """
import resource, sys, torch, torch.nn.functional as F
from lightdsl.data import load_mnist
raw = load_mnist(root=sys.argv[1])
x, y = raw.inputs.float().div_(255).sub_(0.1307).div_(0.3081), raw.labels  # in place: lean
del raw
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 500), torch.nn.ReLU(),
                          torch.nn.Linear(500, 10))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
perm, correct = torch.randperm(len(x)), 0
for start in range(0, len(x), 100):
    index = perm[start:start + 100]
    out = net(x[index])
    loss = F.cross_entropy(out, y[index])
    correct += int((out.argmax(-1) == y[index]).sum())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
"""
OURS = """
import resource, sys, lightdsl
experiment = lightdsl.load(sys.argv[1])
experiment.fit(default_root_dir=sys.argv[2], logger=None, enable_progress_bar=False,
               enable_model_summary=False, enable_checkpointing=False)
"""
# the peak of this process's own memory: VmHWM belongs to the address space exec made, whereas
# ru_maxrss survives exec on Linux and would report the (larger) bench process that forked us
REPORT = """
import json

def peak_mib():
    try:
        with open("/proc/self/status") as status:
            line = next(l for l in status if l.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

print(json.dumps({"rss_mib": peak_mib(),
                  "scipy": sum(m.split(".")[0] == "scipy" for m in sys.modules),
                  "torchmetrics": "torchmetrics" in sys.modules}))
"""


def _peak(code: str, *args) -> dict:
    done = subprocess.run([sys.executable, "-c", code + REPORT, *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_rows(folder: Path) -> list[Row]:
    root = write_mnist_idx(folder / "mnist")
    spec = folder / "mnist.lit"
    spec.write_text(_spec(root, "\n    metrics = [accuracy]"))
    hand, ours = _peak(HAND, root), _peak(OURS, spec, folder / "logs")
    note = "peak RSS in MiB (the seconds column); {} scipy modules, torchmetrics {}"
    return [Row("Metrics", "peak RSS, MNIST epoch, hand-written loop", hand["rss_mib"],
                note=note.format(hand["scipy"], hand["torchmetrics"])),
            Row("Metrics", "peak RSS, MNIST epoch, lightdsl, metrics = [accuracy]",
                ours["rss_mib"], "hand-written loop", ours["rss_mib"] / hand["rss_mib"], "<= 1.1",
                note=note.format(ours["scipy"], ours["torchmetrics"]))]


def run(repeats: int = 15) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        return step_rows(Path(folder), repeats) + memory_rows(Path(folder))
