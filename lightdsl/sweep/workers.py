"""``--jobs K``: K worker processes on the sweep's one storage (the journal file, or the
``--storage`` URL), each running its share of the trials still missing."""

from __future__ import annotations

import multiprocessing
import sys
from dataclasses import asdict

from ..errors import LightdslError, TrainingError

INTERRUPTED = 130  # a worker's exit code after a Ctrl-C, as the command's


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
    if any(process.exitcode == INTERRUPTED for process in processes):
        raise KeyboardInterrupt  # a Ctrl-C sent to the workers alone
    failed = [i + 1 for i, process in enumerate(processes) if process.exitcode != 0]
    if failed:
        raise TrainingError(f"sweep worker {', '.join(map(str, failed))} stopped with an "
                            "error (above); the trials that finished are kept",
                            hint="run the sweep again to run the trials still missing")


def _worker(path: str, sweep: str, options: dict, share: int) -> None:
    """One worker process: its share of the trials; a Ctrl-C or a lightdsl error ends it
    with an exit code and a message, not multiprocessing's traceback."""
    from ..analysis import analyze_file
    from .engine import Sweep, SweepOptions

    try:
        analysis = analyze_file(path)
        Sweep(analysis, analysis.sweeps[sweep], SweepOptions(**options)).run(
            workers_share=share)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)  # its trial is recorded interrupted; the parent says the rest
    except LightdslError as error:
        print(error.report(), file=sys.stderr, flush=True)
        sys.exit(error.exit_code)
