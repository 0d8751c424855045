"""Arguments shared by the commands that start from a spec, or from a spec and a trained
checkpoint (torch-free)."""

from __future__ import annotations

import sys

from ..errors import UsageError


def add_spec_arguments(parser, spec_help: str = "the .lit file") -> None:
    """The arguments every spec command shares: the file, --run and --set."""
    parser.add_argument("spec", help=spec_help)
    parser.add_argument("--run", dest="run_name", help="which train block (when the spec has "
                        "several)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a setting: train.max_epochs=5, "
                        "data.batch_size=64 (the block defaults to train); repeatable")


def add_checkpoint_args(parser) -> None:
    """The spec arguments plus --ckpt and the trial arguments."""
    add_spec_arguments(parser, "the .lit file the checkpoint was trained from")
    add_trial_arguments(parser)
    parser.add_argument("--ckpt", required=True, metavar="last|best|PATH",
                        help="the checkpoint: a .ckpt path; `last`: the last.ckpt of the newest "
                        "version of this run's log folder that has one; `best`: the best "
                        "checkpoint that version recorded (by its monitor). The file used is "
                        "printed")


def add_trial_arguments(parser) -> None:
    """--trial N (a sweep's trial: its values applied, its run folder), --sweep, --sweep-dir."""
    parser.add_argument("--trial", type=int, metavar="N", help="trial N of the spec's sweep: "
                        "its values (trial_N/values.json) applied to the spec, and its run "
                        "folder <sweep folder>/trial_N for --ckpt last|best")
    parser.add_argument("--sweep", dest="sweep_name", metavar="NAME",
                        help="with --trial: which sweep block (when the spec has several)")
    parser.add_argument("--sweep-dir", dest="sweep_dir", metavar="DIR",
                        help="with --trial: the sweep folder (default, as lightdsl sweep: "
                        "<log root>/<spec>-sweep)")


def trial_from_args(args):
    """The :class:`~lightdsl.sweep.trials.TrialRun` ``--trial`` names, or None without it."""
    if getattr(args, "trial", None) is None:
        given = [flag for flag, value in (("--sweep", getattr(args, "sweep_name", None)),
                                          ("--sweep-dir", getattr(args, "sweep_dir", None)))
                 if value]
        if given:
            raise UsageError(f"{' and '.join(given)} go with --trial N")
        return None
    from ..analysis import analyze
    from ..frontend.source import SourceFile
    from ..sweep.trials import trial_run

    try:
        source = SourceFile.read(args.spec)
    except OSError as error:
        raise UsageError(f"{args.spec}: cannot read: {error.strerror or error}") from None
    trial = trial_run(analyze(source), args.trial, args.sweep_name, args.sweep_dir,
                      args.run_name, getattr(args, "overrides", None))
    shown = ", ".join(f"{k} = {v}" for k, v in trial.values.items()) or "no values"
    print(f"trial {trial.number} ({trial.folder}): {shown}", file=sys.stderr, flush=True)
    return trial


def experiment_from_args(args):
    """The Experiment of ``args``: the spec's run, or with --trial the trial's (its values
    applied, its checkpoints and logs in its trial folder)."""
    from ..api import Experiment, load

    trial = trial_from_args(args)
    if trial is None:
        return load(args.spec, args.run_name, args.overrides)
    experiment = Experiment(trial.analysis, trial.analysis.program.runs[trial.run])
    experiment.run_folder = str(trial.folder)
    return experiment


def load_from_args(args):
    """The spec built from ``args`` (with --trial: the trial's) with the checkpoint's
    weights."""
    from ..deploy.loading import trained_from

    return trained_from(experiment_from_args(args), args.ckpt)
