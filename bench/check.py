"""What `lightdsl check` costs (issue 18 item 1): start-up and time per layer.

- Whole-process CPU time (user + system of the child) of `lightdsl check specs/*.lit`, with
  lightdsl's bytecode cache and without one (run with PYTHONDONTWRITEBYTECODE=1: what a fresh
  CI checkout pays), interleaved with `python -c "import lark"`, the floor of any checker
  built on lark; ratios to it. Each runs from a copy of the package in a temporary folder.
- Parse + check CPU time of a generated 2,000-layer spec, per layer (best of several).

    python -m bench check                        # this checkout
    python bench/check.py --before /work/main    # this checkout against another, interleaved
    python bench/check.py --before aa8a797       # ... or against a commit of this repository
    python bench/check.py --imports 25           # the modules that cost check's start-up most

The second and third forms print without touching bench/results.*.
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Row
from bench.scaling import generated_spec

ROOT = Path(__file__).resolve().parents[1]
LARK = 'python -c "import lark"'
LAYERS = 2_000
PER_LAYER = """
import sys, time
try:
    from lightdsl.frontend.analysis import analyze_text
except ImportError:  # a later layout
    from lightdsl.analysis import analyze_text
text = open(sys.argv[1]).read()
assert analyze_text(text).ok  # the parser is built and first-use costs are paid here
best = float("inf")
for _ in range(int(sys.argv[2])):
    started = time.process_time()
    analyze_text(text)
    best = min(best, time.process_time() - started)
print(best)
"""


def cpu_seconds(args: list[str], cwd: str, env: dict | None = None) -> float:
    """User + system CPU time of one child process (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{args[:4]} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def interleaved_cpu(cases: dict, repeats: int) -> dict[str, tuple[float, list[float]]]:
    """Run the cases round-robin (machine noise hits them alike); median CPU time of each."""
    for run in cases.values():
        run()  # warm-up: bytecode and lark's grammar cache written, files in the page cache
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            samples[name].append(run())
    return {name: (statistics.median(s), s) for name, s in samples.items()}


def copy_of(root: Path, folder: Path) -> Path:
    """``root``'s package and grammar copied to ``folder``, without bytecode (so that no
    run writes into the checkouts measured)."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(root / "lightdsl", folder / "lightdsl", ignore=skip)
    shutil.copytree(root / "grammar", folder / "grammar")
    return folder


def start_up_cases(label: str, root: Path, folder: Path) -> dict:
    """The two `check specs/*.lit` processes of checkout ``root``: one with a bytecode cache
    (its warm-up writes it), one run with PYTHONDONTWRITEBYTECODE=1 that never has one."""
    specs = sorted(glob.glob(str(root / "specs" / "*.lit")))
    command = [sys.executable, "-m", "lightdsl", "check", "-q", *specs]
    cached, bare = (str(copy_of(root, folder / kind)) for kind in ("cached", "bare"))
    writes = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    never = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return {f"{label}lightdsl check specs/*.lit": lambda: cpu_seconds(command, cached, writes),
            f"{label}the same, no bytecode cache": lambda: cpu_seconds(command, bare, never)}


def per_layer_seconds(root: Path, spec: Path, repeats: int) -> float:
    """Best parse + check CPU time of ``spec`` with checkout ``root``'s lightdsl."""
    result = subprocess.run([sys.executable, "-c", PER_LAYER, str(spec), str(repeats)],
                            cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"per-layer timing failed in {root}:\n{result.stderr[-2000:]}")
    return float(result.stdout.split()[-1])


def exported(revision: str, folder: Path) -> Path:
    """``revision`` of this repository's package, grammar and specs, in ``folder``."""
    folder.mkdir()
    archive = subprocess.run(["git", "archive", revision, "lightdsl", "grammar", "specs"],
                             cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run(repeats: int = 9, before: str | None = None) -> list[Row]:
    """The rows of this checkout and, given ``before`` (a checkout's folder or a git revision
    of this one), of that code as well."""
    with tempfile.TemporaryDirectory() as tmp:
        roots = {"": ROOT}
        if before:
            roots["before: "] = Path(before).resolve() if Path(before).is_dir() else \
                exported(before, Path(tmp) / "before")
        cases = {LARK: lambda: cpu_seconds([sys.executable, "-c", "import lark"], tmp)}
        for index, (label, root) in enumerate(roots.items()):
            cases.update(start_up_cases(label, root, Path(tmp) / f"copy{index}"))
        timings = interleaved_cpu(cases, repeats)
        spec = Path(tmp) / "generated.lit"
        spec.write_text(generated_spec(LAYERS))
        layer: dict[str, list[float]] = {label: [] for label in roots}
        for _ in range(3):  # round-robin, as the start-up cases
            for label, root in roots.items():
                layer[label].append(per_layer_seconds(root, spec, 5))
    return _start_up_rows(timings) + _layer_rows(layer)


def _start_up_rows(timings: dict) -> list[Row]:
    group, lark = "Check start-up (CPU, whole process)", timings[LARK][0]
    rows = [Row(group, name, t, LARK, t / lark, None if name.startswith("before") else "< 0.25 s",
                samples=s) for name, (t, s) in timings.items() if name != LARK]
    return rows + [Row(group, LARK, lark, samples=timings[LARK][1])]


def _layer_rows(layer: dict) -> list[Row]:
    group = f"Check per layer ({LAYERS:,} layers, CPU)"
    best = {label: min(times) for label, times in layer.items()}
    rows = []
    for label, seconds in best.items():
        compared = not label and "before: " in best
        rows.append(Row(group, f"{label}parse + check", seconds,
                        "before: parse + check" if compared else None,
                        seconds / best["before: "] if compared else None,
                        "<= 0.70 (30% less)" if compared else None,
                        note=f"{seconds / LAYERS * 1e6:.1f} us/layer", samples=layer[label]))
    return rows


def import_times(root: Path, folder: Path, cached: bool, repeats: int) -> dict[str, tuple]:
    """Each module `check specs/*.lit` imports: (self, cumulative) import time in seconds
    (``python -X importtime``, best of ``repeats``), with or without a bytecode cache."""
    specs = sorted(glob.glob(str(root / "specs" / "*.lit")))
    command = [sys.executable, "-X", "importtime", "-m", "lightdsl", "check", "-q", *specs]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if not cached:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    cwd = copy_of(root, folder)
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)  # cache written
    best: dict[str, tuple] = {}
    for _ in range(repeats):
        stderr = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                                check=False).stderr
        for line in stderr.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                own, total, name = line[len("import time:"):].split("|")
                old = best.get(name.strip(), (float("inf"), float("inf")))
                best[name.strip()] = (min(old[0], int(own) / 1e6), min(old[1], int(total) / 1e6))
    return best


def imports_table(top: int, repeats: int) -> str:
    """The ``top`` modules by self import time, with and without a bytecode cache."""
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for cached in (True, False):
            times = import_times(ROOT, Path(tmp) / str(cached), cached, repeats)
            label = "with a bytecode cache" if cached else "no bytecode cache"
            ours = sum(own for name, (own, _) in times.items() if name.startswith("lightdsl"))
            total = sum(own for own, _ in times.values())
            lines.append(f"{label}: {len(times)} modules, self times sum to "
                         f"{total * 1e3:.1f} ms, lightdsl's {ours * 1e3:.1f} ms")
            lines += ["| self (ms) | cumulative (ms) | module |", "|---:|---:|---|"]
            ranked = sorted(times.items(), key=lambda item: -item[1][0])[:top]
            lines += [f"| {own * 1e3:.2f} | {total * 1e3:.2f} | {name} |"
                      for name, (own, total) in ranked] + [""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="another checkout's folder, or a git revision of this "
                        "one, to compare with")
    parser.add_argument("--repeats", type=int, default=9, help="processes per case")
    parser.add_argument("--imports", type=int, metavar="N", help="instead: the N modules "
                        "whose import costs check most (python -X importtime, best of "
                        "--repeats)")
    args = parser.parse_args(argv)
    if args.imports:
        print(imports_table(args.imports, args.repeats))
        return 0
    from bench.__main__ import table

    print(table(run(args.repeats, args.before)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
