"""Run the benchmarks side by side and print one table of medians and ratios.

    python -m bench                 # everything
    python -m bench tiny startup    # some groups: mnist, tiny, startup, scaling, check, gpu, lsp,
                                    # metrics, compile, sweep
    python -m bench --repeats 5

Writes bench/results.json and bench/results.md (the table the README shows).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
GROUPS = {"mnist": "mnist_epoch", "tiny": "tiny", "startup": "startup", "scaling": "scaling",
          "check": "check", "gpu": "gpu", "lsp": "lsp_hover",
          "metrics": "metrics", "compile": "compile",
          "sweep": "sweep"}


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return (f"{platform.system()} {cpu}, {os.cpu_count()} CPU cores{gpu}, Python "
            f"{platform.python_version()}, torch {torch.__version__}")


def table(rows) -> str:
    lines = ["| group | case | median (s) | vs | ratio | target | note |",
             "|---|---|---:|---|---:|---|---|"]
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        lines.append(f"| {r.group} | {r.case} | {r.seconds:.4f} | {r.baseline or ''} | {ratio} "
                     f"| {r.target or ''} | {r.note} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", choices=[*GROUPS, []], default=[],
                        help="groups to run (default: all)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per case")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    import torch

    # Denormal floats (which some training trajectories produce in Adam's state) make CPU
    # arithmetic many times slower; which case meets them depends on its random data order,
    # not on its overhead. Flushing them to zero makes the cases compare what they should.
    torch.set_flush_denormal(True)
    rows = []
    for group in args.groups or list(GROUPS):
        module = importlib.import_module(f"bench.{GROUPS[group]}")
        print(f"running {group} ...", file=sys.stderr, flush=True)
        rows += module.run(**({"repeats": args.repeats} if args.repeats else {}))
    print(f"Machine: {machine()}\n\n{table(rows)}\n")
    rows = merged_with_saved(rows)
    (HERE / "results.md").write_text(f"Machine: {machine()}\n\n{table(rows)}\n")
    (HERE / "results.json").write_text(json.dumps(
        {"machine": machine(), "rows": [asdict(r) for r in rows]}, indent=2))
    return 0


def merged_with_saved(rows: list) -> list:
    """The saved results with the groups just run replaced (in place, else appended): running
    one group must not drop the others' numbers from results.json and results.md."""
    from bench.common import Row

    try:
        saved = [Row(**r) for r in json.loads((HERE / "results.json").read_text())["rows"]]
    except (OSError, ValueError, KeyError, TypeError):
        return rows
    fresh = {r.group for r in rows}
    merged, placed = [], set()
    for row in saved:
        if row.group not in fresh:
            merged.append(row)
        elif row.group not in placed:
            placed.add(row.group)
            merged += [r for r in rows if r.group == row.group]
    return merged + [r for r in rows if r.group not in placed]


if __name__ == "__main__":
    sys.exit(main())
