"""``lightdsl sweep SPEC``: a hyperparameter search over the spec's ``sweep`` block (Optuna);
``lightdsl sweep show DIR``: its trials, the best one, and plots."""

from __future__ import annotations

import sys

from ..errors import UsageError


def register(commands) -> None:
    parser = commands.add_parser(
        "sweep", help="search hyperparameters (the spec's sweep block), or show a sweep",
        description="lightdsl sweep SPEC: run the trials of the spec's sweep block still "
        "missing (an interrupted sweep continues where it stopped). lightdsl sweep show DIR: "
        "the trials of a sweep folder, the best trial, and plots.")
    parser.add_argument("spec", metavar="SPEC|show", help="the spec file, or `show`")
    parser.add_argument("folder", nargs="?", metavar="DIR", help="with show: the sweep folder")
    parser.add_argument("--sweep", dest="sweep_name", metavar="NAME",
                        help="which sweep block (when the spec has several)")
    parser.add_argument("--trials", type=int, metavar="N", help="total trials (default: the "
                        "block's trials, the grid's size, or 20)")
    parser.add_argument("--jobs", type=int, default=1, metavar="K",
                        help="worker processes sharing the storage (default 1)")
    parser.add_argument("--storage", metavar="URL", help="an Optuna storage URL shared by "
                        "several machines (postgresql://...); default: a journal file in the "
                        "sweep folder")
    parser.add_argument("--dir", dest="sweep_dir", metavar="DIR",
                        help="the sweep folder (default <log root>/<spec>-sweep)")
    parser.add_argument("--verbose", action="store_true",
                        help="each trial's progress bar and summary")
    parser.add_argument("--no-plots", action="store_true", help="with show: no PNG plots")
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.spec == "show":
        if not args.folder:
            raise UsageError("lightdsl sweep show DIR: give the sweep folder")
        from ..sweep.show import show

        return show(args.folder, plots=not args.no_plots, storage=args.storage)
    if args.folder:
        raise UsageError(f"unexpected argument {args.folder!r} (lightdsl sweep SPEC [options])")
    if args.trials is not None and args.trials < 1 or args.jobs < 1:
        raise UsageError("--trials and --jobs must be 1 or more")
    from ..analysis import SpecError, analyze_file
    from ..sweep.engine import SweepOptions
    from ..sweep.launch import run_sweep
    from ..sweep.trials import choose_space

    try:
        analysis = analyze_file(args.spec)
    except OSError as error:
        raise UsageError(f"{args.spec}: cannot read: {error.strerror}") from None
    if not analysis.ok:
        raise SpecError(analysis)
    space = choose_space(analysis, args.sweep_name)
    options = SweepOptions(trials=args.trials, jobs=args.jobs, storage=args.storage,
                           folder=args.sweep_dir, verbose=args.verbose)
    study, folder, elapsed = run_sweep(analysis, space, options)
    from ..sweep.show import summary

    print(summary(study, space.monitor), file=sys.stderr)
    print(f"{elapsed:.1f}s; lightdsl sweep show {folder}", file=sys.stderr)
    return 0
