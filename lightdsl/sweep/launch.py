"""``lightdsl sweep``'s one call: the trials still missing, here or in worker processes."""

from __future__ import annotations

import sys
import time

from ..analysis import Analysis
from ..display import plural
from ..space import Space
from .engine import Sweep, SweepOptions
from .study import counted
from .workers import run_workers


def run_sweep(analysis: Analysis, space: Space, options: SweepOptions):
    """Run the trials still missing, in this process or ``options.jobs`` worker processes."""
    sweep = Sweep(analysis, space, options)
    started = time.perf_counter()
    study = sweep.study()
    left = sweep.remaining(study)
    print(f"sweep {space.name} of {analysis.source.path}: {plural(sweep.total, 'trial')}, "
          f"{left} to run; folder {sweep.folder}", file=sys.stderr, flush=True)
    tracking = sweep.tracking if left else None
    if tracking is not None:
        tracking.open(study)  # before the workers start: they all nest under this run
    status = "failed"
    try:
        if options.jobs <= 1 or left <= 1:
            sweep.run()
        else:
            run_workers(analysis.source.path, space.name, options, left)
        status = "success"
    except KeyboardInterrupt:
        status = "interrupted"
        print(stopped_message(sweep), file=sys.stderr, flush=True)
        raise
    finally:
        if tracking is not None:
            tracking.close(sweep.study(), status)
    elapsed = time.perf_counter() - started
    return sweep.study(), sweep.folder, elapsed


def stopped_message(sweep: Sweep) -> str:
    """What a Ctrl-C kept, and how to go on."""
    study = sweep.study()
    kept = sum(1 for t in study.get_trials(deepcopy=False) if counted(t))
    missing = sweep.remaining(study)
    then = f"`{sweep.command()}` runs the {missing} still missing" if missing \
        else "none is missing"
    return (f"Ctrl-C: the sweep stopped; {plural(kept, 'finished trial')} kept in "
            f"{sweep.folder} (a trial cut short does not count); {then}")
