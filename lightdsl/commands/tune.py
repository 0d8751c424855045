"""``lightdsl tune-batch-size spec.lit``: the largest batch size that fits in memory.

Power scaling as Lightning's ``scale_batch_size(mode="power")``: a few steps at each size,
doubling until out of memory, the dataset's size, or the limits below.
"""

from __future__ import annotations

from ._args import add_spec_arguments


def register(commands) -> None:
    parser = commands.add_parser("tune-batch-size", help="find the largest batch size that fits",
                                 description=__doc__.split("\n\n")[0])
    add_spec_arguments(parser)
    parser.add_argument("--steps-per-trial", type=int, default=3, metavar="N",
                        help="optimizer steps per batch size (default 3)")
    parser.add_argument("--init-val", type=int, default=2, metavar="N",
                        help="first batch size tried (default 2)")
    parser.add_argument("--max-trials", type=int, default=25, metavar="N",
                        help="at most this many sizes (default 25)")
    parser.add_argument("--max-val", type=int, default=8192, metavar="N",
                        help="never above this size (default 8192)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ..api import load
    from ..errors import UsageError
    from ..tuner import scale_batch_size

    for option in ("steps_per_trial", "init_val", "max_trials", "max_val"):
        if getattr(args, option) < 1:
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag} {getattr(args, option)}: must be at least 1")
    experiment = load(args.spec, args.run_name, args.overrides)
    experiment.require_training("tune-batch-size")
    print(f"lightdsl: batch-size search on run {experiment.name!r} of {args.spec}", flush=True)
    size = scale_batch_size(experiment.module, experiment.trainer_kwargs(),
                            steps_per_trial=args.steps_per_trial, init_val=args.init_val,
                            max_trials=args.max_trials, max_val=args.max_val)
    print(f"batch size: {size}")
    print(f"  use it with: --set data.batch_size={size}, or `batch_size = {size}` in the spec")
    return 0
