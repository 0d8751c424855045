"""``--jobs K``: K worker processes on the sweep's one storage (the journal file, or the
``--storage`` URL), each running its share of the trials still missing."""

from __future__ import annotations

import multiprocessing
from dataclasses import asdict


def run_workers(path: str, sweep: str, options, left: int) -> None:
    jobs = min(options.jobs, left)
    shares = [left // jobs + (1 if i < left % jobs else 0) for i in range(jobs)]
    context = multiprocessing.get_context("spawn")  # no forked torch or lark state
    processes = [context.Process(target=_worker, args=(
        path, sweep, {**asdict(options), "worker": index + 1}, share))
        for index, share in enumerate(shares)]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join()
    except KeyboardInterrupt:  # each worker got the Ctrl-C too: let it record its trial
        for process in processes:
            process.join(timeout=30)
        raise


def _worker(path: str, sweep: str, options: dict, share: int) -> None:
    from ..analysis import analyze_file
    from .engine import Sweep, SweepOptions

    analysis = analyze_file(path)
    Sweep(analysis, analysis.sweeps[sweep], SweepOptions(**options)).run(workers_share=share)
